#include "bluetrace/service/storage_config.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string_view>
#include <utility>

#include "bluetrace/service/upload_code.hpp"
#include "bluetrace/store/files/file_backend.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/postgres/pg_backend.hpp"
#include "bluetrace/store/postgres/pg_connection.hpp"

namespace bluetrace::service {

util::Status CheckPostgresConninfo(const std::string& conninfo) {
  store::PgOptions options;
  options.conninfo = conninfo;
  return store::ValidatePgOptions(options).WithContext("postgres.conninfo");
}

util::Result<store::PgPoolOptions> PostgresPoolOptions(const ServerConfig& c,
                                                       store::FileSystem& fs) {
  BLUETRACE_RETURN_IF_ERROR(CheckPostgresConninfo(c.postgres_conninfo));
  store::PgPoolOptions options;
  options.size = c.postgres_pool_size;
  options.acquire_timeout = std::chrono::milliseconds(c.postgres_acquire_timeout_ms);
  options.connection.conninfo = c.postgres_conninfo;
  options.connection.statement_timeout = std::chrono::milliseconds(c.postgres_statement_timeout_ms);
  options.connection.connect_timeout_seconds = static_cast<int>(c.postgres_connect_timeout);
  if (c.postgres_password_file.empty()) return options;

  const std::string& path = c.postgres_password_file;
  const std::string key = "postgres.password_file " + path;
  util::Result<store::FileInfo> info = fs.Stat(path);
  if (!info.ok()) return info.status().WithContext(key);
  if (info->is_directory) return util::InvalidArgument(key + ": is a directory");
  if ((info->mode & 077) != 0) {
    return util::InvalidArgument(key + ": group or others can read it; chmod 600 (or 400) it");
  }
  util::Result<std::string> text = fs.ReadFile(path, kMaxPasswordFileBytes);
  if (!text.ok()) return text.status().WithContext(key);
  std::string password = std::move(text).value();
  const std::size_t eol = password.find_first_of("\r\n");
  if (eol != std::string::npos) {
    // The rest of the file is not ours to send; zero it before it leaves the string.
    std::fill(password.begin() + static_cast<std::ptrdiff_t>(eol), password.end(), '\0');
    password.resize(eol);
  }
  if (password.empty()) {
    return util::InvalidArgument(key + ": the first line (the password) is empty");
  }
  options.connection.password = std::move(password);
  return options;
}

util::Result<store::Stores> OpenStorage(const ServerConfig& config, store::FileSystem& fs,
                                        util::Clock& clock, util::Random& random) {
  const store::Argon2Params argon2{config.argon2_memory_kib, config.argon2_iterations,
                                   config.argon2_parallelism};
  store::LockoutPolicy lockout;
  lockout.max_failures = config.max_failed_logins;
  lockout.block_seconds = config.block_duration_seconds;
  lockout.max_unknown_entries = config.max_tracked_unknown_users;
  store::LockoutPolicy code_lockout;
  code_lockout.max_failures = config.upload_code_max_failures;
  code_lockout.block_seconds = config.upload_code_block_seconds;
  code_lockout.max_unknown_entries = config.max_tracked_unknown_users;
  if (config.storage_backend == "postgres") {
    store::PgBackendOptions pg;
    BLUETRACE_ASSIGN_OR_RETURN(pg.pool, PostgresPoolOptions(config, fs));
    pg.argon2 = argon2;
    pg.lockout = lockout;
    pg.code_lockout = code_lockout;
    pg.tempid_retention_seconds = config.tempid_retention_seconds;
    return store::OpenPgBackend(clock, random, pg);
  }
  store::FileBackendOptions files;
  files.state_dir = config.state_dir;
  files.argon2 = argon2;
  files.lockout = lockout;
  files.code_lockout = code_lockout;
  files.time_mode = config.time_mode;
  files.tempid_retention_seconds = config.tempid_retention_seconds;
  return store::OpenFileBackend(fs, clock, random, files);
}

std::string UploadCodeKeyPath(const ServerConfig& config) {
  if (!config.upload_code_key_file.empty()) return config.upload_code_key_file;
  return store::JoinPath(config.state_dir, store::StateDir::kCodeKey);
}

util::Result<util::SecretString> OpenUploadCodeKey(const ServerConfig& config,
                                                   store::FileSystem& fs, util::Random& random) {
  if (config.storage_backend == "postgres" && config.upload_code_key_file.empty()) {
    return util::InvalidArgument(
        "upload.code_key_file: with storage.backend = \"postgres\" name the key file every "
        "instance and bluetrace-admin share");
  }
  auto key = LoadUploadCodeKey(fs, UploadCodeKeyPath(config), random, /*create=*/true);
  if (!key.ok()) return key.status().WithContext("upload.code_key_file");
  return key;
}

}  // namespace bluetrace::service
