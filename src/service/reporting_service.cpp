#include "bluetrace/service/reporting_service.hpp"

#include <algorithm>
#include <utility>

#include "bluetrace/service/storage_config.hpp"
#include "bluetrace/util/plural.hpp"
#include "protocol_session.hpp"

namespace bluetrace::service {

ReportingService::ReportingService(const ServerConfig& config) : config_(config) {}

util::Result<std::unique_ptr<ReportingService>> ReportingService::Open(const ServerConfig& config,
                                                                       ServiceEnv env) {
  BLUETRACE_RETURN_IF_ERROR(ValidateServerConfig(config));
  std::unique_ptr<ReportingService> s(new ReportingService(config));

  BLUETRACE_ASSIGN_OR_RETURN(s->stores_, OpenStorage(config, env.fs, env.clock, env.random));
  s->notes_ = s->stores_.notes;
  s->warnings_ = s->stores_.warnings;

  s->connection_limiter_ = std::make_unique<KeyedRateLimiter>(env.clock, config.connection_rate);
  s->login_limiter_ = std::make_unique<KeyedRateLimiter>(env.clock, config.login_rate);
  s->tempid_limiter_ = std::make_unique<KeyedRateLimiter>(env.clock, config.tempid_rate);

  s->auth_pool_ = std::make_unique<WorkerPool>(config.argon2_workers, config.argon2_queue_depth,
                                               config.argon2_queue_per_source);
  s->store_pool_ = std::make_unique<WorkerPool>(StoreWorkers(config), 1024);

  AuthOptions auth_options;
  auth_options.registration_enabled = config.registration_enabled;
  auth_options.min_password_length = config.min_password_length;
  auth_options.max_password_length = config.max_password_length;
  auth_options.device_lockout = config.device_lockout;
  s->auth_ = std::make_unique<AuthService>(
      AuthDeps{*s->stores_.users, *s->stores_.lockouts, s->stores_.devices.get(), *s->stores_.audit,
               *s->auth_pool_, env.random, s->login_limiter_.get()},
      auth_options);

  TracingOptions tracing_options;
  tracing_options.tempid_lifetime_seconds = config.tempid_lifetime_seconds;
  tracing_options.time_mode = config.time_mode;
  tracing_options.max_upload_entries = config.max_upload_entries;
  s->tracing_ = std::make_unique<TracingService>(
      TracingDeps{*s->stores_.tempids, *s->stores_.reports, *s->stores_.audit, *s->store_pool_,
                  *s->tempid_limiter_, env.console, env.clock, env.random, s->stats_},
      tracing_options);

  BLUETRACE_ASSIGN_OR_RETURN(const store::CompactionStats compacted, s->CompactTempIds());
  if (compacted.records_dropped > 0) {
    const std::string where = config.storage_backend == "files" ? "tempIDs.txt" : "TempIDs";
    s->warnings_.push_back(where + ": dropped " +
                           util::Count(compacted.records_dropped, "TempID", "TempIDs") +
                           " that expired more than tempid.retention = " +
                           std::to_string(config.tempid_retention_seconds) +
                           " s ago (set tempid.retention = 0 to keep every TempID)");
  }
  return s;
}

std::uint32_t ReportingService::StoreWorkers(const ServerConfig& config) {
  if (config.storage_backend == "postgres") return std::min(16 * config.postgres_pool_size, 64u);
  return 2;
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
  SessionLimits limits{config_.max_frame_bytes, config_.max_upload_bytes};
  return std::make_unique<ProtocolSession>(SessionServices{*auth_, *tracing_, stats_}, limits,
                                           std::move(peer_address));
}

util::Result<store::CompactionStats> ReportingService::CompactTempIds() {
  if (config_.tempid_retention_seconds == 0) return store::CompactionStats{};  // keep all
  return stores_.tempids->Compact();
}

util::Status ReportingService::ReloadUsers() {
  BLUETRACE_RETURN_IF_ERROR(stores_.users->Reload());
  return stores_.lockouts->Reload();
}

}  // namespace bluetrace::service
