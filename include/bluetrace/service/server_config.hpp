// ServerConfig: every knob of bluetrace-server, each with its default and its reason, in
// one place (leveldb options.h style). ServerConfigKeys() declares each key once (TOML name,
// field, range, help, command-line flag): parsing, range checks, --print-config, SIGHUP's
// comparison and the flags all come from it, and a test keeps config/server.toml and the
// man page in step with it. ParseServerConfig names the key that is wrong. Plain data,
// thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/service/password_rules.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

// A token bucket: `burst` events at once, refilled at `per_second` events per second.
struct RateLimit {
  double per_second = 1.0;
  double burst = 1.0;
};

// auth.block_duration's range, which the original's positional block_duration shares.
inline constexpr std::int64_t kMinBlockDurationSeconds = 1;
inline constexpr std::int64_t kMaxBlockDurationSeconds = 30 * 24 * 3600;  // 30 days
// The shortest audit.retention (and `bluetrace-admin audit prune --before` age) accepted.
inline constexpr std::int64_t kMinAuditRetentionSeconds = 24 * 3600;

struct ServerConfig {
  // --- [server]
  std::string bind_address = "0.0.0.0";  // IPv4 or IPv6 literal
  std::uint16_t port = 4000;             // 0 picks a free port (tests)
  std::string state_dir = ".";           // credentials.txt, tempIDs.txt, lockouts, reports
  std::uint32_t io_threads = 2;          // Asio threads; each session runs on its own strand
  bool console_output = true;            // the original's console lines on stdout
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;  // "utc" | "local"
  std::string log_level = "info";                                   // spdlog level name, on stderr

  // --- [auth]
  std::int64_t block_duration_seconds = 60;  // the original's block_duration
  std::uint32_t max_failed_logins = 3;       // consecutive failures before a block
  bool registration_enabled = true;
  std::uint32_t min_password_length = kDefaultMinPasswordBytes;  // bytes (password_rules.hpp)
  std::uint32_t max_password_length = kDefaultMaxPasswordBytes;
  std::uint32_t argon2_memory_kib = 19456;  // OWASP minimum for Argon2id: 19 MiB
  std::uint32_t argon2_iterations = 2;
  std::uint32_t argon2_parallelism = 1;
  std::uint32_t argon2_workers = 2;            // threads hashing passwords, off the I/O threads
  std::uint32_t argon2_queue_depth = 64;       // logins waiting beyond this get "busy"
  std::uint32_t argon2_queue_per_source = 16;  // of those, from one address prefix
  bool device_lockout = false;  // failures elsewhere do not block a known device (SECURITY.md)
  std::size_t max_tracked_unknown_users = 10000;  // lockout entries for unknown names

  // --- [tempid]
  std::int64_t tempid_lifetime_seconds = 15 * 60;  // expiry = start + lifetime - 1
  // Compaction drops TempIDs that expired longer ago. 0: keep every one, as the original
  // did (the simulator's default); the packaged configuration keeps 21 days.
  std::int64_t tempid_retention_seconds = 0;

  // --- [upload] (docs/SECURITY.md, "Upload codes")
  // Uploads need a code issued by the health authority (bluetrace-admin code issue). Off
  // by default, so the original's command line and a configuration without the key behave
  // as the original; the packaged configuration turns it on.
  bool upload_require_code = false;
  std::int64_t upload_code_lifetime_seconds = 3600;  // a code expires this long after issue
  std::uint32_t upload_code_max_failures = 5;        // wrong codes per user before a block
  std::int64_t upload_code_block_seconds = 3600;     // how long that block lasts
  // Wrong codes per source address per hour (in each server instance's memory).
  std::uint32_t upload_code_failures_per_address = 20;
  // The HMAC key codes are hashed with; empty: <state_dir>/upload-code.key, created (0600)
  // when missing. Several PostgreSQL instances must share one file.
  std::string upload_code_key_file;
  // Uploads (reports) per user in any 24 hours; 0: no limit, as the original (the packaged
  // configuration allows 10).
  std::uint32_t upload_max_per_day = 0;
  // Reports older than this are deleted at start-up and hourly; 0: kept for ever, as the
  // original (the packaged configuration keeps 90 days).
  std::int64_t report_retention_seconds = 0;

  // --- [audit] (docs/SECURITY.md, "Tampering")
  // Audit records older than this are pruned at start-up and hourly (whole UTC days: a
  // record stays up to a day longer), an anchor record keeping the rest of the chain
  // verifiable (store/audit_trail.hpp, Prune); 0: every record
  // is kept, as the original's command line does (the packaged configuration keeps 2
  // years). Between 1 and 86399 is refused: a typo must not wipe the trail.
  std::int64_t audit_retention_seconds = 0;

  // --- [tls]
  std::string certificate_file;         // empty: <state_dir>/server.crt, created when missing
  std::string private_key_file;         // empty: <state_dir>/server.key
  std::string tls_min_version = "1.3";  // "1.3" or "1.2"

  // --- [limits]
  std::uint32_t max_frame_bytes = 1u << 20;    // one protocol frame
  std::uint64_t max_upload_bytes = 16u << 20;  // one contact log upload
  std::uint32_t max_upload_entries = 200000;   // lines in one upload
  std::uint32_t max_connections = 1024;        // open at once, in total
  // The per-address limits are sized for a class of 60 behind one NAT address.
  std::uint32_t max_connections_per_address = 64;
  RateLimit connection_rate{5.0, 60.0};              // new connections per source address
  RateLimit login_rate{2.0, 60.0};                   // login/register attempts per source address
  RateLimit tempid_rate{0.2, 10.0};                  // Download_tempID per user
  std::uint32_t max_pending_write_bytes = 4u << 20;  // unread replies before a drop

  // --- [timeouts] (seconds)
  std::uint32_t handshake_timeout = 10;  // TCP accept to finished TLS handshake
  std::uint32_t login_timeout = 60;      // connect to completed login
  std::uint32_t idle_timeout = 300;      // no frame from a logged-in client (it pings)
  std::uint32_t write_timeout = 30;      // one reply reaching the client
  std::uint32_t shutdown_grace = 10;     // SIGTERM: time sessions get to finish

  // --- [ops]
  std::string metrics_address;  // empty: off; e.g. "127.0.0.1:9464"

  // --- [console] (the contact tracers' web console; docs/SECURITY.md)
  bool console_enabled = false;                       // off unless configured
  std::string console_address = "127.0.0.1";          // IP literal; loopback by default
  std::uint16_t console_port = 8443;                  // HTTPS, the protocol port's certificate
  std::uint32_t console_idle_timeout = 15 * 60;       // seconds without a request
  std::uint32_t console_absolute_timeout = 8 * 3600;  // seconds a session lives at most
  std::uint32_t console_max_failed_logins = 5;        // consecutive, then a block
  std::int64_t console_block_duration = 15 * 60;      // seconds a staff block lasts
  std::uint32_t console_max_connections = 32;         // open at once

  // --- [storage]
  std::string storage_backend = "files";  // "files" (state_dir) | "postgres" ([postgres])

  // --- [postgres] (storage.backend = "postgres"; storage_config.hpp)
  // A libpq connection string, keywords or URI, without a password (refused). A host that
  // is neither loopback nor a Unix socket directory needs sslmode=verify-full.
  std::string postgres_conninfo = "host=/var/run/postgresql dbname=bluetrace user=bluetrace";
  std::string postgres_password_file;                // empty: libpq's own (PGPASSWORD, ~/.pgpass)
  std::uint32_t postgres_pool_size = 4;              // connections per instance
  std::uint32_t postgres_acquire_timeout_ms = 2000;  // wait for a free connection
  std::uint32_t postgres_statement_timeout_ms = 5000;
  std::uint32_t postgres_connect_timeout = 5;  // seconds
};

// One half of a RateLimit key pair ("limits.logins_per_second", "limits.logins_burst").
struct RateField {
  RateLimit ServerConfig::*rate;
  double RateLimit::*part;
};

// Where a key's value lives in ServerConfig.
using ConfigField =
    std::variant<bool ServerConfig::*, std::string ServerConfig::*, std::uint16_t ServerConfig::*,
                 std::uint32_t ServerConfig::*, std::uint64_t ServerConfig::*,
                 std::int64_t ServerConfig::*, protocol::TimeZoneMode ServerConfig::*, RateField>;

// One key of the server's TOML configuration. Its default is its field's in ServerConfig.
struct ServerConfigKey {
  std::string_view name;  // "section.key", as in the file
  ConfigField field;
  // Integer and float keys: the accepted range (exact as doubles: every bound is < 2^53).
  double min = 0;
  double max = 0;
  std::string_view help;  // one line; the --help text of the flag
  // The command-line option that overrides the key, or empty. On a boolean key it is a
  // switch that sets the key to false ("--no-console").
  std::string_view flag = {};
  bool live = false;  // a running server applies it at SIGHUP; others need a restart
};

// Every key, in the order of the file and of FormatServerConfig.
std::span<const ServerConfigKey> ServerConfigKeys();

// The key named `name` ("server.port"), or nullptr.
const ServerConfigKey* FindServerConfigKey(std::string_view name);

// The key's value in `config` as TOML text, as FormatServerConfig prints it ("4000",
// "\"utc\"", "5.0").
std::string FormatServerConfigValue(const ServerConfigKey& key, const ServerConfig& config);

// Sets `key` from the text given to its command-line flag: a string key byte for byte,
// any other with the checks of the file; errors name the flag and the key ("--port:
// server.port: must be between 0 and 65535, got 70000"). A boolean key's switch passes
// "false".
util::Status ApplyServerConfigFlag(const ServerConfigKey& key, std::string_view text,
                                   ServerConfig& config);

// Reads TOML text into `config` (keys not present keep their current values, so a
// caller can apply defaults, then the file, then flags). Unknown keys and tables are
// errors (a typo must not silently fall back to a default). Errors name `source_name`,
// the key and the problem, e.g. "server.toml: limits.max_frame_bytes: must be between 64
// and 67108864, got 12".
util::Status ParseServerConfig(std::string_view toml_text, std::string_view source_name,
                               ServerConfig& config);

// Cross-field checks after every source has been applied (flags included).
util::Status ValidateServerConfig(const ServerConfig& config);

// Splits ops.metrics_address, "<IPv4>:<port>" or "[<IPv6>]:<port>" (port 0 picks a free
// one), into `host` and `port`. kInvalidArgument naming the key and the value otherwise.
util::Status ParseMetricsAddress(const std::string& text, std::string& host, std::uint16_t& port);

// The configuration as TOML, every key present (for --print-config and tests).
std::string FormatServerConfig(const ServerConfig& config);

// The keys ("limits.max_connections", ...) whose values differ between `a` and `b`, in
// the order FormatServerConfig prints them.
std::vector<std::string> ChangedKeys(const ServerConfig& a, const ServerConfig& b);

// Of those, the ones a running server applies at SIGHUP (ServerConfigKey::live); the others
// need a restart.
bool IsLiveKey(std::string_view key);

}  // namespace bluetrace::service
