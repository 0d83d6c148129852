#include "bluetrace/protocol/beacon.hpp"

#include <string>
#include <string_view>

#include "text_detail.hpp"

namespace bluetrace::protocol {
namespace {

constexpr std::size_t kStartOffset = TempId::kSize;                     // 20
constexpr std::size_t kExpiryOffset = kStartOffset + kTimestampSize;    // 39
constexpr std::size_t kVersionOffset = kExpiryOffset + kTimestampSize;  // 58
static_assert(kVersionOffset + 1 == kBeaconSize);

}  // namespace

util::Result<Beacon> ParseBeacon(std::span<const std::uint8_t> datagram, TimeZoneMode mode) {
  if (datagram.size() != kBeaconSize) {
    return util::InvalidArgument("beacon must be " + std::to_string(kBeaconSize) + " bytes, got " +
                                 std::to_string(datagram.size()));
  }
  const std::string_view text(reinterpret_cast<const char*>(datagram.data()), datagram.size());
  // The version decides how to read the rest, so it is checked first.
  const std::uint8_t version_byte = datagram[kVersionOffset];
  if (version_byte != '0' + kBeaconVersion && version_byte != kBeaconVersion) {
    return util::InvalidArgument("unknown beacon version " +
                                 detail::DescribeByte(static_cast<char>(version_byte)));
  }
  auto id = TempId::Parse(text.substr(0, TempId::kSize));
  if (!id.ok()) return id.status().WithContext("beacon");
  auto start = ParseTimestamp(text.substr(kStartOffset, kTimestampSize), mode);
  if (!start.ok()) return start.status().WithContext("beacon start");
  auto expiry = ParseTimestamp(text.substr(kExpiryOffset, kTimestampSize), mode);
  if (!expiry.ok()) return expiry.status().WithContext("beacon expiry");
  return Beacon{*id, *start, *expiry, kBeaconVersion};
}

std::string EncodeBeacon(const Beacon& beacon, TimeZoneMode mode) {
  std::string out;
  out.reserve(kBeaconSize);
  out.append(beacon.id.view());
  out += FormatTimestamp(beacon.start, mode);
  out += FormatTimestamp(beacon.expiry, mode);
  // Versions 0-9 are written as their ASCII digit, like the rest of the beacon.
  out += beacon.version <= 9 ? static_cast<char>('0' + beacon.version)
                             : static_cast<char>(beacon.version);
  return out;
}

bool IsBeaconValidAt(const Beacon& beacon, std::int64_t now_unix_seconds) {
  return BeaconTimingAt(beacon, now_unix_seconds) == BeaconTiming::kValid;
}

BeaconTiming BeaconTimingAt(const Beacon& beacon, std::int64_t now_unix_seconds) {
  if (now_unix_seconds < beacon.start) return BeaconTiming::kNotYetValid;
  if (now_unix_seconds > beacon.expiry) return BeaconTiming::kExpired;
  return BeaconTiming::kValid;
}

std::string DescribeBeaconTiming(const Beacon& beacon, std::int64_t now_unix_seconds) {
  // Parsed timestamps lie within years 0000-9999, so these differences cannot overflow.
  switch (BeaconTimingAt(beacon, now_unix_seconds)) {
    case BeaconTiming::kNotYetValid:
      return "not yet valid: it starts in " + std::to_string(beacon.start - now_unix_seconds) +
             " s";
    case BeaconTiming::kExpired:
      if (beacon.expiry < beacon.start) return "it expires before it starts";
      return "expired " + std::to_string(now_unix_seconds - beacon.expiry) + " s ago";
    case BeaconTiming::kValid:
      break;
  }
  return "valid";
}

}  // namespace bluetrace::protocol
