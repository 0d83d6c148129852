// bluetrace-admin db migrate | import <state_dir> | export <dir>: the PostgreSQL backend's
// schema, and moving a state directory into or out of its database
// (store/postgres/pg_transfer.hpp).
#include <cstdio>
#include <string>

#include "admin_commands.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "bluetrace/store/postgres/pg_connection.hpp"
#include "bluetrace/store/postgres/pg_transfer.hpp"

namespace bluetrace::admin {
namespace {

int Fail(const AdminEnv& env, const std::string& message) {
  std::fprintf(env.err, "bluetrace-admin: %s\n", message.c_str());
  return kExitFailed;
}

// Bulk transfers run long; PgConnection's statement timeout is lifted inside their
// transactions anyway.
util::Result<std::unique_ptr<store::PgConnection>> Connect(const DbTarget& db) {
  store::PgOptions options;
  options.conninfo = db.conninfo;
  return store::PgConnection::Open(options);
}

// The schema must be there and current: import and export never create it.
util::Status RequireSchema(store::PgConnection& conn) {
  BLUETRACE_ASSIGN_OR_RETURN(const int version, store::SchemaVersion(conn));
  if (version == 0) {
    return util::FailedPrecondition(
        "the database has no bluetrace schema; run \"bluetrace-admin db migrate\" first");
  }
  return util::Status::Ok();
}

void PrintNotes(const AdminEnv& env, const store::TransferStats& stats) {
  for (const std::string& note : stats.notes) std::fprintf(env.err, "note: %s\n", note.c_str());
}

unsigned long long U(std::uint64_t n) { return static_cast<unsigned long long>(n); }

}  // namespace

int DbMigrate(AdminEnv& env, const DbTarget& db) {
  auto conn = Connect(db);
  if (!conn.ok()) return Fail(env, conn.status().ToString());
  auto before = store::SchemaVersion(**conn);
  if (!before.ok()) return Fail(env, before.status().ToString());
  auto after = store::ApplyMigrations(**conn, env.fs, db.sql_dir);
  if (!after.ok()) return Fail(env, after.status().ToString());
  std::fprintf(env.out, "schema version %d (was %d)\n", *after, *before);
  return kExitOk;
}

int DbImport(AdminEnv& env, const DbTarget& db, const std::string& state_dir, bool merge) {
  if (auto st = store::RequireStateDirectory(env.fs, state_dir); !st.ok()) {
    return Fail(env, st.message());
  }
  // A running server would go on changing the files being read.
  auto server = env.fs.LockFile(store::StateDir(state_dir).server_lock(), false);
  if (!server.ok()) {
    return Fail(env, server.status().code() == util::StatusCode::kUnavailable
                         ? "a server is running on " + state_dir + "; stop it to import"
                         : server.status().ToString());
  }
  auto conn = Connect(db);
  if (!conn.ok()) return Fail(env, conn.status().ToString());
  if (auto st = RequireSchema(**conn); !st.ok()) return Fail(env, st.ToString());
  store::ImportOptions options;
  options.merge = merge;
  options.argon2 = {env.config.argon2_memory_kib, env.config.argon2_iterations,
                    env.config.argon2_parallelism};
  options.random = &env.random;
  options.time_mode = env.config.time_mode;
  auto stats = store::ImportStateDir(**conn, env.fs, state_dir, options);
  if (!stats.ok()) return Fail(env, stats.status().ToString() + "; nothing was imported");
  std::fprintf(env.out,
               "imported %llu users (%llu plaintext passwords hashed), %llu TempIDs, %llu "
               "lockouts, %llu reports, %llu audit records; %llu lines already in the "
               "database\n",
               U(stats->users), U(stats->hashed_passwords), U(stats->tempids), U(stats->lockouts),
               U(stats->reports), U(stats->audit_records), U(stats->skipped));
  PrintNotes(env, *stats);
  return kExitOk;
}

int DbExport(AdminEnv& env, const DbTarget& db, const std::string& out_dir) {
  auto conn = Connect(db);
  if (!conn.ok()) return Fail(env, conn.status().ToString());
  if (auto st = RequireSchema(**conn); !st.ok()) return Fail(env, st.ToString());
  store::ExportOptions options;
  options.time_mode = env.config.time_mode;
  auto stats = store::ExportStateDir(**conn, env.fs, out_dir, options);
  if (!stats.ok()) return Fail(env, stats.status().ToString());
  std::fprintf(env.out,
               "exported %llu users, %llu TempIDs, %llu lockouts, %llu reports, %llu audit "
               "records to %s\n",
               U(stats->users), U(stats->tempids), U(stats->lockouts), U(stats->reports),
               U(stats->audit_records), out_dir.c_str());
  PrintNotes(env, *stats);
  return kExitOk;
}

}  // namespace bluetrace::admin
