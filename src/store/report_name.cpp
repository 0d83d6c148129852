#include <algorithm>
#include <charconv>
#include <ctime>

#include "bluetrace/store/report_store.hpp"

namespace bluetrace::store {
namespace {

std::string DigitsOf(std::string_view s) {
  std::string d;
  for (char c : s) {
    if (c >= '0' && c <= '9') d += c;
  }
  return d.empty() ? "0" : d;
}

std::string UtcStamp(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string ReportName(std::string_view uploader, std::int64_t received_at, std::uint64_t n) {
  return UtcStamp(received_at) + "-" + DigitsOf(uploader) + "-" + std::to_string(n) + ".txt";
}

bool IsReportName(std::string_view name) {
  // 20200513T174506Z-61410888888-1.txt
  if (name.size() < 16 + 1 + 1 + 1 + 1 + 4 || name.size() > 64) return false;
  if (name.substr(name.size() - 4) != ".txt") return false;
  std::string_view stem = name.substr(0, name.size() - 4);
  if (!AllDigits(stem.substr(0, 8)) || stem[8] != 'T' || !AllDigits(stem.substr(9, 6)) ||
      stem[15] != 'Z' || stem[16] != '-') {
    return false;
  }
  std::string_view rest = stem.substr(17);
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos) return false;
  return AllDigits(rest.substr(0, dash)) && AllDigits(rest.substr(dash + 1));
}

util::Result<ReportNameParts> ParseReportName(std::string_view name) {
  const auto bad = [&] {
    return util::InvalidArgument("'" + std::string(name) + "' is not a report name");
  };
  if (!IsReportName(name)) return bad();
  const auto number = [](std::string_view digits, auto& out) {
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return ec == std::errc() && end == digits.data() + digits.size();
  };
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(name.substr(0, 4), year) || !number(name.substr(4, 2), month) ||
      !number(name.substr(6, 2), day) || !number(name.substr(9, 2), hour) ||
      !number(name.substr(11, 2), minute) || !number(name.substr(13, 2), second)) {
    return bad();
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  ReportNameParts parts;
  parts.received_at = static_cast<std::int64_t>(timegm(&tm));
  // timegm normalises 31/02 to 03/03: only a name it gives back is a calendar time.
  const std::string_view rest = name.substr(17, name.size() - 17 - 4);
  const std::size_t dash = rest.find('-');
  parts.uploader = "+" + std::string(rest.substr(0, dash));
  if (!number(rest.substr(dash + 1), parts.n)) return bad();
  if (ReportName(parts.uploader, parts.received_at, parts.n) != name) return bad();
  return parts;
}

}  // namespace bluetrace::store
