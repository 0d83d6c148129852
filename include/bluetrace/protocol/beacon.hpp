// The UDP beacon of the P2P part (docs/ORIGINAL.md §4): TempID (20 ASCII digits), start (19),
// expiry (19) and the BlueTrace protocol version (1 byte): 59 bytes, no separators.
//
// The version byte: bluetrace writes ASCII '1' (0x31), as a text-based original would, and
// accepts both '1' and the raw value 0x01 when reading. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "bluetrace/protocol/tempid.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

inline constexpr std::size_t kBeaconSize = 59;
inline constexpr std::uint8_t kBeaconVersion = 1;

struct Beacon {
  TempId id;
  std::int64_t start = 0;
  std::int64_t expiry = 0;
  std::uint8_t version = kBeaconVersion;  // the numeric version (1)
  friend bool operator==(const Beacon&, const Beacon&) = default;
};

// Exactly 59 bytes, else kInvalidArgument; an unknown version, a malformed TempID or
// timestamp is kInvalidArgument too, naming the part.
// A beacon whose expiry precedes its start parses (it is simply never valid).
util::Result<Beacon> ParseBeacon(std::span<const std::uint8_t> datagram,
                                 TimeZoneMode mode = TimeZoneMode::kUtc);
// The 59 bytes of `beacon`; the version is written as an ASCII digit ('1' for version 1).
// Times outside the timestamp range are clamped as FormatTimestamp does.
std::string EncodeBeacon(const Beacon& beacon, TimeZoneMode mode = TimeZoneMode::kUtc);

// start <= now <= expiry, at one-second resolution (docs/ORIGINAL.md §6.4).
bool IsBeaconValidAt(const Beacon& beacon, std::int64_t now_unix_seconds);

// Where `now` falls against the beacon's validity: before its start, after its expiry
// (also for a beacon whose expiry precedes its start, once past the start), or within.
enum class BeaconTiming { kNotYetValid, kValid, kExpired };
BeaconTiming BeaconTimingAt(const Beacon& beacon, std::int64_t now_unix_seconds);

// Why a beacon is invalid at `now`, for logs: "not yet valid: it starts in 500 s",
// "expired 101 s ago", "it expires before it starts"; "valid" when it is.
std::string DescribeBeaconTiming(const Beacon& beacon, std::int64_t now_unix_seconds);

}  // namespace bluetrace::protocol
