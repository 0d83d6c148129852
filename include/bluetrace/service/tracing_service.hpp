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
#include "bluetrace/service/upload_code_service.hpp"
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
  // Reports per user in any 24 hours (ReportStore::CountSince); 0: no limit.
  std::uint32_t max_uploads_per_day = 0;
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
  // Set when uploads need a code (upload.require_code); null: they need none.
  UploadCodeService* upload_codes = nullptr;
};

enum class TracingStatus {
  kDone,
  kRateLimited,  // `retry_after` says when to try again
  kBusy,         // the store pool is full, or the storage is unavailable; nothing was done
  kInvalid,      // the contact log is malformed; `error` says where
  kTooLarge,     // the contact log has too many entries
  kWrongCode,    // the upload code was refused; `attempts_left` before a block
  kCodeBlocked,  // too many wrong upload codes; `retry_after` says when to try again
  kQuota,        // the user's uploads in the last 24 hours reached the limit
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
  std::uint32_t entries = 0;                 // kDone: entries checked
  std::uint32_t attempts_left = 0;           // kWrongCode
  std::chrono::milliseconds retry_after{0};  // kCodeBlocked
  std::string error;
};

// What authorises an upload besides the login (version 3's CodedUploadBegin).
struct UploadAuth {
  util::SecretString code;  // as typed; empty when the client sent none
  std::string peer;         // source address: wrong codes are also counted per address
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
  // original's console lines from the same result. Before the report, in this order: the
  // daily upload budget (kQuota) and, when codes are required, the code (kWrongCode,
  // kCodeBlocked); a malformed log or a spent budget does not spend the code.
  void CheckContactLog(const std::string& user, std::string log_text, UploadAuth auth,
                       std::function<void(UploadOutcome)> done);

  // The session of `user` from `peer` is over: "<user> logout" on the console, whether the
  // user logged out or the connection vanished (both count as a logout).
  void SessionEnded(const std::string& user, const std::string& peer, bool logged_out);

 private:
  // The budget and the code of an upload (see CheckContactLog); false with `o` filled in
  // when the upload is refused. Blocking: runs on the store pool.
  bool Authorise(const std::string& user, std::int64_t now, const UploadAuth& auth,
                 UploadOutcome& o);

  TracingDeps deps_;
  const TracingOptions options_;
};

}  // namespace bluetrace::service
