// RemoveAccount: the withdrawal of consent (BlueTrace's fourth privacy principle), one use
// case for the client's Deregister and `bluetrace-admin user remove`. It deletes the
// account, its lockout and upload-code state, its upload code and the link from its
// TempIDs to the phone number (a later upload naming them counts them as unknown).
// Reports already written for the health authority stay: they are the authority's
// records, kept as reports.retention says (README, "Withdrawal of consent").
//
// Blocking (store I/O; a full tempIDs.txt rewrite on the file backend). Stateless.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "bluetrace/service/worker_pool.hpp"
#include "bluetrace/store/stores.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

struct RemovedAccount {
  std::string user;  // canonical
  std::uint64_t tempids_removed = 0;
  bool tempids_kept = false;  // `stores.tempids` was null: the caller deals with them
};

// Removes `user` (any accepted phone form) from `stores`; the caller records it in the
// audit trail (Deregister: "deregistered"; bluetrace-admin: "admin_user_removed"). The
// account goes first, so a failure after it leaves no account behind, only state to clean
// up. A null `stores.tempids` (or upload_codes, code_failures) leaves that store alone:
// the file backend's tempIDs.txt while a server runs is the server's to rewrite
// (store/files/withdrawals.hpp). Errors: kNotFound when there is no such account; the
// stores'.
util::Result<RemovedAccount> RemoveAccount(store::Stores& stores, std::string_view user);

enum class DeregisterStatus {
  kRemoved,
  kWrongPassword,  // counted like a failed login; `attempts_left`
  kBlocked,        // this failure blocked the account; `seconds`
  kStillBlocked,   // the account was blocked already; `seconds`
  kBusy,           // the pool is full or the storage away; nothing was done
  kError,          // `error` says how (for the log)
};

struct DeregisterOutcome {
  DeregisterStatus status = DeregisterStatus::kError;
  std::uint32_t attempts_left = 0;
  std::int64_t seconds = 0;
  util::Status error;
};

// The client's Deregister: the logged-in user confirms with the password (one Argon2
// verification on `pool`, wrong ones counted by the login lockout), then RemoveAccount.
// Callbacks run on a pool thread, or on the caller's for Busy. Thread-safe; `stores` and
// `pool` must outlive it.
class DeregistrationService {
 public:
  DeregistrationService(store::Stores& stores, WorkerPool& pool) : stores_(stores), pool_(pool) {}

  void Deregister(std::string user, util::SecretString password,
                  std::function<void(DeregisterOutcome)> done);

 private:
  store::Stores& stores_;
  WorkerPool& pool_;
};

}  // namespace bluetrace::service
