// Stores: one backend's set of stores, which the reporting service works with. A backend
// is a folder (files/ today) with one function that opens its set; the service never
// names a backend's classes. Move-only; the stores are destroyed with it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bluetrace/store/audit_trail.hpp"
#include "bluetrace/store/contact_status_store.hpp"
#include "bluetrace/store/device_store.hpp"
#include "bluetrace/store/lockout_store.hpp"
#include "bluetrace/store/report_store.hpp"
#include "bluetrace/store/staff_store.hpp"
#include "bluetrace/store/tempid_store.hpp"
#include "bluetrace/store/upload_code_store.hpp"
#include "bluetrace/store/user_store.hpp"

namespace bluetrace::store {

struct Stores {
  // What the stores share and need to outlive them (a connection pool); declared first, so
  // it is destroyed last. May be null.
  std::shared_ptr<void> shared;
  std::unique_ptr<UserStore> users;
  std::unique_ptr<LockoutStore> lockouts;
  std::unique_ptr<TempIdStore> tempids;
  std::unique_ptr<ReportStore> reports;
  std::unique_ptr<DeviceStore> devices;  // may be null: no device tokens
  std::unique_ptr<AuditTrail> audit;
  std::unique_ptr<UploadCodeStore> upload_codes;
  // Wrong upload codes per user: a second lockout store under the upload-code policy
  // (its own file or table, so it never mixes with login failures).
  std::unique_ptr<LockoutStore> code_failures;
  std::unique_ptr<StaffStore> staff;                     // the console's accounts, sessions
  std::unique_ptr<ContactStatusStore> contact_statuses;  // the tracers' statuses and notes
  // What opening found and repaired, for the log (info), and what an operator must hear
  // of (warning).
  std::vector<std::string> notes;
  std::vector<std::string> warnings;
};

}  // namespace bluetrace::store
