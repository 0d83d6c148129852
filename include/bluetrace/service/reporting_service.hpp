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

#include "bluetrace/service/auth_service.hpp"
#include "bluetrace/service/console.hpp"
#include "bluetrace/service/rate_limiter.hpp"
#include "bluetrace/service/server_config.hpp"
#include "bluetrace/service/service_stats.hpp"
#include "bluetrace/service/session.hpp"
#include "bluetrace/service/tracing_service.hpp"
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
  // Threads doing the blocking store work (fsyncs, report writes) off the I/O threads.
  static constexpr std::uint32_t kStoreWorkers = 2;

  static util::Result<std::unique_ptr<ReportingService>> Open(const ServerConfig& config,
                                                              ServiceEnv env);
  ~ReportingService() override;
  ReportingService(const ReportingService&) = delete;
  ReportingService& operator=(const ReportingService&) = delete;

  bool AdmitConnection(std::string_view peer_address) override;
  std::unique_ptr<Session> NewSession(std::string peer_address) override;

  // Applies the TempID retention now (also run at start-up).
  util::Result<store::CompactionStats> CompactTempIds();

  // Re-reads credentials.txt and lockouts.txt (changes by bluetrace-admin).
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

 private:
  explicit ReportingService(const ServerConfig& config);

  const ServerConfig config_;
  std::vector<std::string> notes_;
  std::vector<std::string> warnings_;
  ServiceStats stats_;

  store::Stores stores_;
  std::unique_ptr<KeyedRateLimiter> connection_limiter_;
  std::unique_ptr<KeyedRateLimiter> login_limiter_;
  std::unique_ptr<KeyedRateLimiter> tempid_limiter_;
  // Argon2 work, and blocking store work (fsyncs, report writes), off the I/O threads.
  std::unique_ptr<WorkerPool> auth_pool_;
  std::unique_ptr<WorkerPool> store_pool_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<TracingService> tracing_;
};

}  // namespace bluetrace::service
