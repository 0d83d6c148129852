// TempIdStore: the durable record of every issued TempID, tempIDs.txt ("UserID TempID
// start expiry" per line, docs/ORIGINAL.md §2), with an in-memory index for lookups.
//
// Durability: the file is append-only. Issue()/Append() return only after the fdatasync
// that covers their line. Concurrent callers share syncs (group commit, as leveldb's log
// writer does): the first caller in the queue becomes the leader, writes every queued line
// with one Append and one Sync, and hands the shared result to the others. A failed write
// or sync leaves the file's tail unknown (docs/ARCHITECTURE.md, "Durability"), so the store then
// refuses every further write with kUnavailable until it is reopened; the records of the failed
// batch are removed from the index. The failed batch's bytes (half a line after ENOSPC)
// are cut off at once, back to the end of the last acknowledged record
// (FileSystem::Truncate, fsynced), so the file verifies after a clean stop; if that cut
// fails, the destructor tries it once more, and Open cuts a torn tail at the next start
// anyway. A TempID is reserved in the index before its write, so Lookup can see it a
// moment before Issue returns; no one holds that TempID yet.
//
// Start-up (Open) reads the file in chunks, never whole:
//  - LF or CRLF, blank lines and a missing final newline are accepted; appended lines use
//    the line end the file already uses (CRLF if its first line ends in CRLF, else LF). If
//    the last line is a valid record without a line end (the original's files), the next
//    append first completes it.
//  - A last line without a line end that does not parse is a torn write left by a crash:
//    it is reported in RecoveryReport and cut off (FileSystem::Truncate) back to the end
//    of the last complete line. Every complete line is kept.
//  - Any other malformed line stops start-up with an error naming the file and the line.
//  - A TempID that appears on several lines keeps its first record; later lines are
//    counted in RecoveryReport::duplicate_lines, ignored, and dropped by the next Compact.
//
// Compaction rewrites the file atomically without the records that expired more than
// `retention_seconds` ago. Writes wait for all of it (about 6 s for 10 million lines, see
// docs/BENCHMARKS.md) and the kept contents are held in memory for the rewrite; lookups
// keep working throughout. Run it at a quiet hour.
//
// Thread-safe: every method may be called from any thread. The FileSystem and Clock must
// outlive the store.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/protocol/tempid.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/tempid_index.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

struct TempIdStoreOptions {
  // Path of tempIDs.txt; created (mode 0600) when missing. Its directory must exist.
  std::string path;
  // How the file's timestamps are read and written (UTC unless configured otherwise).
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;
  // Compact() drops records whose expiry is older than now - retention (21 days, as real
  // BlueTrace keeps contact data). Must be >= 0.
  std::int64_t retention_seconds = 21 * 24 * 3600;
  // Longest accepted line (a real one is about 75 bytes); longer ones are errors.
  std::size_t max_line_bytes = 256;
  // A group-commit batch stops growing at this many bytes (more callers wait for the next).
  std::size_t max_batch_bytes = 1 << 20;
  // Issue() draws at most this many TempIDs before giving up on finding an unused one.
  int max_issue_attempts = 8;
};

// What Open found and repaired.
struct RecoveryReport {
  std::uint64_t records = 0;     // records in the index after loading
  std::uint64_t lines = 0;       // lines read, blank ones included
  std::uint64_t file_bytes = 0;  // size of the file as found
  std::uint64_t torn_bytes_removed = 0;
  std::string torn_tail_description;   // empty unless a torn tail was cut off
  std::uint64_t duplicate_lines = 0;   // lines whose TempID appeared on an earlier line
  bool missing_final_newline = false;  // the last line was valid but unterminated
  bool created = false;                // the file did not exist
};

struct CompactionStats {
  std::uint64_t records_kept = 0;
  std::uint64_t records_dropped = 0;     // expired before the cutoff
  std::uint64_t duplicates_dropped = 0;  // duplicate lines ignored at load time
  std::uint64_t bytes_before = 0;
  std::uint64_t bytes_after = 0;
  std::int64_t cutoff = 0;  // records with expiry < cutoff were dropped
};

// Counters since Open, for metrics and for tests of the batching.
struct TempIdStoreStats {
  std::uint64_t records_appended = 0;
  std::uint64_t syncs = 0;  // one per group-commit batch
  std::uint64_t sync_nanos_total = 0;
  std::uint64_t largest_batch = 0;  // records in the largest batch
  std::uint64_t compactions = 0;
};

class TempIdStore {
 public:
  // Loads (or creates) the file and builds the index; see the header comment for what is
  // accepted and repaired. Errors: the file cannot be read/created/truncated (kIoError,
  // ...), a malformed line other than a torn tail (kInvalidArgument naming the file and
  // line), a record outside the index limits (kOutOfRange), a negative retention.
  static util::Result<std::unique_ptr<TempIdStore>> Open(FileSystem& fs, util::Clock& clock,
                                                         TempIdStoreOptions options,
                                                         RecoveryReport* report = nullptr);

  TempIdStore(const TempIdStore&) = delete;
  TempIdStore& operator=(const TempIdStore&) = delete;
  // Closes the file; retries the cut of a failed batch if it failed (see above).
  ~TempIdStore();

  // Issues a fresh TempID for `user` valid over [start, expiry]: draws TempIDs from
  // `random` until one is unused (at most max_issue_attempts), records it durably and
  // returns it. Errors: kInvalidArgument for a record that would not read back identically
  // (bad user, expiry < start, years outside the file format); kResourceExhausted when no
  // unused TempID was drawn; the generator's error; kIoError when the write or sync fails;
  // kUnavailable once a write has failed.
  util::Result<protocol::TempIdRecord> Issue(std::string_view user, std::int64_t start,
                                             std::int64_t expiry, util::Random& random);

  // The check bluetrace-admin verify makes of a tempIDs.txt on disk, without opening a
  // store: every line, the last one included, is a valid record (a torn tail is a problem
  // here; Open would cut it off). Problems as "<file name> line <n>: <problem>"; none for
  // a missing file. Errors: the file cannot be read.
  static util::Result<std::vector<std::string>> VerifyFile(FileSystem& fs, const std::string& path,
                                                           protocol::TimeZoneMode mode);

  // Records a given record durably. kAlreadyExists when its TempID is known; otherwise the
  // errors of Issue().
  util::Status Append(const protocol::TempIdRecord& record);

  // The record of `id`, if known.
  std::optional<protocol::TempIdRecord> Lookup(const protocol::TempId& id) const;

  // Drops the records with expiry < now - retention_seconds from the file (atomic rewrite,
  // keeping the file's mode) and from the index. Writes wait meanwhile. On an error before
  // the rewrite the store is unchanged; if the append handle cannot be reopened after it,
  // the store turns read-only as after a failed write. kUnavailable once a write has failed.
  util::Result<CompactionStats> Compact();

  std::size_t size() const;
  // Bytes held by the index (see TempIdIndex::MemoryBytes).
  std::uint64_t MemoryBytes() const;
  TempIdStoreStats stats() const;
  // OK, or the error that turned the store read-only.
  util::Status health() const;
  const std::string& path() const { return options_.path; }

 private:
  struct Writer;

  TempIdStore(FileSystem& fs, util::Clock& clock, TempIdStoreOptions options);

  util::Status Load(RecoveryReport& report) EXCLUDES(mu_);
  // Formats `record` as a line (without line end) and checks that it reads back
  // identically, so nothing unreadable ever reaches the file.
  util::Result<std::string> FormatChecked(const protocol::TempIdRecord& record) const;
  // Waits while a compaction runs; the error that forbids writes, if any.
  util::Status WaitWritable() REQUIRES(mu_);
  // OK, or kUnavailable once a write has failed.
  util::Status WritableStatus() const REQUIRES(mu_);
  // Queues the line (without line end) of a record already reserved in the index and returns once a
  // batch covering it is durable (leading that batch if first in the queue). On failure the record
  // leaves the index.
  util::Status Commit(const protocol::TempId& id, std::string line) REQUIRES(mu_);
  // The leader's part of Commit: writes and syncs a batch from the head of the queue.
  void WriteBatch() REQUIRES(mu_);

  FileSystem& fs_;
  util::Clock& clock_;
  const TempIdStoreOptions options_;

  util::Mutex compact_mu_;  // serialises Compact() calls; taken before mu_
  mutable util::Mutex mu_;
  std::condition_variable_any cv_;
  TempIdIndex index_ GUARDED_BY(mu_);
  std::unique_ptr<AppendFile> file_ GUARDED_BY(mu_);
  std::deque<Writer*> writers_ GUARDED_BY(mu_);
  std::string line_end_ GUARDED_BY(mu_) = "\n";
  // Written before the next line: completes an unterminated last line.
  std::string pending_prefix_ GUARDED_BY(mu_);
  // Lines (1-based) ignored at load as duplicates; dropped by the next compaction.
  std::vector<std::uint64_t> duplicate_lines_ GUARDED_BY(mu_);
  bool compacting_ GUARDED_BY(mu_) = false;
  util::Status failed_ GUARDED_BY(mu_);
  // Set when a failed batch could not be cut off: the size to cut the file back to.
  std::optional<std::uint64_t> unrepaired_size_ GUARDED_BY(mu_);
  TempIdStoreStats stats_ GUARDED_BY(mu_);
};

}  // namespace bluetrace::store
