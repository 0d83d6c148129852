#include "bluetrace/service/reporting_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "bluetrace/service/storage_config.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/files/withdrawals.hpp"
#include "bluetrace/util/plural.hpp"
#include "protocol_session.hpp"

namespace bluetrace::service {

ReportingService::ReportingService(const ServerConfig& config, store::FileSystem& fs,
                                   util::Clock& clock)
    : config_(config), fs_(fs), clock_(clock) {}

util::Result<std::unique_ptr<ReportingService>> ReportingService::Open(const ServerConfig& config,
                                                                       ServiceEnv env) {
  BLUETRACE_RETURN_IF_ERROR(ValidateServerConfig(config));
  std::unique_ptr<ReportingService> s(new ReportingService(config, env.fs, env.clock));

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
               *s->auth_pool_, env.random, s->login_limiter_.get(), s->store_pool_.get()},
      auth_options);

  if (config.upload_require_code) {
    BLUETRACE_ASSIGN_OR_RETURN(util::SecretString key,
                               OpenUploadCodeKey(config, env.fs, env.random));
    const double per_hour = config.upload_code_failures_per_address;
    s->code_address_limiter_ =
        std::make_unique<KeyedRateLimiter>(env.clock, RateLimit{per_hour / 3600.0, per_hour});
    s->upload_codes_ = std::make_unique<UploadCodeService>(
        UploadCodeDeps{*s->stores_.upload_codes, *s->stores_.code_failures, *s->stores_.audit,
                       env.clock, env.random, s->code_address_limiter_.get()},
        std::move(key), config.upload_code_lifetime_seconds);
  }
  s->deregistration_ = std::make_unique<DeregistrationService>(s->stores_, *s->auth_pool_);

  TracingOptions tracing_options;
  tracing_options.tempid_lifetime_seconds = config.tempid_lifetime_seconds;
  tracing_options.time_mode = config.time_mode;
  tracing_options.max_upload_entries = config.max_upload_entries;
  tracing_options.max_uploads_per_day = config.upload_max_per_day;
  s->tracing_ = std::make_unique<TracingService>(
      TracingDeps{*s->stores_.tempids, *s->stores_.reports, *s->stores_.audit, *s->store_pool_,
                  *s->tempid_limiter_, env.console, env.clock, env.random, s->stats_,
                  s->upload_codes_.get()},
      tracing_options);

  BLUETRACE_RETURN_IF_ERROR(s->ApplyWithdrawals());
  BLUETRACE_ASSIGN_OR_RETURN(const std::uint64_t pruned, s->PruneReports());
  if (pruned > 0) {
    s->notes_.push_back("reports: deleted " + util::Count(pruned, "report", "reports") +
                        " older than upload.report_retention");
  }
  // A prune that fails (a broken chain is never pruned) must not keep the server down: the
  // trail still takes records, and `bluetrace-admin verify` names what is wrong.
  if (auto audit = s->PruneAudit(); !audit.ok()) {
    s->warnings_.push_back("audit.retention not applied: " + audit.status().ToString());
  } else if (audit->records_dropped > 0) {
    s->notes_.push_back(
        "audit trail: pruned " + util::Count(audit->records_dropped, "record", "records") +
        " older than audit.retention (anchor record " + std::to_string(audit->anchor_seq) + ")");
  }
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
  if (config.storage_backend == "postgres") return std::min(32 * config.postgres_pool_size, 128u);
  return 2;
}

ReportingService::~ReportingService() {
  // Finish every accepted request before the stores they use go away. The auth pool
  // first: its jobs hand their bookkeeping to the store pool, whose jobs may still try
  // the (stopped, refusing) auth pool for the next guess of a key.
  if (auth_pool_) auth_pool_->Shutdown();  // null when Open failed before making them
  if (store_pool_) store_pool_->Shutdown();
}

bool ReportingService::AdmitConnection(std::string_view peer_address) {
  if (connection_limiter_->Allow(peer_address)) return true;
  ++stats_.rate_limited_connections;
  return false;
}

std::unique_ptr<Session> ReportingService::NewSession(std::string peer_address) {
  ++stats_.sessions_started;
  SessionLimits limits{config_.max_frame_bytes, config_.max_upload_bytes,
                       config_.upload_require_code};
  return std::make_unique<ProtocolSession>(
      SessionServices{*auth_, *tracing_, stats_, *deregistration_}, limits,
      std::move(peer_address));
}

util::Result<store::CompactionStats> ReportingService::CompactTempIds() {
  if (config_.tempid_retention_seconds == 0) return store::CompactionStats{};  // keep all
  return stores_.tempids->Compact();
}

util::Result<std::uint64_t> ReportingService::PruneReports() {
  if (config_.report_retention_seconds == 0) return std::uint64_t{0};  // keep all
  return stores_.reports->PruneBefore(clock_.NowUnixSeconds() - config_.report_retention_seconds);
}

util::Result<store::AuditPruneResult> ReportingService::PruneAudit() {
  if (config_.audit_retention_seconds == 0) return store::AuditPruneResult{};  // keep all
  // The cutoff moves once a UTC day, so the chain is rewritten at most daily (records stay
  // up to a day longer than the retention); the other hourly runs find nothing to drop.
  constexpr std::int64_t kDay = 86400;
  const std::int64_t cutoff = clock_.NowUnixSeconds() - config_.audit_retention_seconds;
  return stores_.audit->Prune(cutoff - (cutoff % kDay + kDay) % kDay, {});
}

util::Status ReportingService::ReloadUsers() {
  BLUETRACE_RETURN_IF_ERROR(stores_.users->Reload());
  BLUETRACE_RETURN_IF_ERROR(stores_.lockouts->Reload());
  return ApplyWithdrawals();
}

util::Status ReportingService::ApplyWithdrawals() {
  if (config_.storage_backend != "files") return util::Status::Ok();  // done by the tool
  auto dropped = store::ApplyWithdrawals(fs_, store::StateDir(config_.state_dir), *stores_.tempids);
  if (!dropped.ok()) return dropped.status().WithContext("dropping withdrawn users' TempIDs");
  if (*dropped > 0) {
    spdlog::info("dropped {} of users removed by bluetrace-admin",
                 util::Count(*dropped, "TempID", "TempIDs"));
  }
  return util::Status::Ok();
}

}  // namespace bluetrace::service
