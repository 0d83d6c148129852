#include "bluetrace/store/postgres/migrations.hpp"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

namespace bluetrace::store {
namespace {

// The advisory lock key of migrations ("btmigr" in ASCII), the same for every instance.
constexpr const char* kMigrationLockKey = "108252191352690";  // 0x62746d696772

struct Script {
  int version = 0;
  std::string name;  // file name
};

// "NNN_name.sql" with NNN three digits and name [a-z0-9_]+; other files are not scripts.
bool ParseScriptName(const std::string& file, int* version) {
  constexpr std::string_view kExt = ".sql";
  if (file.size() < 4 + 1 + kExt.size() ||
      file.compare(file.size() - kExt.size(), kExt.size(), kExt) != 0) {
    return false;
  }
  if (file[3] != '_') return false;
  for (std::size_t i = 4; i < file.size() - kExt.size(); ++i) {
    const char c = file[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  const auto [end, ec] = std::from_chars(file.data(), file.data() + 3, *version);
  return ec == std::errc() && end == file.data() + 3;
}

Result<std::vector<Script>> ListScripts(FileSystem& fs, const std::string& dir) {
  BLUETRACE_ASSIGN_OR_RETURN(auto files, fs.ListDir(dir));
  std::vector<Script> scripts;
  for (const std::string& f : files) {
    if (f.size() < 4 || f.compare(f.size() - 4, 4, ".sql") != 0) continue;
    int version = 0;
    if (!ParseScriptName(f, &version)) {
      return util::InvalidArgument(dir + "/" + f + ": a migration is named NNN_name.sql");
    }
    scripts.push_back({version, f});
  }
  std::sort(scripts.begin(), scripts.end(),
            [](const Script& a, const Script& b) { return a.version < b.version; });
  for (std::size_t i = 0; i < scripts.size(); ++i) {
    if (scripts[i].version != static_cast<int>(i) + 1) {
      return util::InvalidArgument(
          dir + ": migration " + std::to_string(i + 1) +
          (scripts[i].version <= static_cast<int>(i) ? " is duplicated" : " is missing"));
    }
  }
  return scripts;
}

Result<int> Migrate(PgConnection& conn, FileSystem& fs, const std::string& dir,
                    const std::vector<Script>& scripts) {
  BLUETRACE_RETURN_IF_ERROR(conn.ExecScript("create schema_version",
                                            "CREATE TABLE IF NOT EXISTS schema_version ("
                                            " version integer PRIMARY KEY,"
                                            " name text NOT NULL,"
                                            " applied_at timestamptz NOT NULL DEFAULT now())"));
  BLUETRACE_ASSIGN_OR_RETURN(int version, SchemaVersion(conn));
  const int newest = static_cast<int>(scripts.size());
  if (version > newest) {
    return util::FailedPrecondition("the database's schema version " + std::to_string(version) +
                                    " is newer than this server's newest migration " +
                                    std::to_string(newest));
  }
  for (const Script& s : scripts) {
    if (s.version <= version) continue;
    BLUETRACE_ASSIGN_OR_RETURN(auto text, fs.ReadFile(dir + "/" + s.name));
    BLUETRACE_RETURN_IF_ERROR(conn.ExecScript("begin migration", "BEGIN"));
    Status st = conn.ExecScript("migration " + s.name, text);
    if (st.ok()) {
      st = conn.Exec("record migration " + s.name,
                     "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                     {std::to_string(s.version), s.name})
               .status();
    }
    if (st.ok()) st = conn.ExecScript("commit migration " + s.name, "COMMIT");
    if (!st.ok()) {
      (void)conn.ExecScript("rollback migration", "ROLLBACK");
      return st;
    }
    version = s.version;
  }
  return version;
}

}  // namespace

Result<int> SchemaVersion(PgConnection& conn) {
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn.Exec("read schema version",
                          "SELECT CASE WHEN to_regclass('schema_version') IS NULL THEN -1 END"));
  if (!res.IsNull(0, 0)) return 0;
  BLUETRACE_ASSIGN_OR_RETURN(
      auto max,
      conn.Exec("read schema version", "SELECT coalesce(max(version), 0) FROM schema_version"));
  BLUETRACE_ASSIGN_OR_RETURN(std::int64_t v, max.GetInt(0, 0));
  return static_cast<int>(v);
}

Result<int> ApplyMigrations(PgConnection& conn, FileSystem& fs, const std::string& dir) {
  BLUETRACE_ASSIGN_OR_RETURN(auto scripts, ListScripts(fs, dir));
  // Session-level lock: waits for another instance's migration (bounded by the
  // statement timeout) and is released whatever happened.
  BLUETRACE_RETURN_IF_ERROR(conn.Exec("lock migrations", "SELECT pg_advisory_lock($1::bigint)",
                                      {std::string(kMigrationLockKey)})
                                .status());
  Result<int> result = Migrate(conn, fs, dir, scripts);
  Status unlock = conn.Exec("unlock migrations", "SELECT pg_advisory_unlock($1::bigint)",
                            {std::string(kMigrationLockKey)})
                      .status();
  if (result.ok() && !unlock.ok()) return unlock;
  return result;
}

Status CheckSchemaVersion(PgConnection& conn) {
  BLUETRACE_ASSIGN_OR_RETURN(const int version, SchemaVersion(conn));
  if (version == kSchemaVersion) return Status::Ok();
  const std::string found =
      version == 0 ? "has no bluetrace schema" : "has schema version " + std::to_string(version);
  if (version < kSchemaVersion) {
    return util::FailedPrecondition("the database " + found + "; this server needs version " +
                                    std::to_string(kSchemaVersion) +
                                    ": run `bluetrace-admin db migrate` first");
  }
  return util::FailedPrecondition("the database " + found + ", newer than version " +
                                  std::to_string(kSchemaVersion) +
                                  " of this server: upgrade bluetrace-server");
}

}  // namespace bluetrace::store
