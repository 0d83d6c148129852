#include "bluetrace/service/client_rules.hpp"

#include <algorithm>
#include <variant>

namespace bluetrace::service {

bool TempIdNeedsRenewal(const protocol::TempIdRecord& record, std::int64_t now_unix,
                        std::int64_t margin_seconds) {
  const std::int64_t effective = std::min(margin_seconds, (record.expiry - record.start + 1) / 2);
  return now_unix > record.expiry - effective;
}

bool TempIdUsableForBeacon(const protocol::TempIdRecord& record, std::int64_t now_unix) {
  return now_unix <= record.expiry;
}

BackgroundStep NextBackgroundStep(const BackgroundState& s) {
  if (s.current != nullptr && TempIdNeedsRenewal(*s.current, s.now_unix, s.renew_margin_seconds) &&
      s.now >= s.renew_not_before) {
    return BackgroundStep::kRenewTempId;
  }
  if (s.now - s.last_request >= s.ping_interval) return BackgroundStep::kPing;
  return BackgroundStep::kCheckIdle;
}

std::optional<std::chrono::milliseconds> BusyRetryWait(const RetryPolicy& policy,
                                                       std::uint32_t retry_after_ms, int attempt,
                                                       util::Random& random) {
  if (attempt < 0 || attempt >= policy.max_retries) return std::nullopt;
  const std::uint64_t base =
      std::uint64_t{std::clamp(retry_after_ms, policy.min_busy_wait_ms, policy.max_busy_wait_ms)} *
      static_cast<std::uint64_t>(attempt + 1);
  // Uniform in [base/2, base + base/2]. The jitter needs no secrecy: without it, the wait is
  // still right on average.
  auto spread = util::UniformBelow(random, base + 1);
  const std::uint64_t wait = spread.ok() ? base / 2 + *spread : base;
  return std::chrono::milliseconds(static_cast<std::int64_t>(wait));
}

std::optional<std::chrono::milliseconds> RetryWait(const RetryPolicy& policy,
                                                   const protocol::Message& reply, int attempt,
                                                   util::Random& random) {
  if (attempt < 0 || attempt >= policy.max_retries) return std::nullopt;
  if (auto* busy = std::get_if<protocol::Busy>(&reply)) {
    return BusyRetryWait(policy, busy->retry_after_ms, attempt, random);
  }
  if (auto* limited = std::get_if<protocol::RateLimited>(&reply);
      limited != nullptr && limited->retry_after_ms <= policy.max_rate_limit_wait_ms) {
    // The server said when a token is there: wait that long (and a little), no more.
    return std::chrono::milliseconds(std::int64_t{limited->retry_after_ms} +
                                     std::int64_t{policy.rate_limit_slack_ms});
  }
  return std::nullopt;
}

std::optional<std::chrono::seconds> LoginBusyWait(int busy_answers, std::int64_t hint_seconds) {
  if (busy_answers > kLoginBusyRetries) return std::nullopt;
  return std::chrono::seconds(std::clamp<std::int64_t>(hint_seconds, 1, 5));
}

util::Status ServerBusy() { return util::ResourceExhausted("the server is busy; retry later"); }

util::Status ErrorToStatus(const protocol::Error& e) {
  using protocol::ErrorCode;
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
      return util::InvalidArgument(e.message);
    case ErrorCode::kAlreadyExists:
      return util::AlreadyExists(e.message);
    case ErrorCode::kNotFound:
      return util::NotFound(e.message);
    case ErrorCode::kRegistrationDisabled:
    case ErrorCode::kUnexpectedMessage:
      return util::FailedPrecondition(e.message);
    case ErrorCode::kWrongUploadCode:
    case ErrorCode::kUploadCodeRequired:
      return util::PermissionDenied(e.message);
    case ErrorCode::kTooLarge:
    case ErrorCode::kUploadQuota:
    case ErrorCode::kRateLimited:
    case ErrorCode::kBusy:
      return util::ResourceExhausted(e.message);
    default:
      // Not kUnavailable: that code means the connection is gone, and this one is not.
      return util::Internal("the server reported an error: " + e.message);
  }
}

}  // namespace bluetrace::service
