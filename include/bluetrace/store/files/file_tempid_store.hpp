// FileTempIdStore: the TempIdStore of tempIDs.txt ("UserID TempID start expiry" per line,
// docs/ORIGINAL.md §2), append-only, with an in-memory index (tempid_index.hpp) for
// lookups. Durability, start-up repair and compaction: see Issue, Open and Compact
// (docs/ARCHITECTURE.md, "TempID compaction").
// Thread-safe; the FileSystem and Clock must outlive the store.
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
#include "bluetrace/store/files/tempid_index.hpp"
#include "bluetrace/store/tempid_store.hpp"
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
  std::string torn_tail_description;  // empty unless a torn tail was cut off
  std::uint64_t duplicate_lines = 0;  // lines whose TempID appeared on an earlier line
  // Records already past the retention (expiry < now - retention_seconds) when loaded: what
  // the next Compact drops. Open itself never rewrites the file.
  std::uint64_t expired_records = 0;
  bool missing_final_newline = false;  // the last line was valid but unterminated
  bool created = false;                // the file did not exist
};

class FileTempIdStore final : public TempIdStore {
 public:
  // Loads (or creates) the file and builds the index, reading it in chunks, never whole;
  // a second thread reads and parses while the calling one fills the index.
  // LF or CRLF, blank lines and a missing final newline are accepted; appends use the
  // file's line end and first complete an unterminated valid last line (the original's
  // files). A last line without a line end that does not parse is a torn write left by a
  // crash: it is cut off (FileSystem::Truncate) and reported in `report`. A TempID on
  // several lines keeps its first record; the others are counted, ignored and dropped by
  // the next Compact. Errors: the file cannot be read/created/truncated (kIoError,
  // ...), a malformed line other than a torn tail (kInvalidArgument naming the file and
  // line), a record outside the index limits (kOutOfRange), a negative retention.
  static util::Result<std::unique_ptr<FileTempIdStore>> Open(FileSystem& fs, util::Clock& clock,
                                                             TempIdStoreOptions options,
                                                             RecoveryReport* report = nullptr);

  FileTempIdStore(const FileTempIdStore&) = delete;
  FileTempIdStore& operator=(const FileTempIdStore&) = delete;
  // Closes the file; retries the cut of a failed batch if it failed (see above).
  ~FileTempIdStore();

  // Durability: returns only after the fdatasync that covers the line. Concurrent callers
  // share syncs (group commit): the first in the queue writes every queued line with one
  // Append and one Sync and hands the result to the others. A failed write or sync leaves
  // the tail unknown (docs/ARCHITECTURE.md, "Durability"): the failed batch's bytes are cut
  // back at once (the destructor retries; Open would cut a torn tail anyway), its records
  // leave the index, and every further write gets kUnavailable until reopened. A TempID is
  // reserved in the index before its write, so Lookup may see it a moment before Issue
  // returns; no one holds it yet.
  //
  // Issues a fresh TempID for `user` valid over [start, expiry]: draws TempIDs from
  // `random` until one is unused (at most max_issue_attempts), records it durably and
  // returns it. Errors: kInvalidArgument for a record that would not read back identically
  // (bad user, expiry < start, years outside the file format); kResourceExhausted when no
  // unused TempID was drawn; the generator's error; kIoError when the write or sync fails;
  // kUnavailable once a write has failed.
  util::Result<protocol::TempIdRecord> Issue(std::string_view user, std::int64_t start,
                                             std::int64_t expiry, util::Random& random) override;

  // The check bluetrace-admin verify makes of a tempIDs.txt on disk, without opening a
  // store: every line, the last one included, is a valid record (a torn tail is a problem
  // here; Open would cut it off). Problems as "<file name> line <n>: <problem>"; none for
  // a missing file. Errors: the file cannot be read.
  static util::Result<std::vector<std::string>> VerifyFile(FileSystem& fs, const std::string& path,
                                                           protocol::TimeZoneMode mode);

  // Records a given record durably. kAlreadyExists when its TempID is known; otherwise the
  // errors of Issue().
  util::Status Append(const protocol::TempIdRecord& record) override;

  // The record of `id`, if known.
  std::optional<protocol::TempIdRecord> Lookup(const protocol::TempId& id) const override;

  // Drops the records with expiry < now - retention_seconds (and the duplicate lines found
  // at load) from the file and the index. When there is nothing to drop (the earliest
  // expiry in the file is within the retention, no duplicates, no unterminated last line)
  // the file is not touched at all: same inode, no write. Otherwise the kept records are
  // streamed (1 MiB at a time) into a temporary file next to it, with the file's mode:
  //  1. copy: the records up to the end of the last acknowledged batch are copied and the
  //     copy is fsynced, without holding anything Issue needs (issuance and lookups go on),
  //     on a short-lived thread at a lower CPU priority (nice + 10) that Compact waits for;
  //  2. tail: new writes wait while the records appended meanwhile are copied, the copy is
  //     fsynced again (a few lines) and renamed over the file (FileSystem::Rename, which
  //     fsyncs the directory), and the append handle is reopened; lookups go on;
  //  3. the dropped records leave the index, 256 at a time between issues.
  // A crash at any point leaves the old file or the new one, each with every acknowledged
  // record, and perhaps a temporary file (store/leftover_temp_files.hpp removes it).
  // Errors: reading, writing, syncing or renaming fails (the temporary file is removed and
  // the store is unchanged), the file changed under the store (kCorruption); if the rename
  // may have happened but was not made durable, or the append handle cannot be reopened
  // after it, the store turns read-only as after a failed write. kUnavailable once a write
  // has failed.
  util::Result<CompactionStats> Compact() override;

  // Drops every record of `user`: the same rewrite as Compact() with one more filter (and no
  // retention cutoff), so the file never holds a half-removed user and the store's one
  // rewrite path stays the only one. The records leave the index when the rewrite is
  // durable, before it returns. Costs a full rewrite of the file: withdrawals are rare.
  util::Result<std::uint64_t> RemoveUser(std::string_view user) override;

  std::size_t size() const override;
  // Bytes held by the index (see TempIdIndex::MemoryBytes).
  std::uint64_t MemoryBytes() const;
  TempIdStoreStats stats() const override;
  // OK, or the error that turned the store read-only.
  util::Status health() const override;
  const std::string& path() const { return options_.path; }

 private:
  struct Writer;
  struct Copier;

  // Which records a compaction keeps. Every compaction asks this one rule; another reason
  // to drop records (a user's withdrawn consent, say) is a field here, Keeps and
  // KeepsEveryRecordExpiringFrom.
  struct KeepRule {
    std::int64_t cutoff = 0;  // the retention: records with expiry < cutoff go
    std::string drop_user;    // when set, this user's records go too (RemoveUser)
    bool Keeps(const protocol::TempIdRecord& record) const {
      return record.expiry >= cutoff && (drop_user.empty() || record.user != drop_user);
    }
    // True when the rule keeps every record whose expiry is >= `earliest_expiry`, so a
    // file whose records all expire then or later needs no rewrite.
    bool KeepsEveryRecordExpiringFrom(std::int64_t earliest_expiry) const {
      return drop_user.empty() && earliest_expiry >= cutoff;
    }
  };

  FileTempIdStore(FileSystem& fs, util::Clock& clock, TempIdStoreOptions options);

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
  // Compact with `rule` deciding which records stay (see Compact for the phases).
  util::Result<CompactionStats> CompactWith(const KeepRule& rule) EXCLUDES(mu_);
  // Phase 2 and the swap of CompactWith: copies the tail, renames, reopens. Sets compacting_
  // meanwhile. On an error the temporary file is gone unless the rename happened.
  util::Status FinishCompaction(Copier& copier) EXCLUDES(mu_);

  FileSystem& fs_;
  util::Clock& clock_;
  const TempIdStoreOptions options_;

  util::Mutex compact_mu_;  // serialises Compact() calls; taken before mu_
  mutable util::Mutex mu_;
  std::condition_variable_any cv_;
  TempIdIndex index_ GUARDED_BY(mu_);
  std::unique_ptr<AppendFile> file_ GUARDED_BY(mu_);
  std::deque<Writer*> writers_ GUARDED_BY(mu_);
  // Bytes of the file up to the end of the last acknowledged record.
  std::uint64_t file_size_ GUARDED_BY(mu_) = 0;
  // No record in the file expires before this (a lower bound: records reserved by a failed
  // write count too); the compaction's test for "nothing to drop".
  std::int64_t earliest_expiry_ GUARDED_BY(mu_) = INT64_MAX;
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
