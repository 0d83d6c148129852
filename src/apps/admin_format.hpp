// The formats bluetrace-admin prints and reads besides its plain text: JSON strings, CSV
// fields (RFC 4180), UTC times in ISO 8601, and the times `audit --since` accepts. Pure
// functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/util/status.hpp"

namespace bluetrace::admin {

enum class OutputFormat { kText, kJson, kCsv };

// `s` as a JSON string, quotes included: '"', '\' and control characters escaped; bytes
// that are not UTF-8 become U+FFFD, so the output is always valid JSON.
std::string JsonString(std::string_view s);

// One CSV record (RFC 4180): fields joined by ',', a field quoted when it holds a ',', a
// '"', CR or LF (its quotes doubled), ended by CRLF.
std::string CsvRecord(const std::vector<std::string>& fields);

// "2020-05-13T17:50:00Z".
std::string IsoUtc(std::int64_t unix_seconds);

// A point in time for --since, in seconds since the epoch: "2020-05-13" (midnight UTC),
// "2020-05-13T17:50", "2020-05-13T17:50:00" (a trailing 'Z' or a space for the 'T'
// allowed; always UTC), or an age before `now`: "<n>s", "<n>m", "<n>h", "<n>d".
// kInvalidArgument saying which forms are accepted otherwise.
util::Result<std::int64_t> ParseSince(std::string_view text, std::int64_t now);

}  // namespace bluetrace::admin
