// ReportingService: the reporting server without its network. It owns the state files
// (credentials, lockouts, TempIDs, reports) under one state directory, the worker pools
// and the rate limiters, and creates one protocol Session per connection (session.hpp).
//
// Start-up: Open() loads and checks every state file; a malformed one stops start-up with
// an error naming the file and the line. A torn tail of tempIDs.txt left by a crash is
// repaired and described in startup_notes().
//
// Audit: every login (ok, failed, blocked), registration and contact check is recorded in
// <state_dir>/audit.log (store/audit_log.hpp), shared with bluetrace-admin, before it is
// answered. Fail closed: an event whose record cannot be written is answered
// Error{internal}, and audit_healthy() turns false until the log can be reopened.
//
// Shutdown: the destructor first drains and joins the worker pools (finishing every
// request already accepted, so nothing acknowledged is lost), then closes the stores.
// Sessions may outlive nothing: destroy every Session before the service.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bluetrace/service/auditor.hpp"
#include "bluetrace/service/auth_service.hpp"
#include "bluetrace/service/console.hpp"
#include "bluetrace/service/rate_limiter.hpp"
#include "bluetrace/service/server_config.hpp"
#include "bluetrace/service/session.hpp"
#include "bluetrace/service/worker_pool.hpp"
#include "bluetrace/store/audit_log.hpp"
#include "bluetrace/store/credentials_store.hpp"
#include "bluetrace/store/device_store.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/lockout_store.hpp"
#include "bluetrace/store/report_store.hpp"
#include "bluetrace/store/tempid_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"

namespace bluetrace::service {

// Counters since start, for logs and metrics.
struct ServiceStats {
  std::atomic<std::uint64_t> sessions_started{0};
  std::atomic<std::uint64_t> tempids_issued{0};
  std::atomic<std::uint64_t> uploads{0};
  std::atomic<std::uint64_t> uploads_rejected{0};  // malformed or over a limit
  std::atomic<std::uint64_t> entries_matched{0};
  std::atomic<std::uint64_t> entries_mismatched{0};
  std::atomic<std::uint64_t> entries_unknown{0};
  std::atomic<std::uint64_t> rate_limited_connections{0};
  std::atomic<std::uint64_t> rate_limited_logins{0};
  std::atomic<std::uint64_t> rate_limited_tempids{0};
  std::atomic<std::uint64_t> protocol_errors{0};  // messages refused in the wrong state
  std::atomic<std::uint64_t> internal_errors{0};
};

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

  // Appends an audit record (see above); never pass a password. The error is logged here.
  util::Status Audit(std::string_view event, const store::AuditFields& fields);

  // False while the audit log cannot be written (audited events are refused then).
  bool audit_healthy() const { return auditor_->healthy(); }

  // Lines describing what Open loaded and repaired, for the log; and what it did that an
  // operator must hear of (records dropped), for the log at warning level.
  const std::vector<std::string>& startup_notes() const { return notes_; }
  const std::vector<std::string>& startup_warnings() const { return warnings_; }

  const ServiceStats& stats() const { return stats_; }
  const AuthStats& auth_stats() const { return auth_->stats(); }
  std::size_t auth_queue_depth() const { return auth_pool_->queued(); }
  const util::LatencyHistogram& auth_queue_wait() const { return auth_pool_->wait_histogram(); }
  const store::TempIdStore& tempids() const { return *tempids_; }
  const ServerConfig& config() const { return config_; }

 private:
  friend class ProtocolSession;

  ReportingService(const ServerConfig& config, ServiceEnv env);

  const ServerConfig config_;
  ServiceEnv env_;
  std::vector<std::string> notes_;
  std::vector<std::string> warnings_;
  ServiceStats stats_;

  std::unique_ptr<store::CredentialsStore> credentials_;
  std::unique_ptr<store::LockoutStore> lockouts_;
  std::unique_ptr<store::TempIdStore> tempids_;
  std::unique_ptr<store::ReportStore> reports_;
  std::unique_ptr<store::DeviceStore> devices_;
  std::unique_ptr<Auditor> auditor_;
  std::unique_ptr<KeyedRateLimiter> connection_limiter_;
  std::unique_ptr<KeyedRateLimiter> login_limiter_;
  std::unique_ptr<KeyedRateLimiter> tempid_limiter_;
  std::unique_ptr<AuthService> auth_;
  // Argon2 work, and blocking store work (fsyncs, report writes), off the I/O threads.
  std::unique_ptr<WorkerPool> auth_pool_;
  std::unique_ptr<WorkerPool> store_pool_;
};

}  // namespace bluetrace::service
