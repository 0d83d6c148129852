// The commands of bluetrace-admin, each working on a server's state directory and safe
// while the server runs. Locking rules (README "Administration"):
//  - credentials.txt / lockouts.txt: every rewrite, the tool's and the server's, holds an
//    exclusive flock on <state_dir>/.lock-credentials / .lock-lockouts while the store
//    re-reads the file, merges its change into it and replaces it atomically (see the
//    store headers), so neither process writes over the other's change. The running
//    server also reloads a changed file within about a second (or at SIGHUP).
//  - tempIDs.txt: `compact` takes <state_dir>/.server.lock without waiting; a running
//    server holds it, so compact is refused then (the server compacts hourly itself).
//  - audit.log: every append holds <state_dir>/.lock-audit (store/files/audit_log.hpp).
// Every change is recorded in audit.log (never a password). Results are printed to `out`,
// problems to `err`, and so is the line saying that a list is empty ("no reports"), so
// that `out` holds only results; each function returns the process exit status. Listing
// commands change nothing in the state directory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin_format.hpp"
#include "admin_operator.hpp"
#include "bluetrace/service/server_config.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/stores.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"

namespace bluetrace::admin {

// The exit statuses, as README "Administration" and bluetrace-admin(8) list them.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // the command failed, or verify found problems
constexpr int kExitUsage = 2;   // bad usage: command, option, argument or configuration

struct AdminEnv {
  store::FileSystem& fs;
  util::Clock& clock;
  util::Random& random;
  const service::ServerConfig& config;  // state_dir, Argon2 parameters, lockout policy
  std::FILE* out;
  std::FILE* err;
  OperatorIdentity op;  // who ran the tool: the audit records' by= (and as=)
};

// Whether the configuration's storage.backend is the PostgreSQL database; then the user,
// lockout, report and compact commands work on it (every instance sees a change at once)
// and record their changes in its audit chain.
bool OnDatabase(const AdminEnv& env);
// The database's stores (service::OpenStorage): its errors (unreachable, wrong schema).
util::Result<store::Stores> OpenDatabase(AdminEnv& env);

// Prints "bluetrace-admin: <message>" to env.err and returns kExitUsage.
int Usage(const AdminEnv& env, const std::string& message);
// Prints "bluetrace-admin: <message>" to env.err and returns kExitFailed.
int Fail(const AdminEnv& env, const std::string& message);
// Appends an admin record naming the operator (by=, as=), to the database's audit chain
// when `db` is given, otherwise to audit.log. The change it describes is already made, so
// a failure here is reported (kExitFailed) but cannot undo it.
int Audited(AdminEnv& env, std::string_view event, store::AuditFields fields,
            store::Stores* db = nullptr);

// `user` must be a UserID (the caller checks, so that bad usage is said before a password
// is asked). `password` is wiped by the caller.
int UserAdd(AdminEnv& env, const std::string& user, std::string_view password);
int UserRemove(AdminEnv& env, const std::string& user);
int UserPasswd(AdminEnv& env, const std::string& user, std::string_view password);
// Issues an upload code for `user` (a UserID; it need not be registered yet) and prints
// it once; the audit record names the phone number and the operator, never the code.
int CodeIssue(AdminEnv& env, const std::string& user);
// `user` is a UserID, whose every block is lifted (also those of single devices under
// auth.device_lockout), or one "<UserID>#<device>" entry as `blocked` lists it.
int Unblock(AdminEnv& env, const std::string& user);
int ListBlocked(AdminEnv& env, OutputFormat format);
int MigrateCredentials(AdminEnv& env);
// Also removes the temporary files interrupted writes left, when `may_remove` (the tool
// runs as the state directory's owner) and no writer of theirs may still be running;
// otherwise it lists them.
int Verify(AdminEnv& env, bool may_remove);

// admin_reports.cpp. ListReports: names, oldest first (text), or one row per report with
// its time, uploader and counts (JSON, CSV). SummarizeReports: reports and entry counts
// per UTC day of receipt and in total.
int ListReports(AdminEnv& env, OutputFormat format);
int SummarizeReports(AdminEnv& env, OutputFormat format);
// A name that is no report's is bad usage.
int ShowReport(AdminEnv& env, const std::string& name);

// admin_audit.cpp: the records of audit.log with their times in UTC, checking the chain
// as it reads; takes no lock and changes nothing.
struct AuditQuery {
  std::optional<std::int64_t> since;  // unix seconds: records at or after it
  std::vector<std::string> events;    // only these events ("admin_*": a prefix); all if empty
};
int ListAudit(AdminEnv& env, const AuditQuery& query);
// `audit prune`: applies audit.retention now, or drops the records before `before` (unix
// seconds) when given (store::AuditTrail::Prune, on audit.log or the database's chain); the
// anchor it writes is the audit record, naming the operator. Bad usage: no `before` while
// audit.retention is 0, or a cutoff less than a day ago (kMinAuditRetentionSeconds).
int AuditPrune(AdminEnv& env, std::optional<std::int64_t> before);

int Compact(AdminEnv& env);

// admin_staff.cpp: the web console's staff accounts (store/staff_store.hpp). A password of
// at least 12 bytes, hashed with the configuration's Argon2id costs; passwd ends the
// account's console sessions (every instance on PostgreSQL; the file backend's server keeps
// sessions in memory, so there a restart or the idle timeout ends them).
int StaffAdd(AdminEnv& env, const std::string& name, store::StaffRole role,
             std::string_view password);
int StaffRemove(AdminEnv& env, const std::string& name);
int StaffPasswd(AdminEnv& env, const std::string& name, std::string_view password);
int StaffList(AdminEnv& env);

// admin_db.cpp: the PostgreSQL backend's database, as env.config's [postgres] section
// names it (password file and timeouts included). Import and export need this build's
// schema version (`db migrate`); import refuses a state directory a server runs on, and a
// database that holds state unless `merge` (store/postgres/pg_transfer.hpp). None of them
// writes audit.log.
struct DbTarget {
  std::string conninfo;  // a libpq connection string replacing postgres.conninfo; empty: none
  std::string sql_dir;   // the migrations (packaging/sql/ as installed)
};
int DbMigrate(AdminEnv& env, const DbTarget& db);
int DbImport(AdminEnv& env, const DbTarget& db, const std::string& state_dir, bool merge);
int DbExport(AdminEnv& env, const DbTarget& db, const std::string& out_dir);

}  // namespace bluetrace::admin
