#include "bluetrace/store/report_store.hpp"

#include <algorithm>
#include <ctime>

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

bool ReportStore::IsReportName(std::string_view name) {
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

Result<std::unique_ptr<ReportStore>> ReportStore::Open(FileSystem& fs, std::string dir) {
  BLUETRACE_RETURN_IF_ERROR(fs.CreateDirs(dir, 0750));
  return std::unique_ptr<ReportStore>(new ReportStore(fs, std::move(dir)));
}

Result<std::string> ReportStore::Write(std::string_view uploader, std::int64_t received_at,
                                       std::string_view text) {
  util::MutexLock lock(mu_);
  const std::string prefix = UtcStamp(received_at) + "-" + DigitsOf(uploader) + "-";
  for (int n = 1; n < 100000; ++n) {
    std::string name = prefix + std::to_string(n) + ".txt";
    const std::string path = JoinPath(dir_, name);
    auto exists = fs_.Exists(path);
    if (!exists.ok()) return exists.status();
    if (*exists) continue;
    BLUETRACE_RETURN_IF_ERROR(fs_.ReplaceFileAtomically(path, text, 0640));
    return name;
  }
  return util::ResourceExhausted("too many reports for one uploader within one second");
}

Result<std::vector<std::string>> ReportStore::List() const {
  auto names = fs_.ListDir(dir_);
  if (!names.ok()) return names.status();
  std::vector<std::string> out;
  for (auto& n : *names) {
    if (IsReportName(n)) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> ReportStore::Read(std::string_view name) const {
  if (!IsReportName(name)) {
    return util::InvalidArgument("'" + std::string(name) + "' is not a report name");
  }
  return fs_.ReadFile(JoinPath(dir_, name), 1ull << 30);
}

}  // namespace bluetrace::store
