// StaffStore: the health authority's staff accounts for the web console (separate from the
// app's users), their consecutive login failures, and their console sessions. Implemented
// by files/file_staff_store.hpp (<state_dir>/staff.txt) and postgres/pg_staff_store.hpp;
// the contract is proven for every backend by tests/store/contract/staff_store_contract.cpp.
//
// Contract. Names are unique; accounts and login failures written through one handle are
// seen by every handle at once (files: every call re-reads staff.txt under its lock).
// Passwords arrive hashed (store/password_hash.hpp): the store never sees one. Sessions are
// keyed by the hash of their token, never the token. On PostgreSQL sessions are rows, so
// every instance behind a load balancer accepts them; the file backend (one server per
// state directory) keeps them in the handle's memory, so a restart ends them. Removing an
// account or changing its password ends its sessions (in the handle that does it; on
// PostgreSQL everywhere). Every change is durable when it returns OK. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

enum class StaffRole { kTracer, kAdmin };

// "tracer" / "admin".
std::string_view StaffRoleName(StaffRole role);
// The inverse; kInvalidArgument naming the text otherwise.
util::Result<StaffRole> ParseStaffRole(std::string_view text);

// Longest staff name.
inline constexpr std::size_t kMaxStaffNameBytes = 32;

// OK for 1 to kMaxStaffNameBytes of [a-z0-9._-] starting with a letter or digit (names land
// in the audit log and in staff.txt, so no spaces and no look-alike upper case).
util::Status ValidateStaffName(std::string_view name);

struct StaffMember {
  std::string name;
  StaffRole role = StaffRole::kTracer;
  std::string password_hash;  // Argon2id PHC encoding
};

struct ConsoleSession {
  std::string token_hash;       // hex SHA-256 of the cookie's token
  std::string staff;            // the account's name
  std::string csrf_token;       // the forms' token, per session
  std::int64_t created_at = 0;  // unix seconds
  std::int64_t last_seen = 0;   // unix seconds of the last request
};

class StaffStore {
 public:
  virtual ~StaffStore() = default;

  // kAlreadyExists when the name is taken; ValidateStaffName's kInvalidArgument.
  virtual util::Status Add(const StaffMember& member) = 0;
  // Deletes the account, its failures and its sessions. kNotFound when there is none.
  virtual util::Status Remove(std::string_view name) = 0;
  // Replaces the password hash, forgets the failures and ends the sessions. kNotFound.
  virtual util::Status SetPasswordHash(std::string_view name, std::string_view hash) = 0;
  // The account, or nullopt.
  virtual util::Result<std::optional<StaffMember>> Find(std::string_view name) = 0;
  // Every account, sorted by name.
  virtual util::Result<std::vector<StaffMember>> List() = 0;

  // Until when (unix seconds) `name` may not log in; 0 when it may.
  virtual util::Result<std::int64_t> BlockedUntil(std::string_view name, std::int64_t now) = 0;
  // Counts one failed login of an existing account; after `max_failures` consecutive ones
  // it is blocked until now + block_seconds (a failure during a block changes nothing).
  // Returns the block's end, 0 when not blocked. kNotFound for no such account.
  virtual util::Result<std::int64_t> RecordFailure(std::string_view name, std::int64_t now,
                                                   std::uint32_t max_failures,
                                                   std::int64_t block_seconds) = 0;
  // A successful login: forgets the failures.
  virtual util::Status RecordSuccess(std::string_view name) = 0;

  // kAlreadyExists for a token hash in use.
  virtual util::Status CreateSession(const ConsoleSession& session) = 0;
  virtual util::Result<std::optional<ConsoleSession>> FindSession(std::string_view token_hash) = 0;
  // Sets last_seen. kNotFound when the session is gone.
  virtual util::Status TouchSession(std::string_view token_hash, std::int64_t now) = 0;
  // Ends one session; OK when it did not exist.
  virtual util::Status DeleteSession(std::string_view token_hash) = 0;
  // Ends every session last seen before `idle_before` or created before `created_before`.
  virtual util::Status DeleteExpiredSessions(std::int64_t idle_before,
                                             std::int64_t created_before) = 0;
};

}  // namespace bluetrace::store
