// Pieces shared by the server and client configuration parsers (private to service/).
#pragma once

#include <string>

#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/util/config_reader.hpp"

namespace bluetrace::service {

inline constexpr std::int64_t kDay = 24 * 3600;

// A time-zone key: "utc" or "local". Leaves `mode` untouched when the key is absent.
inline util::Status GetTimeZone(util::ConfigReader& r, const std::string& key,
                                protocol::TimeZoneMode& mode) {
  std::string name;
  BLUETRACE_RETURN_IF_ERROR(r.GetOneOf(key, {"utc", "local"}, name));
  if (name == "utc") mode = protocol::TimeZoneMode::kUtc;
  if (name == "local") mode = protocol::TimeZoneMode::kLocal;
  return util::Status::Ok();
}

// The TOML value of a time zone, quoted.
inline std::string FormatTimeZone(protocol::TimeZoneMode mode) {
  return mode == protocol::TimeZoneMode::kUtc ? "\"utc\"" : "\"local\"";
}

}  // namespace bluetrace::service
