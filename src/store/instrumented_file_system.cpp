#include "bluetrace/store/instrumented_file_system.hpp"

#include <chrono>
#include <utility>

namespace bluetrace::store {

namespace {

using SteadyClock = std::chrono::steady_clock;

class TimedAppendFile final : public AppendFile {
 public:
  TimedAppendFile(std::unique_ptr<AppendFile> inner, util::LatencyHistogram& sync)
      : inner_(std::move(inner)), sync_(sync) {}

  Status Append(std::string_view data) override { return inner_->Append(data); }
  Status Sync() override {
    const auto start = SteadyClock::now();
    Status st = inner_->Sync();
    sync_.Record(SteadyClock::now() - start);
    return st;
  }
  Status WriteBehind() override { return inner_->WriteBehind(); }
  std::uint64_t Size() const override { return inner_->Size(); }
  Status Close() override { return inner_->Close(); }

 private:
  std::unique_ptr<AppendFile> inner_;
  util::LatencyHistogram& sync_;
};

}  // namespace

Result<std::unique_ptr<AppendFile>> InstrumentedFileSystem::OpenForAppend(const std::string& path,
                                                                          mode_t mode) {
  BLUETRACE_ASSIGN_OR_RETURN(auto file, inner_.OpenForAppend(path, mode));
  return std::unique_ptr<AppendFile>(std::make_unique<TimedAppendFile>(std::move(file), sync_));
}

Status InstrumentedFileSystem::ReplaceFileAtomically(const std::string& path,
                                                     std::string_view contents, mode_t mode) {
  const auto start = SteadyClock::now();
  Status st = inner_.ReplaceFileAtomically(path, contents, mode);
  replace_.Record(SteadyClock::now() - start);
  return st;
}

Status InstrumentedFileSystem::ReplaceFileFromSource(const std::string& path,
                                                     const ContentSource& source, mode_t mode) {
  const auto start = SteadyClock::now();
  Status st = inner_.ReplaceFileFromSource(path, source, mode);
  replace_.Record(SteadyClock::now() - start);
  return st;
}

}  // namespace bluetrace::store
