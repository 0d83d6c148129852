// TracingService: what a logged-in user does: fetch a TempID (IssueTempId) and, after a
// positive test, upload a contact log (CheckContactLog); and what the server says when the
// user's session ends. Each use case applies its limit, runs its blocking store work on the
// store pool, records what must be audited, prints the original's console lines and counts
// it; the protocol session only maps messages to these calls and outcomes to replies.
//
// Threads: callbacks run on a worker thread, or on the caller's thread for immediate
// answers (rate limited, busy). Thread-safe; every dependency must outlive the service.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/service/console.hpp"
#include "bluetrace/service/rate_limiter.hpp"
#include "bluetrace/service/service_stats.hpp"
#include "bluetrace/service/worker_pool.hpp"
#include "bluetrace/store/audit_trail.hpp"
#include "bluetrace/store/report_store.hpp"
#include "bluetrace/store/tempid_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"

namespace bluetrace::service {

struct TracingOptions {
  std::int64_t tempid_lifetime_seconds = 15 * 60;
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;
  std::size_t max_upload_entries = 100000;
};

struct TracingDeps {
  store::TempIdStore& tempids;
  store::ReportStore& reports;
  store::AuditTrail& audit;
  WorkerPool& pool;  // blocking store work
  KeyedRateLimiter& tempid_limiter;
  Console& console;
  util::Clock& clock;
  util::Random& random;
  ServiceStats& stats;
};

enum class TracingStatus {
  kDone,
  kRateLimited,  // `retry_after` says when to try again
  kBusy,         // the store pool is full, or the storage is unavailable; nothing was done
  kInvalid,      // the contact log is malformed; `error` says where
  kTooLarge,     // the contact log has too many entries
  kError,        // a store or the audit trail failed; `error` says how (for the log)
};

struct TempIdOutcome {
  TracingStatus status = TracingStatus::kError;
  protocol::TempIdRecord record;  // kDone
  std::chrono::milliseconds retry_after{0};
  std::string error;
};

struct UploadOutcome {
  TracingStatus status = TracingStatus::kError;
  std::uint32_t entries = 0;  // kDone: entries checked
  std::string error;
};

class TracingService {
 public:
  TracingService(TracingDeps deps, TracingOptions options) : deps_(deps), options_(options) {}

  // A fresh TempID for `user` (canonical), valid from now for the configured lifetime,
  // durable before `done` sees it; the console shows it as the original does. Limited per
  // user by `tempid_limiter`.
  void IssueTempId(const std::string& user, std::function<void(TempIdOutcome)> done);

  // Checks the contact log `log_text` (the original's format) uploaded by `user`: resolves
  // every TempID in one lookup, writes the report for the health authority and records the
  // check in the audit trail (both durable before kDone; fail closed), then prints the
  // original's console lines from the same result.
  void CheckContactLog(const std::string& user, std::string log_text,
                       std::function<void(UploadOutcome)> done);

  // The session of `user` from `peer` is over: "<user> logout" on the console, whether the
  // user logged out or the connection vanished (both count as a logout).
  void SessionEnded(const std::string& user, const std::string& peer, bool logged_out);

 private:
  TracingDeps deps_;
  const TracingOptions options_;
};

}  // namespace bluetrace::service
