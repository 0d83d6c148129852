#include "bluetrace/store/files/file_backend.hpp"

#include <utility>

#include "bluetrace/store/files/file_audit_trail.hpp"
#include "bluetrace/store/files/file_contact_status_store.hpp"
#include "bluetrace/store/files/file_device_store.hpp"
#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/store/files/file_report_store.hpp"
#include "bluetrace/store/files/file_staff_store.hpp"
#include "bluetrace/store/files/file_tempid_store.hpp"
#include "bluetrace/store/files/file_upload_code_store.hpp"
#include "bluetrace/store/files/file_user_store.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/util/plural.hpp"

namespace bluetrace::store {

Result<Stores> OpenFileBackend(FileSystem& fs, util::Clock& clock, util::Random& random,
                               const FileBackendOptions& options) {
  BLUETRACE_RETURN_IF_ERROR(RequireStateDirectory(fs, options.state_dir));
  const StateDir dir(options.state_dir);
  Stores s;

  BLUETRACE_ASSIGN_OR_RETURN(auto users, FileUserStore::Open(fs, dir.credentials(), options.argon2,
                                                             random, dir.credentials_lock()));
  s.notes.push_back(std::string(StateDir::kCredentials) + ": " +
                    util::Count(users->size(), "user", "users") + " (" +
                    std::to_string(users->plaintext_count()) +
                    " with a plaintext password, upgraded at the next login)");
  s.users = std::move(users);

  BLUETRACE_ASSIGN_OR_RETURN(
      auto lockouts,
      FileLockoutStore::Open(fs, dir.lockouts(), options.lockout, clock, dir.lockouts_lock()));
  if (const auto blocked = lockouts->ListBlocked(); !blocked.empty()) {
    s.notes.push_back(std::string(StateDir::kLockouts) + ": " +
                      util::Count(blocked.size(), "user", "users") + " still blocked");
  }
  s.lockouts = std::move(lockouts);

  TempIdStoreOptions tempid_options;
  tempid_options.path = dir.tempids();
  tempid_options.time_mode = options.time_mode;
  tempid_options.retention_seconds = options.tempid_retention_seconds;
  RecoveryReport recovery;
  BLUETRACE_ASSIGN_OR_RETURN(auto tempids,
                             FileTempIdStore::Open(fs, clock, tempid_options, &recovery));
  const std::string tempids_name = StateDir::kTempIds;
  s.notes.push_back(tempids_name + ": " + util::Count(recovery.records, "TempID", "TempIDs"));
  if (recovery.torn_bytes_removed > 0) {
    s.notes.push_back(tempids_name + ": repaired a torn last line left by a crash (" +
                      std::to_string(recovery.torn_bytes_removed) +
                      " bytes removed): " + recovery.torn_tail_description);
  }
  if (recovery.duplicate_lines > 0) {
    s.notes.push_back(tempids_name + ": " +
                      util::Count(recovery.duplicate_lines, "line repeats", "lines repeat") +
                      " an earlier TempID, ignored");
  }
  s.tempids = std::move(tempids);

  BLUETRACE_ASSIGN_OR_RETURN(s.reports, FileReportStore::Open(fs, dir.reports()));

  std::string audit_note;
  BLUETRACE_ASSIGN_OR_RETURN(
      s.audit, FileAuditTrail::Open(fs, clock, dir.audit_log(), dir.audit_lock(), &audit_note));
  if (!audit_note.empty()) s.notes.push_back(audit_note);

  std::string devices_note;
  BLUETRACE_ASSIGN_OR_RETURN(s.devices,
                             FileDeviceStore::Open(fs, clock, dir.devices(), &devices_note));
  if (!devices_note.empty()) s.notes.push_back(devices_note);
  BLUETRACE_ASSIGN_OR_RETURN(
      s.upload_codes, FileUploadCodeStore::Open(fs, dir.upload_codes(), dir.upload_codes_lock()));
  BLUETRACE_ASSIGN_OR_RETURN(
      s.code_failures, FileLockoutStore::Open(fs, dir.code_failures(), options.code_lockout, clock,
                                              dir.code_failures_lock()));

  BLUETRACE_ASSIGN_OR_RETURN(s.staff, FileStaffStore::Open(fs, dir.staff(), dir.staff_lock()));
  BLUETRACE_ASSIGN_OR_RETURN(
      s.contact_statuses,
      FileContactStatusStore::Open(fs, dir.contact_status(), dir.contact_status_lock()));
  return s;
}

}  // namespace bluetrace::store
