// AuthService: login and registration rules (the original's, docs/PROTOCOL.md 6.3; the defences
// in docs/SECURITY.md, "Password guessing" and "Lockout as denial of service").
//
// Login. A blocked user is refused at once, even with the right password. Otherwise the
// password is verified on the worker pool (Argon2 never runs on network threads). The
// guesses for one lockout key are verified one at a time, in arrival order, and each one
// re-checks the block just before it is verified: so at most `max_failed_logins`
// consecutive failures are ever verified before a block, and a guess still waiting when
// the block begins gets StillBlocked without being verified, whatever its password. A
// failure is counted per key (across connections and addresses); the 3rd consecutive one
// blocks it for block_duration. A success resets the count, and a plaintext password is
// upgraded to Argon2id by the credentials store. A name that is no account gets exactly
// the answers and the cost of a wrong password; names that are not even phone numbers
// are counted under a fixed-size digest so they cannot grow memory.
//
// Devices (protocol version 2). A right login from a version-2 client gets a device
// token (store/device_store.hpp). With `device_lockout` on, a login that presents a
// valid token of its user is counted under its own key (user#device): failures from
// elsewhere cannot block it, and its own failures still block it. With it off (the
// original's rule), every failure counts against the user, whatever the token.
//
// Fair queueing. Each hash is queued in a Lane of the worker pool: the source prefix of
// the client's address, and priority when it presents a valid device token. The hash
// workers only hash: what follows a verification (lockout and device-store writes, the
// audit record and its fsync, the answer) runs on the `bookkeeping` pool when there is
// one, so a slow disk never leaves a hash worker waiting while logins are queued.
//
// Audit. Every decided login (ok, failed, blocked) and registration is recorded through
// the audit trail before it is answered; when the record cannot be written the event is
// answered kError (fail closed), and while the audit log is down nothing is verified.
//
// Thread-safe; callbacks run on a worker thread or, for immediate answers, on the
// caller's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "bluetrace/service/password_rules.hpp"
#include "bluetrace/service/rate_limiter.hpp"
#include "bluetrace/service/worker_pool.hpp"
#include "bluetrace/store/audit_trail.hpp"
#include "bluetrace/store/device_store.hpp"
#include "bluetrace/store/lockout_store.hpp"
#include "bluetrace/store/user_store.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::service {

struct AuthOptions {
  bool registration_enabled = true;
  std::uint32_t min_password_length = kDefaultMinPasswordBytes;
  std::uint32_t max_password_length = kDefaultMaxPasswordBytes;
  bool device_lockout = false;  // the device-token defence (see above); off: the original
  // Guesses for one key waiting behind the one being verified; more get kBusy.
  std::size_t max_waiting_per_key = 16;
  // The fair-share source of an address: its /prefix_v4 or /prefix_v6 network.
  std::uint32_t source_prefix_v4 = 24;
  std::uint32_t source_prefix_v6 = 56;
};

enum class LoginStatus {
  kWelcome,        // logged in as `user`
  kWrongPassword,  // `attempts_left` before a block
  kBlocked,        // this failure blocked the user for `seconds`
  kStillBlocked,   // already blocked; `seconds` left
  kBusy,           // too many logins waiting; nothing was counted
  kRateLimited,    // too many attempts from this address; `retry_after` says when to retry
  kError,          // a store or the audit log failed; `error` says how
};

struct LoginRequest {
  std::string user;  // as typed
  util::SecretString password;
  util::SecretString device_token;  // version 2: the one this device holds, or empty
  bool issue_device_token = false;  // version 2: hand out a token at a success
  std::string peer;                 // the client's address, for the fair share and the audit
};

struct LoginOutcome {
  LoginStatus status = LoginStatus::kError;
  std::string user;  // canonical, for kWelcome
  std::uint32_t attempts_left = 0;
  std::int64_t seconds = 0;
  util::SecretString device_token;  // kWelcome: a new token for the client, or empty
  util::Status error;
  util::Status warning;  // kWelcome: a plaintext upgrade or a device token that failed
  std::chrono::milliseconds retry_after{0};  // kRateLimited
};

enum class RegisterStatus {
  kRegistered,  // `user` (canonical) now exists
  kDisabled,    // registration is turned off
  kInvalid,     // `error` explains (phone format, password length)
  kAlreadyExists,
  kBusy,
  kRateLimited,  // `retry_after` says when to retry
  kError,
};

struct RegisterOutcome {
  RegisterStatus status = RegisterStatus::kError;
  std::string user;
  util::Status error;
  std::chrono::milliseconds retry_after{0};  // kRateLimited
};

struct AuthStats {
  std::atomic<std::uint64_t> logins_ok{0};
  std::atomic<std::uint64_t> logins_failed{0};
  std::atomic<std::uint64_t> logins_blocked{0};  // refused because of a block, or blocking now
  std::atomic<std::uint64_t> logins_busy{0};
  std::atomic<std::uint64_t> registrations{0};
  std::atomic<std::uint64_t> verifications{0};  // passwords checked against a hash
  std::atomic<std::uint64_t> device_tokens_issued{0};
  std::atomic<std::uint64_t> rate_limited{0};  // logins and registrations over the address rate
};

// What AuthService works with; every reference must outlive it. `devices` may be null
// (no device tokens), `address_limiter` too (no limit per address).
struct AuthDeps {
  store::UserStore& users;
  store::LockoutStore& lockouts;
  store::DeviceStore* devices;
  store::AuditTrail& audit;
  WorkerPool& pool;
  util::Random& random;
  KeyedRateLimiter* address_limiter = nullptr;
  // Runs the work after each verification (see above); null, or a pool that refuses the
  // job (full, stopping): on the hash worker. Shut `pool` down before this one.
  WorkerPool* bookkeeping = nullptr;
};

class AuthService {
 public:
  AuthService(AuthDeps deps, AuthOptions options);

  // Logins and registrations share the limit per address (`address_limiter`); an attempt
  // answered kBusy gives its token back (nothing was checked, so the retry is free).
  void Login(LoginRequest request, std::function<void(LoginOutcome)> done) EXCLUDES(mu_);
  void Register(std::string user, util::SecretString password, std::string peer,
                std::function<void(RegisterOutcome)> done);

  const AuthStats& stats() const { return stats_; }
  const AuthOptions& options() const { return options_; }

  // The key a login name is counted under in the lockout store: the canonical phone
  // number, or "?" and a 32-hex-digit digest for names that are no phone number.
  static std::string LockoutKey(std::string_view name);

  // The fair-share source of `address` (an IP literal): its network of the given prefix
  // length, e.g. "v4:192.0.2.0/24"; anything else is its own source.
  static std::string SourceOf(std::string_view address, std::uint32_t prefix_v4,
                              std::uint32_t prefix_v6);

 private:
  struct Attempt;
  // Guesses of one lockout key: one verifying, the others waiting in order.
  struct KeyQueue {
    std::deque<std::shared_ptr<Attempt>> waiting;
  };

  // Queues `attempt` on the pool; answers kBusy and moves on when the pool refuses it.
  void Dispatch(std::shared_ptr<Attempt> attempt) EXCLUDES(mu_);
  // Runs on a hash worker: the block re-check and the verification; then Finish.
  void Run(const std::shared_ptr<Attempt>& attempt);
  // Runs `decide` (counting, device token, audit record), answers, and starts the next
  // guess of the key: on the bookkeeping pool when it takes the job, here otherwise.
  void Finish(const std::shared_ptr<Attempt>& attempt, std::function<LoginOutcome()> decide);
  // The attempt of `key` is answered: starts its next waiting one.
  void Next(const std::string& key) EXCLUDES(mu_);
  // Counts a verification's result and records it (`upgrade`: why a plaintext password
  // was not rehashed, or OK).
  LoginOutcome Count(Attempt& attempt, const util::Result<store::VerifyResult>& verified,
                     const util::Status& upgrade);
  LoginOutcome StillBlocked(const Attempt& attempt, std::int64_t seconds_left);
  // Records the audit line of a decided login; turns the outcome into kError when the
  // record cannot be written.
  void AuditLogin(const Attempt& attempt, LoginOutcome& outcome);

  AuthDeps deps_;
  const AuthOptions options_;
  AuthStats stats_;
  util::Mutex mu_;
  // Keys with an attempt being verified (and those waiting behind it).
  std::unordered_map<std::string, KeyQueue> active_ GUARDED_BY(mu_);
};

}  // namespace bluetrace::service
