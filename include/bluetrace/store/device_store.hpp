// DeviceStore: the devices each user has logged in from (the device-token defence,
// docs/SECURITY.md "Lockout as denial of service"). Implemented by
// files/file_device_store.hpp (devices.txt) and postgres/pg_device_store.hpp.
//
// Contract. Only a digest of each token is stored. Issue() returns a token only once it is
// durable; at most kMaxDevicesPerUser tokens per user stay valid (issuing another retires
// the oldest). Find() accepts exactly the valid tokens of that user. Thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

class DeviceStore {
 public:
  static constexpr std::size_t kMaxDevicesPerUser = 16;
  // A token is this many random bytes, written as twice as many lower-case hex digits.
  static constexpr std::size_t kTokenBytes = 32;
  // A device's id is this many leading hex digits of its token's SHA-256.
  static constexpr std::size_t kIdHexDigits = 16;

  virtual ~DeviceStore() = default;

  // The device's id (16 hex digits of its token's digest) when `token` is a valid token of
  // `user`; nullopt for anything else.
  virtual std::optional<std::string> Find(std::string_view user, std::string_view token) const = 0;
  // A new token for `user`, durable before it is returned.
  virtual util::Result<std::string> Issue(std::string_view user, util::Random& random) = 0;
  // Valid tokens in all.
  virtual std::size_t size() const = 0;
};

// A token as Issue makes it, and what a store keeps of it.
struct DeviceToken {
  std::string token;   // 2 * kTokenBytes lower-case hex digits: handed to the client only
  std::string digest;  // the SHA-256 of `token`, 64 lower-case hex digits: what is stored
  // The device's id: the first kIdHexDigits of the digest.
  std::string id() const { return digest.substr(0, DeviceStore::kIdHexDigits); }
};

// A new token from DeviceStore::kTokenBytes bytes of `random`. Errors: the generator's.
util::Result<DeviceToken> NewDeviceToken(util::Random& random);

// The digest of `token` when it has the form NewDeviceToken gives (2 * kTokenBytes
// lower-case hex digits); nullopt for anything else, which no store can hold.
std::optional<std::string> DigestOfDeviceToken(std::string_view token);

// Whether `s` has the form of a token's digest (64 lower-case hex digits).
bool IsDeviceTokenDigest(std::string_view s);

// Whether `user` is a name a DeviceStore holds: 1 to 256 bytes of printable ASCII, no space
// (a field of devices.txt; the PostgreSQL backend accepts the same names).
bool IsDeviceUser(std::string_view user);

}  // namespace bluetrace::store
