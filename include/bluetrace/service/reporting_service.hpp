// ReportingService: the reporting server without its network. It opens the storage backend
// (store/stores.hpp; the file backend under the state directory by default), owns the worker
// pools and the rate limiters, wires the use cases (AuthService, TracingService) and creates
// one protocol Session per connection (session.hpp).
//
// Start-up: Open() opens and checks every store; a malformed file stops start-up with an
// error naming the file and the line (repairs are in startup_notes()).
//
// Shutdown: the destructor first drains and joins the worker pools (finishing every request
// already accepted, so nothing acknowledged is lost), then closes the stores. Destroy every
// Session before the service. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bluetrace/service/account_removal.hpp"
#include "bluetrace/service/auth_service.hpp"
#include "bluetrace/service/console.hpp"
#include "bluetrace/service/rate_limiter.hpp"
#include "bluetrace/service/server_config.hpp"
#include "bluetrace/service/service_stats.hpp"
#include "bluetrace/service/session.hpp"
#include "bluetrace/service/tracing_service.hpp"
#include "bluetrace/service/upload_code_service.hpp"
#include "bluetrace/service/worker_pool.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/stores.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"

namespace bluetrace::service {

// What a service needs from outside; every reference must outlive the service.
struct ServiceEnv {
  store::FileSystem& fs;
  util::Clock& clock;
  util::Random& random;
  Console& console;
};

class ReportingService final : public SessionFactory {
 public:
  // Threads doing the blocking store work (fsyncs, report writes, database round trips)
  // off the I/O threads: 2 on the files, whose group commit needs no more; 16 per pooled
  // connection on PostgreSQL (at most 64), where a worker mostly waits for the database and the
  // TempID requests that wait together go in one batch (store/postgres/pg_tempid_store.hpp).
  static std::uint32_t StoreWorkers(const ServerConfig& config);

  static util::Result<std::unique_ptr<ReportingService>> Open(const ServerConfig& config,
                                                              ServiceEnv env);
  ~ReportingService() override;
  ReportingService(const ReportingService&) = delete;
  ReportingService& operator=(const ReportingService&) = delete;

  bool AdmitConnection(std::string_view peer_address) override;
  std::unique_ptr<Session> NewSession(std::string peer_address) override;

  // Applies the TempID retention now (also run at start-up).
  util::Result<store::CompactionStats> CompactTempIds();
  // Applies upload.report_retention now (also run at start-up): how many reports went.
  util::Result<std::uint64_t> PruneReports();
  // Applies audit.retention now (also run at start-up, where a failure is a warning): the
  // records before the UTC day of now - retention go, an anchor record in their place
  // (store::AuditTrail::Prune); nothing when it is 0.
  util::Result<store::AuditPruneResult> PruneAudit();

  // Re-reads credentials.txt and lockouts.txt (changes by bluetrace-admin), and drops the
  // TempIDs of users bluetrace-admin removed meanwhile (store/files/withdrawals.hpp).
  util::Status ReloadUsers();

  // False while the audit log cannot be written (audited events are refused then).
  bool audit_healthy() const { return stores_.audit->healthy(); }

  // Lines describing what Open loaded and repaired, for the log; and what it did that an
  // operator must hear of (records dropped), for the log at warning level.
  const std::vector<std::string>& startup_notes() const { return notes_; }
  const std::vector<std::string>& startup_warnings() const { return warnings_; }

  const ServiceStats& stats() const { return stats_; }
  const AuthStats& auth_stats() const { return auth_->stats(); }
  std::size_t auth_queue_depth() const { return auth_pool_->queued(); }
  const util::LatencyHistogram& auth_queue_wait() const { return auth_pool_->wait_histogram(); }
  const store::TempIdStore& tempids() const { return *stores_.tempids; }
  const ServerConfig& config() const { return config_; }
  // The stores, for the console's service (console_service.hpp), which shares them.
  store::Stores& stores() { return stores_; }
  // The upload codes' use cases, for the console's code page; null unless
  // upload.require_code.
  UploadCodeService* upload_codes() { return upload_codes_.get(); }

 private:
  ReportingService(const ServerConfig& config, store::FileSystem& fs, util::Clock& clock);
  // The file backend: drops the TempIDs of users removed by bluetrace-admin.
  util::Status ApplyWithdrawals();

  const ServerConfig config_;
  store::FileSystem& fs_;
  util::Clock& clock_;
  std::vector<std::string> notes_;
  std::vector<std::string> warnings_;
  ServiceStats stats_;

  store::Stores stores_;
  std::unique_ptr<KeyedRateLimiter> connection_limiter_;
  std::unique_ptr<KeyedRateLimiter> login_limiter_;
  std::unique_ptr<KeyedRateLimiter> tempid_limiter_;
  std::unique_ptr<KeyedRateLimiter> code_address_limiter_;
  // Argon2 work, and blocking store work (fsyncs, report writes), off the I/O threads.
  std::unique_ptr<WorkerPool> auth_pool_;
  std::unique_ptr<WorkerPool> store_pool_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<UploadCodeService> upload_codes_;  // null unless upload.require_code
  std::unique_ptr<DeregistrationService> deregistration_;
  std::unique_ptr<TracingService> tracing_;
};

}  // namespace bluetrace::service
