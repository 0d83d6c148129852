// bluetrace-admin db migrate | import <state_dir> | export <dir>: the PostgreSQL backend's
// schema, and moving a state directory into or out of its database
// (store/postgres/pg_transfer.hpp). The database is the configuration's [postgres]
// (service/storage_config.hpp), or --conninfo's.
#include <cstdio>
#include <string>

#include "admin_commands.hpp"
#include "bluetrace/service/storage_config.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "bluetrace/store/postgres/pg_connection.hpp"
#include "bluetrace/store/postgres/pg_transfer.hpp"

namespace bluetrace::admin {
namespace {

// The server's [postgres] settings (password file and timeouts included), with the
// connection string of --conninfo in place of postgres.conninfo when given.
util::Result<std::unique_ptr<store::PgConnection>> Connect(const AdminEnv& env,
                                                           const DbTarget& db) {
  BLUETRACE_ASSIGN_OR_RETURN(auto pool, service::PostgresPoolOptions(env.config, env.fs));
  if (!db.conninfo.empty()) pool.connection.conninfo = db.conninfo;
  return store::PgConnection::Open(pool.connection);
}

void PrintNotes(const AdminEnv& env, const store::TransferStats& stats) {
  for (const std::string& note : stats.notes) std::fprintf(env.err, "note: %s\n", note.c_str());
}

unsigned long long U(std::uint64_t n) { return static_cast<unsigned long long>(n); }

}  // namespace

int DbMigrate(AdminEnv& env, const DbTarget& db) {
  auto conn = Connect(env, db);
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
  auto conn = Connect(env, db);
  if (!conn.ok()) return Fail(env, conn.status().ToString());
  if (auto st = store::CheckSchemaVersion(**conn); !st.ok()) return Fail(env, st.ToString());
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
               "lockouts, %llu reports, %llu audit records, %llu staff accounts, %llu contact "
               "statuses, %llu upload codes (%llu days of counts), %llu upload code lockouts; "
               "%llu lines already in the database\n",
               U(stats->users), U(stats->hashed_passwords), U(stats->tempids), U(stats->lockouts),
               U(stats->reports), U(stats->audit_records), U(stats->staff),
               U(stats->contact_statuses), U(stats->upload_codes), U(stats->code_days),
               U(stats->code_failures), U(stats->skipped));
  PrintNotes(env, *stats);
  return kExitOk;
}

int DbExport(AdminEnv& env, const DbTarget& db, const std::string& out_dir) {
  auto conn = Connect(env, db);
  if (!conn.ok()) return Fail(env, conn.status().ToString());
  if (auto st = store::CheckSchemaVersion(**conn); !st.ok()) return Fail(env, st.ToString());
  store::ExportOptions options;
  options.time_mode = env.config.time_mode;
  auto stats = store::ExportStateDir(**conn, env.fs, out_dir, options);
  if (!stats.ok()) return Fail(env, stats.status().ToString());
  std::fprintf(env.out,
               "exported %llu users, %llu TempIDs, %llu lockouts, %llu reports, %llu audit "
               "records, %llu staff accounts, %llu contact statuses, %llu upload codes (%llu "
               "days of counts), %llu upload code lockouts to %s\n",
               U(stats->users), U(stats->tempids), U(stats->lockouts), U(stats->reports),
               U(stats->audit_records), U(stats->staff), U(stats->contact_statuses),
               U(stats->upload_codes), U(stats->code_days), U(stats->code_failures),
               out_dir.c_str());
  PrintNotes(env, *stats);
  return kExitOk;
}

}  // namespace bluetrace::admin
