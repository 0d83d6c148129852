#include "bluetrace/store/device_store.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "bluetrace/util/digest.hpp"

namespace bluetrace::store {
namespace {

constexpr std::size_t kDigestHexDigits = 64;

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

util::Result<DeviceToken> NewDeviceToken(util::Random& random) {
  std::array<std::uint8_t, DeviceStore::kTokenBytes> bytes{};
  BLUETRACE_RETURN_IF_ERROR(random.Fill(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  DeviceToken t;
  for (std::uint8_t b : bytes) {
    t.token += kHex[b >> 4];
    t.token += kHex[b & 0xf];
  }
  t.digest = util::Sha256Hex(t.token);
  return t;
}

std::optional<std::string> DigestOfDeviceToken(std::string_view token) {
  if (token.size() != 2 * DeviceStore::kTokenBytes || !IsLowerHex(token)) return std::nullopt;
  return util::Sha256Hex(token);
}

bool IsDeviceTokenDigest(std::string_view s) {
  return s.size() == kDigestHexDigits && IsLowerHex(s);
}

bool IsDeviceUser(std::string_view user) {
  return !user.empty() && user.size() <= 256 &&
         std::all_of(user.begin(), user.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

}  // namespace bluetrace::store
