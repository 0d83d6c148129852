// The storage settings of the server's configuration ([storage], [postgres]): the one
// place that picks a backend and turns the keys into its options, for bluetrace-server and
// bluetrace-admin. Stateless functions.
#pragma once

#include <string>

#include "bluetrace/service/server_config.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/store/stores.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

// postgres.conninfo's checks (store::ValidatePgOptions: well-formed, no password in it, a
// remote host only with sslmode=verify-full); errors name the key.
util::Status CheckPostgresConninfo(const std::string& conninfo);

// The longest password file read, in bytes.
inline constexpr std::uint64_t kMaxPasswordFileBytes = 1024;

// The pool options of `config`'s [postgres] section. The password file, when set, is read
// now: its first line is the password (a trailing newline dropped); it must be a regular
// file that neither group nor others can read (as libpq demands of ~/.pgpass), at most
// kMaxPasswordFileBytes, not empty. Errors name the key: kInvalidArgument for the checks
// above, the file system's for a file that cannot be read.
util::Result<store::PgPoolOptions> PostgresPoolOptions(const ServerConfig& config,
                                                       store::FileSystem& fs);

// Opens the stores of the backend storage.backend names, with the configuration's Argon2
// parameters, lockout policy and TempID retention: the files of state_dir, or the
// PostgreSQL database of [postgres] (which must carry this build's schema version).
// Errors: the backend's (a malformed file naming the line; a database unreachable,
// kUnavailable, or of another schema version, kFailedPrecondition). `fs`, `clock` and
// `random` must outlive the stores.
util::Result<store::Stores> OpenStorage(const ServerConfig& config, store::FileSystem& fs,
                                        util::Clock& clock, util::Random& random);

// The upload code key file: upload.code_key_file, or <state_dir>/upload-code.key.
std::string UploadCodeKeyPath(const ServerConfig& config);

// The upload codes' HMAC key (service/upload_code.hpp), created when missing. With the
// PostgreSQL backend the file must be named (kInvalidArgument otherwise): every instance
// needs the same key. Errors name the key upload.code_key_file.
util::Result<util::SecretString> OpenUploadCodeKey(const ServerConfig& config,
                                                   store::FileSystem& fs, util::Random& random);

}  // namespace bluetrace::service
