// UserStore: the registered users (canonical phone numbers) and their passwords.
// Implemented by files/file_user_store.hpp (credentials.txt); the contract below is
// proven for every backend by tests/store/contract/user_store_contract.cpp.
//
// Contract. Every change (AddUser, SetPassword, RemoveUser) is atomic and durable when it
// returns OK. A user is unique by canonical phone number: when two handles on the same
// storage (two threads, or two processes) add one number at the same moment, exactly one
// succeeds and the other gets kAlreadyExists. A change made through one handle is seen by
// another after that handle's Reload() (at once for a shared database). Verify never
// writes over a change made elsewhere meanwhile: a password upgrade it makes (a plaintext
// line replaced by its hash) applies only if the secret it verified is still the stored one.
// Every Verify costs one Argon2id verification whatever the case, so its duration reveals
// neither whether the user exists nor how the password is stored.
//
// Thread-safe. Passwords passed in are not kept.
#pragma once

#include <cstddef>
#include <string_view>

#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

enum class VerifyResult { kOk, kWrongPassword, kUnknownUser };

class UserStore {
 public:
  virtual ~UserStore() = default;

  // Checks a login; `user` in any accepted phone form (a name that is no phone number is
  // an unknown user). A failed password upgrade does not fail the login: it is reported
  // in `*upgrade_status` (OK otherwise) for the caller to log. Errors: a stored hash that
  // cannot be checked, the hashing library failing, the storage failing.
  virtual util::Result<VerifyResult> Verify(std::string_view user, std::string_view password,
                                            util::Status* upgrade_status = nullptr) = 0;

  // Adds a user with the Argon2id hash of `password`. kInvalidArgument for a bad phone
  // number or password, kAlreadyExists, kUnavailable when the storage is busy or away;
  // the user is then not added.
  virtual util::Status AddUser(std::string_view user, std::string_view password) = 0;
  // Replaces the password of an existing user (kNotFound otherwise).
  virtual util::Status SetPassword(std::string_view user, std::string_view password) = 0;
  // Removes a user (kNotFound when absent).
  virtual util::Status RemoveUser(std::string_view user) = 0;
  // Takes in changes made through other handles (another process). On error the store
  // keeps what it had.
  virtual util::Status Reload() = 0;

  virtual bool Contains(std::string_view user) const = 0;
  virtual std::size_t size() const = 0;
};

}  // namespace bluetrace::store
