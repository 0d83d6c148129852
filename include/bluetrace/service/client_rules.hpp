// The client's rules: when the TempID is renewed, whether an old one may still go out in a
// beacon, what the background thread does next, how a request the server turned away
// (Busy, RateLimited) is retried and for how long, and what an Error reply means to the
// front end. net::ClientController does the I/O and asks these functions; time comes in as
// arguments and randomness through util::Random&, so tests need neither a server nor a
// clock. No state: safe from any thread.
//
// Rules that live elsewhere: a beacon's validity (start <= now <= expiry) is
// protocol::IsBeaconValidAt; the contact log's retention is store::ContactLogStore's.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

// --- TempIDs ---

// Due for renewal: later than `margin_seconds` before its expiry. The margin is at most half
// the TempID's lifetime, so a short lifetime cannot make a TempID due the moment it arrives.
bool TempIdNeedsRenewal(const protocol::TempIdRecord& record, std::int64_t now_unix,
                        std::int64_t margin_seconds);

// A TempID due for renewal that could not be renewed may still be sent in a beacon while it
// is valid (start <= now <= expiry, as a receiver checks it); an expired one never is.
bool TempIdUsableForBeacon(const protocol::TempIdRecord& record, std::int64_t now_unix);

// After a failed background renewal, the next try waits this long (the server may be busy
// or rate-limiting; every tick would only add to that).
inline constexpr std::chrono::seconds kTempIdRenewRetry{10};

// --- The background thread, while logged in ---

enum class BackgroundStep {
  kRenewTempId,  // fetch a fresh TempID
  kPing,         // keep the server's idle deadline away
  kCheckIdle,    // only look whether the server closed the connection
};

struct BackgroundState {
  const protocol::TempIdRecord* current = nullptr;  // null: no TempID yet (none is fetched)
  std::int64_t now_unix = 0;
  std::chrono::steady_clock::time_point now;
  std::chrono::steady_clock::time_point renew_not_before;  // kTempIdRenewRetry after a failure
  std::chrono::steady_clock::time_point last_request;
  std::int64_t renew_margin_seconds = 0;  // ClientOptions::tempid_renew_margin_seconds
  std::chrono::seconds ping_interval{0};  // ClientOptions::ping_interval_seconds
};

// One step per tick: renewing a TempID that is due comes first (it resets the idle time
// too), then a ping once `ping_interval` passed without a request.
BackgroundStep NextBackgroundStep(const BackgroundState& state);

// --- Requests the server turned away ---

// How Busy and RateLimited answers are retried. The defaults are the client's.
struct RetryPolicy {
  int max_retries = 3;  // after the first answer; Busy and RateLimited count together
  // Busy: the server's retry_after, clamped to this range, times the retry's number, with
  // jitter of 0.5x to 1.5x so that clients turned away together do not return together.
  std::uint32_t min_busy_wait_ms = 50;
  std::uint32_t max_busy_wait_ms = 1000;
  // RateLimited: the server's retry_after plus this slack; a longer wait is not sat through
  // but reported at once (the front end says when to come back).
  std::uint32_t max_rate_limit_wait_ms = 5000;
  std::uint32_t rate_limit_slack_ms = 20;
};

// The wait before retrying after a Busy answer to try number `attempt` (0: the first
// request), or nullopt when the retries are spent. A failing `random` means no jitter.
std::optional<std::chrono::milliseconds> BusyRetryWait(const RetryPolicy& policy,
                                                       std::uint32_t retry_after_ms, int attempt,
                                                       util::Random& random);

// The wait before retrying after `reply` to try number `attempt`, or nullopt when it is not
// retried: neither Busy nor RateLimited, retries spent, or a rate-limit wait over
// max_rate_limit_wait_ms.
std::optional<std::chrono::milliseconds> RetryWait(const RetryPolicy& policy,
                                                   const protocol::Message& reply, int attempt,
                                                   util::Random& random);

// --- The front end's login ---

// A login that ends kBusy (the controller's retries spent) is tried again by the front end
// after the wait returned here for the `busy_answers`-th such result (1: the first): the
// server's hint clamped to 1-5 s. nullopt after kLoginBusyRetries: the front end gives up.
inline constexpr int kLoginBusyRetries = 5;
std::optional<std::chrono::seconds> LoginBusyWait(int busy_answers, std::int64_t hint_seconds);

// --- What replies mean to the front end (client_controller.hpp) ---

// A Busy that persisted through the retries: kResourceExhausted, since the server turned
// this request away and the connection is fine.
util::Status ServerBusy();

// The Status for an Error reply that leaves the connection open: the server's text with a
// code the caller can act on (kAlreadyExists, kInvalidArgument, kNotFound,
// kFailedPrecondition; kResourceExhausted for busy, rate-limited or too large; else
// kInternal). Never kUnavailable, which ClientController keeps for a lost connection.
util::Status ErrorToStatus(const protocol::Error& error);

}  // namespace bluetrace::service
