// AuditLog: the append-only, hash-chained audit file <state_dir>/audit.log. The server
// records logins, registrations, uploads and contact checks in it; bluetrace-admin records
// every change it makes. Never a password: callers pass only names, addresses and counts.
//
// Format: one record per line,
//   <seq> <unix time> <event> [<key>=<value> ...] <prev hash> <hash>
// where seq counts from 1, prev hash is the previous record's hash (64 zeros before the
// first) and hash = hex SHA-256(prev hash + " " + "<seq> <time> <event> [fields]"). A
// changed, removed or reordered line therefore breaks the chain at that line; Verify()
// names it. (A cut-off tail of whole lines is not detectable from the file alone.)
// Events and keys are [a-z0-9_.]; values are percent-encoded except for
// [A-Za-z0-9._:/@+-], so a user name cannot forge a field, a record or a line.
//
// Retention (audit.retention, Prune): a prune rewrites the file atomically without its
// oldest records and with one anchor line first,
//   <seq> <time> audit_pruned before=<cutoff> records=<n> [<key>=<value> ...] <prev> <hash>
// whose seq and prev hash are those of the last dropped record, so the kept lines stay
// byte for byte what they were. The chain then runs from the anchor's prev hash: the
// record after an anchor carries the anchor's prev hash (not its hash) and the anchor's
// seq + 1. Verify accepts a chain that does not start at seq 1 from 64 zeros only after
// such an anchor, and only as line 1.
//
// Durability: each Append writes its line and fdatasyncs it before returning (one sync
// per record: audited events are logins and uploads, each already costing an Argon2 hash
// or a report fsync, so a shared sync would gain little; see docs/SECURITY.md).
//
// Several processes (the server and bluetrace-admin) append to the same file. Each Append
// holds an exclusive flock on `lock_path` for its read-tail / write / sync, and when the
// file's size is not what this process left, reads the file through to its last record
// to continue the chain from it (a full pass, as at Open; the other writer, the admin
// tool, appends rarely). So the file stays one chain whoever writes.
//
// Open repairs a torn last line (no line end: a crash mid-append) by cutting it off, as the
// TempID store does, and says so in `repair_note`. Thread-safe; the FileSystem and Clock
// must outlive the log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bluetrace/store/audit_trail.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/status.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

struct AuditVerifyResult {
  std::uint64_t records = 0;          // valid records before the first problem (all when ok)
  std::uint64_t bad_line = 0;         // 1-based line of the first problem; 0 when the chain holds
  std::string problem;                // what is wrong with that line
  bool incomplete_last_line = false;  // the problem is a last line without its line end
  bool anchored = false;              // line 1 is a prune's anchor (audit_pruned)
  std::uint64_t chain_from = 1;       // seq of the first record after the anchor, else 1
  bool ok() const { return bad_line == 0; }
};

// One record as read back, its values unescaped.
struct AuditRecord {
  std::uint64_t seq = 0;
  std::int64_t unix_time = 0;
  std::string event;
  AuditFields fields;
  // As the line holds them: "<event> [<key>=<escaped value> ...]" (what the hash covers,
  // with seq and time), and the two hashes in hex.
  std::string text;
  std::string prev_hash;
  std::string hash;
};

class AuditLog {
 public:
  // Longest value recorded whole (bytes, before escaping); see Append.
  static constexpr std::size_t kMaxValueBytes = 1024;

  // Opens `path` (creating it, mode 0600), repairing a torn tail. `lock_path` is the flock
  // file shared with other writers (empty: no cross-process lock). Errors: I/O errors as
  // FileSystem reports them; kCorruption naming the file and line when the last complete
  // line is no record (the chain cannot be continued).
  static Result<std::unique_ptr<AuditLog>> Open(FileSystem& fs, const util::Clock& clock,
                                                std::string path, std::string lock_path,
                                                std::string* repair_note = nullptr);

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one durable record. `event` and keys must be [a-z0-9_.]+ (kInvalidArgument
  // otherwise); values are escaped. A value longer than kMaxValueBytes is recorded as its
  // first kMaxValueBytes bytes followed by "...(<n> bytes)", so that a name typed into a
  // login (up to 64 KiB on the wire, three times that escaped) cannot make a line that
  // Verify and Open refuse; a record still longer than the 64 KiB a reader accepts is
  // kInvalidArgument and not written. After a failed write or sync the log refuses
  // further appends (kUnavailable) until reopened, since its tail is unknown.
  // The event kAuditPrunedEvent is kInvalidArgument: only Prune writes it.
  Status Append(std::string_view event, const AuditFields& fields) EXCLUDES(mu_);

  // AuditTrail::Prune on this file: under the flock, checks the whole chain, then writes
  // the anchor and the kept lines to a temporary file, fsyncs it and renames it over the
  // file (FileSystem::ReplaceFileFromSource, streamed), so a crash or an error leaves the
  // old file whole. Other writers (another AuditLog on the file) notice the new file by
  // its inode at their next Append. `fields` are added to the anchor (e.g. by=). Errors:
  // kCorruption naming the line when the chain is broken (an incomplete last line is no
  // break: it is left out, as Open would cut it); the FileSystem's; kUnavailable when the
  // log could not reopen the new file (then every Append refuses until reopened).
  Result<AuditPruneResult> Prune(std::int64_t cutoff_unix, const AuditFields& fields) EXCLUDES(mu_);

  // Checks the whole chain of the file at `path`; the first broken line is reported in the
  // result. Errors: only I/O errors reading the file (a missing file is kNotFound).
  static Result<AuditVerifyResult> Verify(FileSystem& fs, const std::string& path);

  // Reads the records of `path` in order, checking the chain as Verify does (Verify is Read
  // without `on_record`), and calls `on_record` with each record that holds, stopping at
  // the first that does not (the result names it). Takes no lock and changes nothing, so a
  // line being appended may show as an incomplete last line. Errors as Verify's.
  static Result<AuditVerifyResult> Read(FileSystem& fs, const std::string& path,
                                        const std::function<void(const AuditRecord&)>& on_record);

  // "<event> <key>=<escaped value>..." as a record holds it between the time and the
  // hashes, with Append's checks and truncation of long values (see Append); shared with
  // the other backends' audit trails so that every chain hashes the same text.
  // kInvalidArgument for a bad event or key name or a record longer than a reader accepts.
  // kInvalidArgument for kAuditPrunedEvent too (FormatAnchorText makes that one).
  static Result<std::string> FormatEventText(std::string_view event, const AuditFields& fields);

  // The text of a prune's anchor: "audit_pruned before=<cutoff> records=<n>" and `fields`.
  static Result<std::string> FormatAnchorText(std::int64_t cutoff_unix, std::uint64_t records,
                                              const AuditFields& fields);

  // The line of one record, without its line end: "<seq> <time> <text> <prev hash> <hash>".
  // `text` is FormatEventText's; the hashes are hex. The one writer of the record layout.
  static std::string FormatRecordLine(std::uint64_t seq, std::int64_t unix_time,
                                      std::string_view text, std::string_view prev_hash,
                                      std::string_view hash);

  // Percent-encoding of a value as written in a record, and its inverse (kInvalidArgument
  // for a malformed escape).
  static std::string EscapeValue(std::string_view value);
  static Result<std::string> UnescapeValue(std::string_view text);

  const std::string& path() const { return path_; }

 private:
  struct Tail {
    std::uint64_t seq = 0;
    std::string hash;        // of the last record (64 zeros for an empty file)
    std::uint64_t size = 0;  // bytes of complete lines
  };

  // FormatEventText without refusing the anchor's event.
  static Result<std::string> FormatText(std::string_view event, const AuditFields& fields);

  AuditLog(FileSystem& fs, const util::Clock& clock, std::string path, std::string lock_path)
      : fs_(fs), clock_(clock), path_(std::move(path)), lock_path_(std::move(lock_path)) {}

  // The flock on `lock_path_` shared with the other writers, waited for; null when there is
  // no lock path. Held for as long as the result lives.
  Result<std::unique_ptr<FileLock>> LockWriters() const;
  // Reads the file through, returning its last record and where the complete lines end.
  static Result<Tail> ReadTail(FileSystem& fs, const std::string& path, std::uint64_t* file_size);

  FileSystem& fs_;
  const util::Clock& clock_;
  const std::string path_;
  const std::string lock_path_;

  util::Mutex mu_;
  std::unique_ptr<AppendFile> file_ GUARDED_BY(mu_);
  Tail tail_ GUARDED_BY(mu_);
  std::uint64_t inode_ GUARDED_BY(mu_) = 0;  // of the file file_ appends to
  bool failed_ GUARDED_BY(mu_) = false;
};

}  // namespace bluetrace::store
