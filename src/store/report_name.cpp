#include <algorithm>
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

}  // namespace bluetrace::store
