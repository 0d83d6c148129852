// DeviceStore: the devices each user has logged in from (the device-token defence,
// docs/SECURITY.md "Lockout as denial of service"). Implemented by
// files/file_device_store.hpp (devices.txt).
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

  virtual ~DeviceStore() = default;

  // The device's id (16 hex digits of its token's digest) when `token` is a valid token of
  // `user`; nullopt for anything else.
  virtual std::optional<std::string> Find(std::string_view user, std::string_view token) const = 0;
  // A new token for `user`, durable before it is returned.
  virtual util::Result<std::string> Issue(std::string_view user, util::Random& random) = 0;
  // Valid tokens in all.
  virtual std::size_t size() const = 0;
};

}  // namespace bluetrace::store
