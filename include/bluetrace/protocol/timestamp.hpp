// Timestamps of the original's text formats: "DD/MM/YYYY HH:MM:SS", exactly 19 bytes, in
// tempIDs.txt, contact logs and beacons.
//
// The text carries no time zone. bluetrace reads and writes it as UTC by default, because
// a beacon is written by one machine and checked by another (docs/ORIGINAL.md §6.11); kLocal
// reproduces the original (one machine, local time). Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

enum class TimeZoneMode { kUtc, kLocal };

inline constexpr std::size_t kTimestampSize = 19;
// Accepted years; the range keeps every value well inside int64 seconds.
inline constexpr int kMinYear = 1970;
inline constexpr int kMaxYear = 9999;

// Parses exactly 19 bytes "DD/MM/YYYY HH:MM:SS" (two-digit day, month, hour, minute and
// second, four-digit year, a real calendar date, leap years included, 00-23 hours,
// 00-59 minutes and seconds) into seconds since the Unix epoch. kInvalidArgument with a
// message naming the defect ("day 31 does not exist in month 04") otherwise. In kLocal
// mode a time skipped or repeated by a DST change resolves as mktime does.
util::Result<std::int64_t> ParseTimestamp(std::string_view text,
                                          TimeZoneMode mode = TimeZoneMode::kUtc);

// Formats seconds since the epoch as "DD/MM/YYYY HH:MM:SS". Values outside the accepted
// years are clamped to the nearest representable one.
std::string FormatTimestamp(std::int64_t unix_seconds, TimeZoneMode mode = TimeZoneMode::kUtc);

}  // namespace bluetrace::protocol
