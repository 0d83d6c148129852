// AuthService: login and registration rules (ASSIGNMENT.md 3, 5, 6.1, 6.2, 6.8, 6.9).
//
// Login: a blocked user is refused at once, even with the right password. Otherwise the
// password is verified on the worker pool (Argon2 never runs on network threads); a full
// pool queue answers kBusy instead of waiting without bound. A failure is counted per
// user (across connections and addresses): the 3rd consecutive one blocks the user for
// block_duration. A success resets the count, and a plaintext password is upgraded to
// Argon2id by the credentials store. A name that is no account gets exactly the answers
// and the cost of a wrong password; names that are not even phone numbers are counted
// under a fixed-size digest so they cannot grow memory.
//
// Concurrency: guesses racing on several connections are each verified, but a success is
// re-checked against the lockout after verification, so once a block is in place no
// concurrent guess can get through. Thread-safe; callbacks run on a worker thread or, for
// immediate answers, on the caller's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bluetrace/service/worker_pool.hpp"
#include "bluetrace/store/credentials_store.hpp"
#include "bluetrace/store/lockout_store.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

struct AuthOptions {
  bool registration_enabled = true;
  std::uint32_t min_password_length = 8;
  std::uint32_t max_password_length = 1024;
  std::int64_t block_seconds = 60;
};

enum class LoginStatus {
  kWelcome,        // logged in as `user`
  kWrongPassword,  // `attempts_left` before a block
  kBlocked,        // this failure blocked the user for `seconds`
  kStillBlocked,   // already blocked; `seconds` left
  kBusy,           // too many logins waiting; nothing was counted
  kError,          // a store failed; `error` says how
};

struct LoginOutcome {
  LoginStatus status = LoginStatus::kError;
  std::string user;  // canonical, for kWelcome
  std::uint32_t attempts_left = 0;
  std::int64_t seconds = 0;
  util::Status error;
};

enum class RegisterStatus {
  kRegistered,  // `user` (canonical) now exists
  kDisabled,    // registration is turned off
  kInvalid,     // `error` explains (phone format, password length)
  kAlreadyExists,
  kBusy,
  kError,
};

struct RegisterOutcome {
  RegisterStatus status = RegisterStatus::kError;
  std::string user;
  util::Status error;
};

struct AuthStats {
  std::atomic<std::uint64_t> logins_ok{0};
  std::atomic<std::uint64_t> logins_failed{0};
  std::atomic<std::uint64_t> logins_blocked{0};  // refused because of a block, or blocking now
  std::atomic<std::uint64_t> logins_busy{0};
  std::atomic<std::uint64_t> registrations{0};
};

class AuthService {
 public:
  AuthService(store::CredentialsStore& credentials, store::LockoutStore& lockouts, WorkerPool& pool,
              AuthOptions options);

  void Login(std::string user, util::SecretString password, std::function<void(LoginOutcome)> done);
  void Register(std::string user, util::SecretString password,
                std::function<void(RegisterOutcome)> done);

  const AuthStats& stats() const { return stats_; }
  const AuthOptions& options() const { return options_; }

  // The key a login name is counted under in the lockout store: the canonical phone
  // number, or "?" and a 32-hex-digit digest for names that are no phone number.
  static std::string LockoutKey(std::string_view name);

 private:
  LoginOutcome VerifyAndCount(const std::string& name, const std::string& key,
                              const util::SecretString& password);

  store::CredentialsStore& credentials_;
  store::LockoutStore& lockouts_;
  WorkerPool& pool_;
  const AuthOptions options_;
  AuthStats stats_;
};

}  // namespace bluetrace::service
