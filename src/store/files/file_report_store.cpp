#include "bluetrace/store/files/file_report_store.hpp"

#include <algorithm>

#include "bluetrace/store/files/state_dir.hpp"

namespace bluetrace::store {
Result<std::unique_ptr<FileReportStore>> FileReportStore::Open(FileSystem& fs, std::string dir) {
  BLUETRACE_RETURN_IF_ERROR(fs.CreateDirs(dir, StateDir::kReportDirMode));
  return std::unique_ptr<FileReportStore>(new FileReportStore(fs, std::move(dir)));
}

Result<std::string> FileReportStore::Write(std::string_view uploader, std::int64_t received_at,
                                           std::string_view text) {
  util::MutexLock lock(mu_);
  for (std::uint64_t n = 1; n < 100000; ++n) {
    std::string name = ReportName(uploader, received_at, n);
    const std::string path = JoinPath(dir_, name);
    BLUETRACE_ASSIGN_OR_RETURN(auto exists, fs_.Exists(path));
    if (exists) continue;
    BLUETRACE_RETURN_IF_ERROR(fs_.ReplaceFileAtomically(path, text, StateDir::kReportMode));
    return name;
  }
  return util::ResourceExhausted("too many reports for one uploader within one second");
}

Result<std::vector<std::string>> FileReportStore::List() const {
  BLUETRACE_ASSIGN_OR_RETURN(auto names, fs_.ListDir(dir_));
  std::vector<std::string> out;
  for (auto& n : names) {
    if (IsReportName(n)) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::uint64_t> FileReportStore::CountSince(std::string_view uploader,
                                                  std::int64_t since) const {
  BLUETRACE_ASSIGN_OR_RETURN(auto names, fs_.ListDir(dir_));
  const std::string canonical =
      "+" + std::string(uploader.substr(uploader.starts_with('+') ? 1 : 0));
  std::uint64_t n = 0;
  for (const auto& name : names) {
    auto parts = ParseReportName(name);
    if (parts.ok() && parts->uploader == canonical && parts->received_at >= since) ++n;
  }
  return n;
}

Result<std::uint64_t> FileReportStore::PruneBefore(std::int64_t cutoff) {
  BLUETRACE_ASSIGN_OR_RETURN(auto names, fs_.ListDir(dir_));
  std::uint64_t n = 0;
  for (const auto& name : names) {
    auto parts = ParseReportName(name);
    if (!parts.ok() || parts->received_at >= cutoff) continue;
    BLUETRACE_RETURN_IF_ERROR(fs_.RemoveFile(JoinPath(dir_, name)));
    ++n;
  }
  return n;
}

Result<std::string> FileReportStore::Read(std::string_view name) const {
  if (!IsReportName(name)) {
    return util::InvalidArgument("'" + std::string(name) + "' is not a report name");
  }
  const std::string path = JoinPath(dir_, name);
  BLUETRACE_ASSIGN_OR_RETURN(const bool exists, fs_.Exists(path));
  if (!exists) return util::NotFound("no report named " + std::string(name));
  return fs_.ReadFile(path, 1ull << 30);
}

}  // namespace bluetrace::store
