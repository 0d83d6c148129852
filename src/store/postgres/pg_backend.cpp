#include "bluetrace/store/postgres/pg_backend.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "bluetrace/store/postgres/migrations.hpp"
#include "bluetrace/store/postgres/pg_audit_trail.hpp"
#include "bluetrace/store/postgres/pg_contact_status_store.hpp"
#include "bluetrace/store/postgres/pg_device_store.hpp"
#include "bluetrace/store/postgres/pg_lockout_store.hpp"
#include "bluetrace/store/postgres/pg_report_store.hpp"
#include "bluetrace/store/postgres/pg_staff_store.hpp"
#include "bluetrace/store/postgres/pg_tempid_store.hpp"
#include "bluetrace/store/postgres/pg_upload_code_store.hpp"
#include "bluetrace/store/postgres/pg_user_store.hpp"

namespace bluetrace::store {

Result<Stores> OpenPgBackend(util::Clock& clock, util::Random& random,
                             const PgBackendOptions& options) {
  BLUETRACE_ASSIGN_OR_RETURN(std::shared_ptr<PgPool> pool, PgPool::Open(options.pool));
  {
    BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool->Acquire());
    BLUETRACE_RETURN_IF_ERROR(CheckSchemaVersion(*conn));
  }
  Stores s;
  s.shared = pool;
  BLUETRACE_ASSIGN_OR_RETURN(s.users, PgUserStore::Open(*pool, options.argon2, random));
  BLUETRACE_ASSIGN_OR_RETURN(s.lockouts, PgLockoutStore::Open(*pool, options.lockout, clock));
  PgTempIdStoreOptions tempids;
  tempids.retention_seconds = options.tempid_retention_seconds;
  // One TempID batch under way per 4 connections (1 with the default pool): the fewer at
  // once, the larger each (a batch's fixed cost, about the partitions it opens, is shared
  // by more TempIDs), and the rest of the pool stays free for logins and uploads.
  tempids.max_batches_in_flight = static_cast<int>(std::max<std::size_t>(1, options.pool.size / 4));
  BLUETRACE_ASSIGN_OR_RETURN(s.tempids, PgTempIdStore::Open(*pool, clock, tempids));
  s.reports = PgReportStore::Open(*pool);
  s.devices = PgDeviceStore::Open(*pool, clock);
  s.audit = PgAuditTrail::Open(*pool, clock);
  s.upload_codes = PgUploadCodeStore::Open(*pool);
  BLUETRACE_ASSIGN_OR_RETURN(
      s.code_failures,
      PgLockoutStore::Open(*pool, options.code_lockout, clock, PgLockoutStore::kUploadCodeTable));
  s.staff = PgStaffStore::Open(*pool);
  s.contact_statuses = PgContactStatusStore::Open(*pool);
  s.notes.push_back("PostgreSQL: schema version " + std::to_string(kSchemaVersion) + ", pool of " +
                    std::to_string(options.pool.size) + " connections");
  return s;
}

}  // namespace bluetrace::store
