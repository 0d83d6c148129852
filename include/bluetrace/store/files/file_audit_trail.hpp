// FileAuditTrail: the AuditTrail of audit.log (store/audit_trail.hpp; the file's format
// and locking: audit_log.hpp). After a failed append the log's tail is unknown, so the
// FileAuditTrail reopens it (Open repairs a torn last line) before the next record, at most once
// every kReopenInterval of the injected clock; until a reopen succeeds every Record() fails at once
// and healthy() is false (the ops listener's /readyz reports it). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/status.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

class FileAuditTrail final : public AuditTrail {
 public:
  static constexpr std::int64_t kReopenInterval = 5;  // seconds

  // Opens the log (see AuditLog::Open); `note` says what Open repaired.
  static util::Result<std::unique_ptr<FileAuditTrail>> Open(FileSystem& fs,
                                                            const util::Clock& clock,
                                                            std::string path, std::string lock_path,
                                                            std::string* note);

  // Appends one durable record; never pass a secret. kUnavailable while the log cannot be
  // written; the AuditLog's errors otherwise.
  util::Status Record(std::string_view event, const AuditFields& fields) override EXCLUDES(mu_);

  // False from a failed append until a reopen succeeds (tried here too, when due, so a
  // server that gets no traffic while not ready still recovers). While the log is open it
  // answers without the lock, so that a login's check never waits for another record's
  // fsync.
  bool healthy() override EXCLUDES(mu_);

  // AuditLog::Prune; kUnavailable while the log cannot be written.
  util::Result<AuditPruneResult> Prune(std::int64_t cutoff_unix, const AuditFields& fields) override
      EXCLUDES(mu_);

 private:
  FileAuditTrail(FileSystem& fs, const util::Clock& clock, std::string path, std::string lock_path)
      : fs_(fs), clock_(clock), path_(std::move(path)), lock_path_(std::move(lock_path)) {}

  // OK when the log is open, reopening it when it is broken and a reopen is due.
  util::Status EnsureOpen() REQUIRES(mu_);

  FileSystem& fs_;
  const util::Clock& clock_;
  const std::string path_;
  const std::string lock_path_;
  util::Mutex mu_;
  std::unique_ptr<AuditLog> log_ GUARDED_BY(mu_);  // null while broken
  std::atomic<bool> open_{false};                  // log_ != nullptr, set under mu_
  std::int64_t next_reopen_ GUARDED_BY(mu_) = 0;
};

}  // namespace bluetrace::store
