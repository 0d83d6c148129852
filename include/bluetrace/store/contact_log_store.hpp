// ContactLogStore: the client's contactlog.txt, the beacons it received, in the original's
// format "<TempID> <start> <expiry>" per line (protocol::FormatContactLogLine), so the file
// uploaded is exactly what the server's strict parser reads.
//
// Retention counts from the time of receipt (docs/ORIGINAL.md §6.5), which the original format
// cannot hold, so a sidecar file next to it, contactlog.received, keeps one line
// "<TempID> <receipt unix seconds>" per entry. Rules that keep the pair consistent:
//  - Add appends (and fdatasyncs) the sidecar line first, then the log line, and reports
//    success only after both syncs: a beacon is durable before anyone is told.
//  - A rewrite (pruning) replaces contactlog.txt first, then the sidecar, each atomically.
//    So a crash at any point leaves at worst sidecar lines without an entry, which are
//    ignored and dropped by the next rewrite. When a TempID has several sidecar lines the
//    last one counts.
//  - An entry with no receipt time (a contactlog.txt written by the original or by a crash
//    between the two appends) is treated as received at its expiry: it was valid when
//    received, so that is the latest possible receipt and nothing is removed early.
//  - An entry is removed once now >= receipt + retention (gone at receipt + 180 s with the
//    original's 3 minutes, not a second before).
//  - A TempID is stored once; a repeated beacon keeps the first receipt time (a TempID is
//    only valid for its lifetime, so the two differ by at most that).
// Open prunes, drops duplicates and rewrites the files in canonical form (LF line ends,
// final newline) when they differ from it; a file already canonical is left untouched.
// A malformed contactlog.txt is an error naming the line; a malformed sidecar line is
// kCorruption naming the line, except a last line without its newline, which is a torn
// append and is ignored.
//
// Thread-safe: the beacon receiver adds while the front end uploads and a background
// thread prunes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

struct ContactLogOptions {
  std::string dir = ".";  // holds contactlog.txt and contactlog.received (created 0700)
  std::int64_t retention_seconds = 21 * 24 * 3600;  // the original: 180
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;
  // Entries kept at most; a forged-beacon flood must not grow the file without bound.
  std::size_t max_entries = 100000;
};

struct ContactLogRecord {
  protocol::ContactLogEntry entry;
  std::int64_t received = 0;  // unix seconds
  friend bool operator==(const ContactLogRecord&, const ContactLogRecord&) = default;
};

class ContactLogStore {
 public:
  static constexpr char kLogFileName[] = "contactlog.txt";
  static constexpr char kReceiptFileName[] = "contactlog.received";

  // Loads both files (missing ones are empty), prunes and canonicalises (see above).
  // Errors: kInvalidArgument naming contactlog.txt and the line; kCorruption naming the
  // sidecar and the line; kResourceExhausted when contactlog.txt holds more than
  // max_entries entries; the FileSystem's errors. `fs` and `clock` must outlive the store.
  static util::Result<std::unique_ptr<ContactLogStore>> Open(FileSystem& fs,
                                                             const util::Clock& clock,
                                                             ContactLogOptions options);

  enum class AddOutcome { kAdded, kDuplicate };

  // Stores `entry`, received at `received_unix`, durably (both files synced) unless its
  // TempID is stored already (kDuplicate, nothing written). kResourceExhausted when
  // max_entries are stored; the FileSystem's errors when a write or sync fails (the files
  // are then rewritten from memory, which repairs a torn tail, and the entry is not kept).
  util::Result<AddOutcome> Add(const protocol::ContactLogEntry& entry, std::int64_t received_unix)
      EXCLUDES(mu_);

  // Removes the entries whose retention has passed; returns how many. Writes only when
  // something was removed.
  util::Result<std::size_t> Prune() EXCLUDES(mu_);

  struct Snapshot {
    std::string text;                                // contactlog.txt's bytes
    std::vector<protocol::ContactLogEntry> entries;  // parsed from exactly `text`
  };
  // Prunes, then reads contactlog.txt from disk and parses it as the server will: what an
  // upload sends and echoes.
  util::Result<Snapshot> PruneAndRead() EXCLUDES(mu_);

  // The stored entries with their receipt times, in file order.
  std::vector<ContactLogRecord> Records() const EXCLUDES(mu_);
  std::size_t size() const EXCLUDES(mu_);

  const std::string& log_path() const { return log_path_; }
  const std::string& receipt_path() const { return receipt_path_; }

 private:
  ContactLogStore(FileSystem& fs, const util::Clock& clock, ContactLogOptions options);

  util::Status Load() REQUIRES(mu_);
  util::Result<std::size_t> PruneLocked() REQUIRES(mu_);
  // Rewrites both files from records_ (log first, then sidecar).
  util::Status Rewrite() REQUIRES(mu_);
  // Appends and syncs the sidecar line, then the log line.
  util::Status AppendLocked(const ContactLogRecord& record) REQUIRES(mu_);
  std::string LogText() const REQUIRES(mu_);
  std::string ReceiptText() const REQUIRES(mu_);
  void Reindex() REQUIRES(mu_);
  // Closes the append handles so the next Add reopens them (after a rewrite or a failure).
  void CloseAppenders() REQUIRES(mu_);

  FileSystem& fs_;
  const util::Clock& clock_;
  const ContactLogOptions options_;
  const std::string log_path_;
  const std::string receipt_path_;

  mutable util::Mutex mu_;
  std::vector<ContactLogRecord> records_ GUARDED_BY(mu_);
  std::unordered_map<protocol::TempId, std::size_t> index_ GUARDED_BY(mu_);
  std::unique_ptr<AppendFile> log_file_ GUARDED_BY(mu_);
  std::unique_ptr<AppendFile> receipt_file_ GUARDED_BY(mu_);
};

}  // namespace bluetrace::store
