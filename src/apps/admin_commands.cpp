#include "admin_commands.hpp"

#include <chrono>

#include <algorithm>
#include <memory>
#include <vector>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/protocol/text_lines.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/service/account_removal.hpp"
#include "bluetrace/service/auth_service.hpp"
#include "bluetrace/service/password_rules.hpp"
#include "bluetrace/service/storage_config.hpp"
#include "bluetrace/service/upload_code.hpp"
#include "bluetrace/service/upload_code_service.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/store/files/file_audit_trail.hpp"
#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/store/files/file_tempid_store.hpp"
#include "bluetrace/store/files/file_upload_code_store.hpp"
#include "bluetrace/store/files/file_user_store.hpp"
#include "bluetrace/store/files/leftover_temp_files.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/files/withdrawals.hpp"
#include "bluetrace/util/plural.hpp"

namespace bluetrace::admin {
namespace {

store::StateDir Dir(const AdminEnv& env) { return store::StateDir(env.config.state_dir); }

// Assigns a store opened by `expr` or fails the command with its error.
#define BLUETRACE_ASSIGN_OR_RETURN_FAIL(lhs, expr)                    \
  do {                                                                \
    auto _opened = (expr);                                            \
    if (!_opened.ok()) return Fail(env, _opened.status().ToString()); \
    lhs = std::move(*_opened);                                        \
  } while (false)

// A LockoutStore that counts nothing: issuing a code needs none.
class NoFailures final : public store::LockoutStore {
 public:
  store::BlockState Check(std::string_view) const override { return {}; }
  util::Result<store::FailureResult> RecordFailure(std::string_view, bool) override {
    return util::FailedPrecondition("no failures are counted here");
  }
  util::Status RecordSuccess(std::string_view) override { return util::Status::Ok(); }
  util::Status Unblock(std::string_view) override { return util::NotFound("nothing blocked"); }
  std::vector<store::BlockedUser> ListBlocked() const override { return {}; }
  util::Status Reload() override { return util::Status::Ok(); }
};

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

// Runs `change(users, db)` on the configured storage's users: the database's (then `db` is
// its stores, for the audit record), or credentials.txt, which the store re-reads under
// .lock-credentials before it writes (then `db` is null).
template <typename Fn>
int ChangeUsers(AdminEnv& env, Fn change) {
  if (OnDatabase(env)) {
    auto db = OpenDatabase(env);
    if (!db.ok()) return Fail(env, db.status().ToString());
    return change(*db->users, &*db);
  }
  auto creds = OpenCredentials(env);
  if (!creds.ok()) return Fail(env, creds.status().ToString());
  return change(**creds, static_cast<store::Stores*>(nullptr));
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

bool OnDatabase(const AdminEnv& env) { return env.config.storage_backend == "postgres"; }

int Fail(const AdminEnv& env, const std::string& message) {
  std::fprintf(env.err, "bluetrace-admin: %s\n", message.c_str());
  return kExitFailed;
}

int Audited(AdminEnv& env, std::string_view event, store::AuditFields fields, store::Stores* db) {
  fields.emplace_back("by", env.op.by);
  if (!env.op.as.empty()) fields.emplace_back("as", env.op.as);
  util::Status st;
  if (db != nullptr) {
    st = db->audit->Record(event, fields);
  } else {
    auto log =
        store::AuditLog::Open(env.fs, env.clock, Dir(env).audit_log(), Dir(env).audit_lock());
    st = log.ok() ? (*log)->Append(event, fields) : log.status();
  }
  if (!st.ok()) return Fail(env, "done, but the audit record was not written: " + st.ToString());
  return kExitOk;
}

util::Result<store::Stores> OpenDatabase(AdminEnv& env) {
  return service::OpenStorage(env.config, env.fs, env.clock, env.random);
}

int Usage(const AdminEnv& env, const std::string& message) {
  std::fprintf(env.err, "bluetrace-admin: %s\n", message.c_str());
  return kExitUsage;
}

int UserAdd(AdminEnv& env, const std::string& user, std::string_view password) {
  return ChangeUsers(env, [&](store::UserStore& users, store::Stores* db) {
    if (auto rule = NewPasswordRule(env, password); !rule.ok()) return Fail(env, rule.message());
    if (auto st = users.AddUser(user, password); !st.ok()) return Fail(env, st.ToString());
    std::fprintf(env.out, "added %s\n", Canonical(user).c_str());
    return Audited(env, "admin_user_added", {{"user", Canonical(user)}}, db);
  });
}

int UserRemove(AdminEnv& env, const std::string& user) {
  if (OnDatabase(env)) {
    auto db = OpenDatabase(env);
    if (!db.ok()) return Fail(env, db.status().ToString());
    auto removed = service::RemoveAccount(*db, user);
    if (!removed.ok()) return Fail(env, removed.status().ToString());
    std::fprintf(env.out, "removed %s and %s\n", removed->user.c_str(),
                 util::Count(removed->tempids_removed, "TempID", "TempIDs").c_str());
    return Audited(env, "admin_user_removed", {{"user", removed->user}}, &*db);
  }
  // The file backend: tempIDs.txt belongs to the running server, if one runs; then the
  // server drops the TempIDs at its next reload (store/files/withdrawals.hpp).
  store::Stores stores;
  BLUETRACE_ASSIGN_OR_RETURN_FAIL(stores.users, OpenCredentials(env));
  BLUETRACE_ASSIGN_OR_RETURN_FAIL(stores.lockouts, OpenLockouts(env));
  store::LockoutPolicy code_policy;
  code_policy.max_failures = env.config.upload_code_max_failures;
  code_policy.block_seconds = env.config.upload_code_block_seconds;
  BLUETRACE_ASSIGN_OR_RETURN_FAIL(
      stores.code_failures,
      store::FileLockoutStore::Open(env.fs, Dir(env).code_failures(), code_policy, env.clock,
                                    StateLock(env, store::StateDir::kCodeFailuresLock)));
  BLUETRACE_ASSIGN_OR_RETURN_FAIL(
      stores.upload_codes,
      store::FileUploadCodeStore::Open(env.fs, Dir(env).upload_codes(),
                                       StateLock(env, store::StateDir::kUploadCodesLock)));
  auto server = env.fs.LockFile(Dir(env).server_lock(), false);
  const bool server_runs = !server.ok() && server.status().code() == util::StatusCode::kUnavailable;
  if (!server.ok() && !server_runs) return Fail(env, server.status().ToString());
  if (!server_runs) {
    store::TempIdStoreOptions options;
    options.path = Dir(env).tempids();
    options.time_mode = env.config.time_mode;
    options.retention_seconds = env.config.tempid_retention_seconds;
    BLUETRACE_ASSIGN_OR_RETURN_FAIL(stores.tempids,
                                    store::FileTempIdStore::Open(env.fs, env.clock, options));
  }
  auto removed = service::RemoveAccount(stores, user);
  if (!removed.ok()) return Fail(env, removed.status().ToString());
  if (removed->tempids_kept) {
    if (auto st = store::RecordWithdrawal(env.fs, Dir(env), removed->user); !st.ok()) {
      return Fail(env, "removed " + removed->user + ", but its TempIDs are still linked to it: " +
                           st.ToString() + "; run the command again");
    }
    std::fprintf(env.out, "removed %s; the running server drops its TempIDs within seconds\n",
                 removed->user.c_str());
  } else {
    std::fprintf(env.out, "removed %s and %s\n", removed->user.c_str(),
                 util::Count(removed->tempids_removed, "TempID", "TempIDs").c_str());
  }
  return Audited(env, "admin_user_removed", {{"user", removed->user}});
}

int CodeIssue(AdminEnv& env, const std::string& user) {
  // The database's stores, or the state directory's upload-code files.
  store::Stores stores;
  if (OnDatabase(env)) {
    auto db = OpenDatabase(env);
    if (!db.ok()) return Fail(env, db.status().ToString());
    stores = std::move(*db);
  } else {
    BLUETRACE_ASSIGN_OR_RETURN_FAIL(
        stores.upload_codes,
        store::FileUploadCodeStore::Open(env.fs, Dir(env).upload_codes(),
                                         StateLock(env, store::StateDir::kUploadCodesLock)));
    BLUETRACE_ASSIGN_OR_RETURN_FAIL(
        stores.audit, store::FileAuditTrail::Open(env.fs, env.clock, Dir(env).audit_log(),
                                                  Dir(env).audit_lock(), nullptr));
  }
  auto key = service::OpenUploadCodeKey(env.config, env.fs, env.random);
  if (!key.ok()) return Fail(env, key.status().ToString());
  // Issue() touches neither the failure counts nor an address limiter.
  NoFailures no_failures;
  service::UploadCodeService codes(
      service::UploadCodeDeps{*stores.upload_codes, no_failures, *stores.audit, env.clock,
                              env.random, nullptr},
      std::move(*key), env.config.upload_code_lifetime_seconds);
  std::string by = env.op.by;
  if (!env.op.as.empty()) by += " as " + env.op.as;
  auto issued = codes.Issue(user, by);
  if (!issued.ok()) return Fail(env, issued.status().ToString());
  const std::string shown = service::FormatUploadCode(issued->code.view());
  std::fprintf(env.out, "upload code for %s: %s (valid until %s; shown once)\n",
               issued->phone.c_str(), shown.c_str(),
               protocol::FormatTimestamp(issued->expires_at, env.config.time_mode).c_str());
  if (!env.config.upload_require_code) {
    std::fprintf(env.err,
                 "bluetrace-admin: note: upload.require_code is off in this configuration; "
                 "the server accepts uploads without a code\n");
  }
  return kExitOk;
}

int UserPasswd(AdminEnv& env, const std::string& user, std::string_view password) {
  return ChangeUsers(env, [&](store::UserStore& users, store::Stores* db) {
    if (auto rule = NewPasswordRule(env, password); !rule.ok()) return Fail(env, rule.message());
    if (auto st = users.SetPassword(user, password); !st.ok()) return Fail(env, st.ToString());
    std::fprintf(env.out, "password of %s changed\n", Canonical(user).c_str());
    return Audited(env, "admin_password_changed", {{"user", Canonical(user)}}, db);
  });
}

int MigrateCredentials(AdminEnv& env) {
  if (OnDatabase(env)) {
    std::fputs("the database holds only Argon2id hashes: nothing to migrate\n", env.err);
    return kExitOk;
  }
  auto opened = OpenCredentials(env);
  if (!opened.ok()) return Fail(env, opened.status().ToString());
  return [&](store::FileUserStore& creds) {
    auto migrated = creds.MigrateAll();
    if (!migrated.ok()) return Fail(env, migrated.status().ToString());
    std::fprintf(env.out, "%zu plaintext passwords replaced by Argon2id hashes\n", *migrated);
    return Audited(env, "admin_migrated_credentials", {{"count", std::to_string(*migrated)}});
  }(**opened);
}

int Unblock(AdminEnv& env, const std::string& user) {
  store::Stores db;
  std::unique_ptr<store::FileLockoutStore> file;
  store::LockoutStore* lockouts = nullptr;
  if (OnDatabase(env)) {
    auto opened = OpenDatabase(env);
    if (!opened.ok()) return Fail(env, opened.status().ToString());
    db = std::move(opened).value();
    lockouts = db.lockouts.get();  // every instance sees the change at once
  } else {
    auto opened = OpenLockouts(env);
    if (!opened.ok()) return Fail(env, opened.status().ToString());
    file = std::move(opened).value();
    lockouts = file.get();
  }
  store::Stores* audit_db = OnDatabase(env) ? &db : nullptr;
  // "<UserID>#<device>": one device's block (auth.device_lockout); a UserID: all its blocks.
  const std::size_t hash = user.find('#');
  const std::string key =
      hash == std::string::npos
          ? service::AuthService::LockoutKey(user)
          : service::AuthService::LockoutKey(user.substr(0, hash)) + user.substr(hash);
  std::vector<std::string> keys;
  for (const auto& b : lockouts->ListBlocked()) {
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
    if (auto st = lockouts->Unblock(k); !st.ok()) {
      status = Fail(
          env, st.code() == util::StatusCode::kNotFound ? k + " is not blocked" : st.ToString());
      continue;
    }
    std::fprintf(env.out, "unblocked %s\n", k.c_str());
    if (Audited(env, "admin_unblocked", {{"user", k}}, audit_db) != kExitOk) status = kExitFailed;
  }
  return status;
}

int ListBlocked(AdminEnv& env, OutputFormat format) {
  std::vector<store::BlockedUser> blocked;
  if (OnDatabase(env)) {
    auto db = OpenDatabase(env);
    if (!db.ok()) return Fail(env, db.status().ToString());
    blocked = db->lockouts->ListBlocked();
  } else {
    // A mistyped --state-dir must not read as "no user is blocked".
    if (auto state = env.fs.Exists(env.config.state_dir); !state.ok() || !*state) {
      return Fail(env, "no state directory " + env.config.state_dir);
    }
    auto lockouts = OpenLockouts(env);
    if (!lockouts.ok()) return Fail(env, lockouts.status().ToString());
    blocked = (*lockouts)->ListBlocked();
  }
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
  if (OnDatabase(env)) {
    // Every instance drops the expired days hourly; doing it now is safe at any time.
    auto db = OpenDatabase(env);
    if (!db.ok()) return Fail(env, db.status().ToString());
    auto stats = db->tempids->Compact();
    if (!stats.ok()) return Fail(env, stats.status().ToString());
    std::fprintf(env.out, "TempIDs: %llu expired dropped\n",
                 static_cast<unsigned long long>(stats->records_dropped));
    return Audited(env, "admin_compacted", {{"dropped", std::to_string(stats->records_dropped)}},
                   &*db);
  }
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
