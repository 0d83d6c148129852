// LockoutStore: consecutive login failures per lockout key (a user, or a user's device)
// and the blocks they cause (docs/ORIGINAL.md §3, 5, 6.1, 6.2). Implemented by
// files/file_lockout_store.hpp (lockouts.txt) and postgres/pg_lockout_store.hpp; the
// contract is proven for every backend by tests/store/contract/lockout_store_contract.cpp.
//
// Contract. After `max_failures` consecutive failures a key is blocked for
// `block_seconds` of the injected clock; a failure during a block does not extend it; a
// success resets the count; once a block runs out the count starts from zero. Counts are
// per key, whatever the connection, address or handle they come through: failures
// recorded through two handles on the same storage add up (after Reload() for files, at
// once for a shared database). RecordFailure is atomic: of N concurrent failures exactly
// the `max_failures`-th blocks. An Unblock through one handle lifts the block for every
// handle (after Reload() for files). Names that are no account (`known_user` false) are
// counted and blocked alike, so the answers never reveal whether an account exists; a
// backend may keep them only in memory, bounded by `max_unknown_entries`.
// Durability: a known user's change is durable when the call returns OK; when the write
// fails the error is returned but the change stands in memory (a failing disk never
// weakens a lockout).
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

struct LockoutPolicy {
  // The longest block_seconds accepted (a leap year).
  static constexpr std::int64_t kMaxBlockSeconds = 366 * 24 * 3600;

  std::uint32_t max_failures = 3;           // consecutive failures that cause a block, >= 1
  std::int64_t block_seconds = 60;          // the original's block_duration, 1 s to 1 year
  std::size_t max_unknown_entries = 10000;  // memory bound for names that are no account
};

// OK, or kInvalidArgument naming the field out of range. Every backend's Open checks it.
util::Status ValidateLockoutPolicy(const LockoutPolicy& policy);

struct BlockState {
  bool blocked = false;
  std::int64_t seconds_left = 0;  // > 0 when blocked
};

struct FailureResult {
  bool now_blocked = false;         // this failure caused the block (or one was running)
  std::uint32_t attempts_left = 0;  // failures still allowed before a block; 0 when blocked
  std::int64_t block_seconds = 0;   // when blocked: how long the block still lasts
};

struct BlockedUser {
  std::string user;
  std::int64_t blocked_until = 0;  // unix seconds
  std::int64_t seconds_left = 0;
  bool known = false;  // false: a name that is no account
};

class LockoutStore {
 public:
  virtual ~LockoutStore() = default;

  // Whether `key` is blocked now, and for how long still.
  virtual BlockState Check(std::string_view key) const = 0;
  // Counts one failed login of `key`. A failure while a block runs does not extend it.
  // Errors: only from persisting it (see Durability).
  virtual util::Result<FailureResult> RecordFailure(std::string_view key, bool known_user) = 0;
  // A successful login: forgets the key's failures.
  virtual util::Status RecordSuccess(std::string_view key) = 0;
  // Lifts an active block (the admin's command) and forgets the failures. kNotFound when
  // `key` is not blocked.
  virtual util::Status Unblock(std::string_view key) = 0;
  // Keys blocked right now, known users and names that are no account alike, sorted by
  // name.
  virtual std::vector<BlockedUser> ListBlocked() const = 0;
  // Takes in changes made through other handles (an admin's unblock). On error the store
  // is unchanged.
  virtual util::Status Reload() = 0;
};

}  // namespace bluetrace::store
