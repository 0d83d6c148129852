// StateDir: the layout of a server's state directory, the one place that names its files,
// its lock files and their modes. The file backend, the server (its instance lock),
// bluetrace-admin and its verify all find their files through it. Value type.
#pragma once

#include <sys/types.h>

#include <string>

#include "bluetrace/store/file_system.hpp"

namespace bluetrace::store {

class StateDir {
 public:
  // The files (docs/ORIGINAL.md §2 for the first two; the rest are bluetrace's).
  static constexpr char kCredentials[] = "credentials.txt";
  static constexpr char kTempIds[] = "tempIDs.txt";
  static constexpr char kLockouts[] = "lockouts.txt";
  static constexpr char kDevices[] = "devices.txt";
  static constexpr char kAuditLog[] = "audit.log";
  static constexpr char kReports[] = "reports";  // a directory, one file per report
  static constexpr char kUploadCodes[] = "upload-codes.txt";
  static constexpr char kCodeFailures[] = "upload-code-failures.txt";
  static constexpr char kCodeKey[] = "upload-code.key";  // the default upload.code_key_file
  static constexpr char kStaff[] = "staff.txt";          // the console's staff accounts
  static constexpr char kContactStatus[] = "contact_status.txt";  // tracers' statuses, notes
  // Locks: the running server holds kServerLock for its lifetime (one server per
  // directory); every process that rewrites credentials.txt, lockouts.txt or appends to
  // audit.log holds that file's lock meanwhile.
  static constexpr char kServerLock[] = ".server.lock";
  static constexpr char kCredentialsLock[] = ".lock-credentials";
  static constexpr char kLockoutsLock[] = ".lock-lockouts";
  static constexpr char kAuditLock[] = ".lock-audit";
  static constexpr char kUploadCodesLock[] = ".lock-upload-codes";
  static constexpr char kCodeFailuresLock[] = ".lock-upload-code-failures";
  static constexpr char kStaffLock[] = ".lock-staff";
  static constexpr char kContactStatusLock[] = ".lock-contact-status";
  // Modes: state files hold secrets or personal data and are the service user's only;
  // reports are readable by the health authority's group.
  static constexpr mode_t kFileMode = 0600;
  static constexpr mode_t kReportMode = 0640;
  static constexpr mode_t kReportDirMode = 0750;

  explicit StateDir(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  // <root>/<name>.
  std::string Path(const std::string& name) const { return JoinPath(root_, name); }

  std::string credentials() const { return Path(kCredentials); }
  std::string tempids() const { return Path(kTempIds); }
  std::string lockouts() const { return Path(kLockouts); }
  std::string devices() const { return Path(kDevices); }
  std::string audit_log() const { return Path(kAuditLog); }
  std::string reports() const { return Path(kReports); }
  std::string server_lock() const { return Path(kServerLock); }
  std::string upload_codes() const { return Path(kUploadCodes); }
  std::string code_failures() const { return Path(kCodeFailures); }
  std::string staff() const { return Path(kStaff); }
  std::string contact_status() const { return Path(kContactStatus); }

  InterProcessLock credentials_lock() const { return {Path(kCredentialsLock)}; }
  InterProcessLock lockouts_lock() const { return {Path(kLockoutsLock)}; }
  std::string audit_lock() const { return Path(kAuditLock); }
  InterProcessLock upload_codes_lock() const { return {Path(kUploadCodesLock)}; }
  InterProcessLock code_failures_lock() const { return {Path(kCodeFailuresLock)}; }
  InterProcessLock staff_lock() const { return {Path(kStaffLock)}; }
  InterProcessLock contact_status_lock() const { return {Path(kContactStatusLock)}; }

 private:
  std::string root_;
};

}  // namespace bluetrace::store
