#include "bluetrace/service/reporting_service.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "bluetrace/util/plural.hpp"
#include "protocol_session.hpp"

namespace bluetrace::service {

ReportingService::ReportingService(const ServerConfig& config, ServiceEnv env)
    : config_(config), env_(env) {}

util::Result<std::unique_ptr<ReportingService>> ReportingService::Open(const ServerConfig& config,
                                                                       ServiceEnv env) {
  BLUETRACE_RETURN_IF_ERROR(ValidateServerConfig(config));
  std::unique_ptr<ReportingService> s(new ReportingService(config, env));
  const std::string& dir = config.state_dir;
  BLUETRACE_RETURN_IF_ERROR(store::RequireStateDirectory(env.fs, dir));

  store::Argon2Params argon2{config.argon2_memory_kib, config.argon2_iterations,
                             config.argon2_parallelism};
  // bluetrace-admin takes the same locks (src/apps/admin_commands.hpp).
  auto credentials = store::CredentialsStore::Open(
      env.fs, store::JoinPath(dir, "credentials.txt"), argon2, env.random,
      {store::JoinPath(dir, store::CredentialsStore::kLockFileName)});
  if (!credentials.ok()) return credentials.status();
  s->credentials_ = std::move(*credentials);
  s->notes_.push_back("credentials.txt: " + util::Count(s->credentials_->size(), "user", "users") +
                      " (" + std::to_string(s->credentials_->plaintext_count()) +
                      " with a plaintext password, upgraded at the next login)");

  store::LockoutPolicy policy;
  policy.max_failures = config.max_failed_logins;
  policy.block_seconds = config.block_duration_seconds;
  policy.max_unknown_entries = config.max_tracked_unknown_users;
  auto lockouts =
      store::LockoutStore::Open(env.fs, store::JoinPath(dir, "lockouts.txt"), policy, env.clock,
                                {store::JoinPath(dir, store::LockoutStore::kLockFileName)});
  if (!lockouts.ok()) return lockouts.status();
  s->lockouts_ = std::move(*lockouts);
  const auto blocked = s->lockouts_->ListBlocked();
  if (!blocked.empty()) {
    s->notes_.push_back("lockouts.txt: " + util::Count(blocked.size(), "user", "users") +
                        " still blocked");
  }

  store::TempIdStoreOptions tempid_options;
  tempid_options.path = store::JoinPath(dir, "tempIDs.txt");
  tempid_options.time_mode = config.time_mode;
  tempid_options.retention_seconds = config.tempid_retention_seconds;
  store::RecoveryReport recovery;
  auto tempids = store::TempIdStore::Open(env.fs, env.clock, tempid_options, &recovery);
  if (!tempids.ok()) return tempids.status();
  s->tempids_ = std::move(*tempids);
  s->notes_.push_back("tempIDs.txt: " + util::Count(recovery.records, "TempID", "TempIDs"));
  if (recovery.torn_bytes_removed > 0) {
    s->notes_.push_back("tempIDs.txt: repaired a torn last line left by a crash (" +
                        std::to_string(recovery.torn_bytes_removed) +
                        " bytes removed): " + recovery.torn_tail_description);
  }
  if (recovery.duplicate_lines > 0) {
    s->notes_.push_back(
        "tempIDs.txt: " + util::Count(recovery.duplicate_lines, "line repeats", "lines repeat") +
        " an earlier TempID, ignored");
  }

  auto reports = store::ReportStore::Open(env.fs, store::JoinPath(dir, "reports"));
  if (!reports.ok()) return reports.status();
  s->reports_ = std::move(*reports);

  std::string audit_note;
  auto auditor = Auditor::Open(env.fs, env.clock, store::JoinPath(dir, "audit.log"),
                               store::JoinPath(dir, ".lock-audit"), &audit_note);
  if (!auditor.ok()) return auditor.status();
  s->auditor_ = std::move(*auditor);
  if (!audit_note.empty()) s->notes_.push_back(audit_note);

  std::string devices_note;
  auto devices = store::DeviceStore::Open(env.fs, env.clock, store::JoinPath(dir, "devices.txt"),
                                          &devices_note);
  if (!devices.ok()) return devices.status();
  s->devices_ = std::move(*devices);
  if (!devices_note.empty()) s->notes_.push_back(devices_note);

  s->connection_limiter_ = std::make_unique<KeyedRateLimiter>(env.clock, config.connection_rate);
  s->login_limiter_ = std::make_unique<KeyedRateLimiter>(env.clock, config.login_rate);
  s->tempid_limiter_ = std::make_unique<KeyedRateLimiter>(env.clock, config.tempid_rate);

  s->auth_pool_ = std::make_unique<WorkerPool>(config.argon2_workers, config.argon2_queue_depth,
                                               config.argon2_queue_per_source);
  s->store_pool_ = std::make_unique<WorkerPool>(kStoreWorkers, 1024);
  AuthOptions auth_options;
  auth_options.registration_enabled = config.registration_enabled;
  auth_options.min_password_length = config.min_password_length;
  auth_options.max_password_length = config.max_password_length;
  auth_options.device_lockout = config.device_lockout;
  s->auth_ =
      std::make_unique<AuthService>(AuthDeps{*s->credentials_, *s->lockouts_, s->devices_.get(),
                                             *s->auditor_, *s->auth_pool_, env.random},
                                    auth_options);

  auto compacted = s->CompactTempIds();
  if (!compacted.ok()) return compacted.status();
  if (compacted->records_dropped > 0) {
    s->warnings_.push_back("tempIDs.txt: dropped " +
                           util::Count(compacted->records_dropped, "TempID", "TempIDs") +
                           " that expired more than tempid.retention = " +
                           std::to_string(config.tempid_retention_seconds) +
                           " s ago (set tempid.retention = 0 to keep every TempID)");
  }
  return s;
}

ReportingService::~ReportingService() {
  // Finish every accepted request before the stores they use go away.
  auth_pool_.reset();
  store_pool_.reset();
}

bool ReportingService::AdmitConnection(std::string_view peer_address) {
  if (connection_limiter_->Allow(peer_address)) return true;
  ++stats_.rate_limited_connections;
  return false;
}

std::unique_ptr<Session> ReportingService::NewSession(std::string peer_address) {
  ++stats_.sessions_started;
  return std::make_unique<ProtocolSession>(*this, std::move(peer_address));
}

util::Result<store::CompactionStats> ReportingService::CompactTempIds() {
  if (config_.tempid_retention_seconds == 0) return store::CompactionStats{};  // keep all
  return tempids_->Compact();
}

util::Status ReportingService::Audit(std::string_view event, const store::AuditFields& fields) {
  util::Status st = auditor_->Record(event, fields);
  if (!st.ok()) spdlog::error("audit record {} not written: {}", event, st.ToString());
  return st;
}

util::Status ReportingService::ReloadUsers() {
  BLUETRACE_RETURN_IF_ERROR(credentials_->Reload());
  return lockouts_->Reload();
}

}  // namespace bluetrace::service
