#include "bluetrace/store/files/file_audit_trail.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace bluetrace::store {

util::Result<std::unique_ptr<FileAuditTrail>> FileAuditTrail::Open(FileSystem& fs,
                                                                   const util::Clock& clock,
                                                                   std::string path,
                                                                   std::string lock_path,
                                                                   std::string* note) {
  std::unique_ptr<FileAuditTrail> a(
      new FileAuditTrail(fs, clock, std::move(path), std::move(lock_path)));
  BLUETRACE_ASSIGN_OR_RETURN(auto log, AuditLog::Open(fs, clock, a->path_, a->lock_path_, note));
  util::MutexLock lock(a->mu_);
  a->log_ = std::move(log);
  a->open_.store(true);
  return a;
}

util::Status FileAuditTrail::EnsureOpen() {
  if (log_) return util::Status::Ok();
  const std::int64_t now = clock_.NowUnixSeconds();
  if (now < next_reopen_) return util::Unavailable("the audit log is not writable");
  next_reopen_ = now + kReopenInterval;
  std::string note;
  auto log = AuditLog::Open(fs_, clock_, path_, lock_path_, &note);
  if (!log.ok()) {
    return util::Unavailable("the audit log is not writable: " + log.status().ToString());
  }
  log_ = std::move(*log);
  open_.store(true);
  spdlog::warn("audit log reopened{}{}", note.empty() ? "" : ": ", note);
  return util::Status::Ok();
}

util::Status FileAuditTrail::Record(std::string_view event, const AuditFields& fields) {
  util::MutexLock lock(mu_);
  BLUETRACE_RETURN_IF_ERROR(EnsureOpen());
  util::Status st = log_->Append(event, fields);
  if (!st.ok() && st.code() != util::StatusCode::kInvalidArgument) {
    log_.reset();  // the tail is unknown: reopen before the next record
    open_.store(false);
    next_reopen_ = clock_.NowUnixSeconds() + kReopenInterval;
  }
  return st;
}

util::Result<AuditPruneResult> FileAuditTrail::Prune(std::int64_t cutoff_unix,
                                                     const AuditFields& fields) {
  util::MutexLock lock(mu_);
  BLUETRACE_RETURN_IF_ERROR(EnsureOpen());
  return log_->Prune(cutoff_unix, fields);
}

bool FileAuditTrail::healthy() {
  if (open_.load()) return true;
  util::MutexLock lock(mu_);
  return EnsureOpen().ok();
}

}  // namespace bluetrace::store
