#include "admin_commands.hpp"

#include <chrono>

#include <algorithm>
#include <memory>
#include <vector>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/protocol/text_lines.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/service/auth_service.hpp"
#include "bluetrace/service/password_rules.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/store/files/file_tempid_store.hpp"
#include "bluetrace/store/files/file_user_store.hpp"
#include "bluetrace/store/files/leftover_temp_files.hpp"
#include "bluetrace/store/files/state_dir.hpp"

namespace bluetrace::admin {
namespace {

store::StateDir Dir(const AdminEnv& env) { return store::StateDir(env.config.state_dir); }

int Fail(const AdminEnv& env, const std::string& message) {
  std::fprintf(env.err, "bluetrace-admin: %s\n", message.c_str());
  return kExitFailed;
}

// Appends an admin record; the change it describes is already made, so a failure here is
// reported but cannot undo it.
int Audited(AdminEnv& env, std::string_view event, store::AuditFields fields) {
  fields.emplace_back("by", env.op.by);
  if (!env.op.as.empty()) fields.emplace_back("as", env.op.as);
  auto log = store::AuditLog::Open(env.fs, env.clock, Dir(env).audit_log(), Dir(env).audit_lock());
  util::Status st = log.ok() ? (*log)->Append(event, fields) : log.status();
  if (!st.ok()) return Fail(env, "done, but the audit record was not written: " + st.ToString());
  return kExitOk;
}

// The stores take these around every rewrite, as the server's stores do. The server holds
// them for milliseconds; the longer wait covers a server busy with a burst of logins.
store::InterProcessLock StateLock(const AdminEnv& env, const char* name) {
  return {Dir(env).Path(name), std::chrono::seconds(30)};
}

store::Argon2Params Params(const AdminEnv& env) {
  return {env.config.argon2_memory_kib, env.config.argon2_iterations,
          env.config.argon2_parallelism};
}

util::Result<std::unique_ptr<store::FileUserStore>> OpenCredentials(AdminEnv& env) {
  return store::FileUserStore::Open(env.fs, Dir(env).credentials(), Params(env), env.random,
                                    StateLock(env, store::StateDir::kCredentialsLock));
}

util::Result<std::unique_ptr<store::FileLockoutStore>> OpenLockouts(AdminEnv& env) {
  store::LockoutPolicy policy;
  policy.max_failures = env.config.max_failed_logins;
  policy.block_seconds = env.config.block_duration_seconds;
  return store::FileLockoutStore::Open(env.fs, Dir(env).lockouts(), policy, env.clock,
                                       StateLock(env, store::StateDir::kLockoutsLock));
}

// Runs `change` on the credentials; the store re-reads the file under .lock-credentials
// before it writes.
template <typename Fn>
int ChangeCredentials(AdminEnv& env, Fn change) {
  auto creds = OpenCredentials(env);
  if (!creds.ok()) return Fail(env, creds.status().ToString());
  return change(**creds);
}

std::string Canonical(const std::string& user) {
  auto c = protocol::CanonicalPhone(user);
  return c.ok() ? *c : user;
}

// Registration's password rule with the bounds of the server's configuration (its
// defaults when the tool was given none), so the tool admits what the server would.
util::Status NewPasswordRule(const AdminEnv& env, std::string_view password) {
  return service::CheckPasswordLength(password.size(), env.config.min_password_length,
                                      env.config.max_password_length);
}

}  // namespace

int Usage(const AdminEnv& env, const std::string& message) {
  std::fprintf(env.err, "bluetrace-admin: %s\n", message.c_str());
  return kExitUsage;
}

int UserAdd(AdminEnv& env, const std::string& user, std::string_view password) {
  return ChangeCredentials(env, [&](store::FileUserStore& creds) {
    if (auto rule = NewPasswordRule(env, password); !rule.ok()) return Fail(env, rule.message());
    if (auto st = creds.AddUser(user, password); !st.ok()) return Fail(env, st.ToString());
    std::fprintf(env.out, "added %s\n", Canonical(user).c_str());
    return Audited(env, "admin_user_added", {{"user", Canonical(user)}});
  });
}

int UserRemove(AdminEnv& env, const std::string& user) {
  return ChangeCredentials(env, [&](store::FileUserStore& creds) {
    if (auto st = creds.RemoveUser(user); !st.ok()) return Fail(env, st.ToString());
    std::fprintf(env.out, "removed %s\n", Canonical(user).c_str());
    return Audited(env, "admin_user_removed", {{"user", Canonical(user)}});
  });
}

int UserPasswd(AdminEnv& env, const std::string& user, std::string_view password) {
  return ChangeCredentials(env, [&](store::FileUserStore& creds) {
    if (auto rule = NewPasswordRule(env, password); !rule.ok()) return Fail(env, rule.message());
    if (auto st = creds.SetPassword(user, password); !st.ok()) return Fail(env, st.ToString());
    std::fprintf(env.out, "password of %s changed\n", Canonical(user).c_str());
    return Audited(env, "admin_password_changed", {{"user", Canonical(user)}});
  });
}

int MigrateCredentials(AdminEnv& env) {
  return ChangeCredentials(env, [&](store::FileUserStore& creds) {
    auto migrated = creds.MigrateAll();
    if (!migrated.ok()) return Fail(env, migrated.status().ToString());
    std::fprintf(env.out, "%zu plaintext passwords replaced by Argon2id hashes\n", *migrated);
    return Audited(env, "admin_migrated_credentials", {{"count", std::to_string(*migrated)}});
  });
}

int Unblock(AdminEnv& env, const std::string& user) {
  auto lockouts = OpenLockouts(env);
  if (!lockouts.ok()) return Fail(env, lockouts.status().ToString());
  // "<UserID>#<device>": one device's block (auth.device_lockout); a UserID: all its blocks.
  const std::size_t hash = user.find('#');
  const std::string key =
      hash == std::string::npos
          ? service::AuthService::LockoutKey(user)
          : service::AuthService::LockoutKey(user.substr(0, hash)) + user.substr(hash);
  std::vector<std::string> keys;
  for (const auto& b : (*lockouts)->ListBlocked()) {
    if (b.user == key || (hash == std::string::npos && b.user.rfind(key + "#", 0) == 0)) {
      keys.push_back(b.user);
    }
  }
  if (keys.empty()) return Fail(env, key + " is not blocked");
  // The store merges with lockouts.txt under .lock-lockouts; a running server's next
  // rewrite merges the same way, so it cannot restore the block. The server's own check
  // sees the change when it reloads the file, within about a second.
  int status = kExitOk;
  for (const auto& k : keys) {
    if (auto st = (*lockouts)->Unblock(k); !st.ok()) {
      status = Fail(
          env, st.code() == util::StatusCode::kNotFound ? k + " is not blocked" : st.ToString());
      continue;
    }
    std::fprintf(env.out, "unblocked %s\n", k.c_str());
    if (Audited(env, "admin_unblocked", {{"user", k}}) != kExitOk) status = kExitFailed;
  }
  return status;
}

int ListBlocked(AdminEnv& env, OutputFormat format) {
  // A mistyped --state-dir must not read as "no user is blocked".
  if (auto state = env.fs.Exists(env.config.state_dir); !state.ok() || !*state) {
    return Fail(env, "no state directory " + env.config.state_dir);
  }
  auto lockouts = OpenLockouts(env);
  if (!lockouts.ok()) return Fail(env, lockouts.status().ToString());
  const auto blocked = (*lockouts)->ListBlocked();
  if (format == OutputFormat::kJson) {
    std::string json = "[";
    for (std::size_t i = 0; i < blocked.size(); ++i) {
      const auto& b = blocked[i];
      json += std::string(i == 0 ? "\n" : ",\n") + "  {\"user\": " + JsonString(b.user) +
              ", \"blocked_until\": " + JsonString(IsoUtc(b.blocked_until)) +
              ", \"seconds_left\": " + std::to_string(b.seconds_left) + "}";
    }
    std::fprintf(env.out, "%s%s]\n", json.c_str(), blocked.empty() ? "" : "\n");
    return kExitOk;
  }
  if (format == OutputFormat::kCsv) {
    std::string csv = CsvRecord({"user", "blocked_until", "seconds_left"});
    for (const auto& b : blocked) {
      csv += CsvRecord({b.user, IsoUtc(b.blocked_until), std::to_string(b.seconds_left)});
    }
    std::fputs(csv.c_str(), env.out);
    return kExitOk;
  }
  if (blocked.empty()) std::fputs("no user is blocked\n", env.err);
  for (const auto& b : blocked) {
    std::fprintf(env.out, "%s %lld s left\n", b.user.c_str(),
                 static_cast<long long>(b.seconds_left));
  }
  return kExitOk;
}

int Compact(AdminEnv& env) {
  auto server = env.fs.LockFile(Dir(env).server_lock(), false);
  if (!server.ok()) {
    return Fail(env, server.status().code() == util::StatusCode::kUnavailable
                         ? "a server is running on " + env.config.state_dir +
                               "; it applies the TempID retention by itself every hour. "
                               "Stop it to compact now."
                         : server.status().ToString());
  }
  store::TempIdStoreOptions options;
  options.path = Dir(env).tempids();
  options.time_mode = env.config.time_mode;
  options.retention_seconds = env.config.tempid_retention_seconds;
  auto tempids = store::FileTempIdStore::Open(env.fs, env.clock, options);
  if (!tempids.ok()) return Fail(env, tempids.status().ToString());
  auto stats = (*tempids)->Compact();
  if (!stats.ok()) return Fail(env, stats.status().ToString());
  std::fprintf(env.out, "tempIDs.txt: %llu records kept, %llu expired dropped\n",
               static_cast<unsigned long long>(stats->records_kept),
               static_cast<unsigned long long>(stats->records_dropped));
  return Audited(env, "admin_compacted",
                 {{"kept", std::to_string(stats->records_kept)},
                  {"dropped", std::to_string(stats->records_dropped)}});
}

}  // namespace bluetrace::admin
