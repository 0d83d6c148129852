#include "support/fault_injection_fs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace bluetrace::test {

using util::Result;
using util::Status;

namespace {

util::Status Injected(std::string_view op, std::string_view path, int err) {
  std::string m(op);
  m += ' ';
  m += path;
  m += ": ";
  m += std::strerror(err);
  m += " (injected)";
  return util::IoError(std::move(m));
}

// Counts down an armed one-shot fault; true when this operation is the one to fail.
bool Fire(int& countdown) {
  if (countdown == 0) return false;
  return --countdown == 0;
}

}  // namespace

class FaultInjectingFileSystem::File final : public store::AppendFile {
 public:
  File(FaultInjectingFileSystem& fs, std::string path, std::unique_ptr<store::AppendFile> base)
      : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    fs_.BeforeWrite("append", path_);
    if (poisoned_) return Poisoned("append");
    std::size_t allowed = 0;
    int err = 0;
    const bool fail = fs_.TakeAppendFault(data.size(), allowed, err);
    if (allowed > 0) BLUETRACE_RETURN_IF_ERROR(base_->Append(data.substr(0, allowed)));
    if (fail) return Injected("append", path_, err);
    return Status::Ok();
  }

  Status Sync() override {
    fs_.BeforeWrite("sync", path_);
    if (poisoned_) return Poisoned("fdatasync");
    if (fs_.TakeSyncFault()) {
      poisoned_ = true;
      return Injected("fdatasync", path_, EIO);
    }
    return base_->Sync();
  }

  Status WriteBehind() override {
    fs_.BeforeWrite("write-behind", path_);
    if (poisoned_) return Poisoned("sync_file_range");
    if (fs_.TakeWriteBehindFault()) {
      poisoned_ = true;
      return Injected("sync_file_range", path_, EIO);
    }
    return base_->WriteBehind();
  }

  std::uint64_t Size() const override { return base_->Size(); }
  Status Close() override { return base_->Close(); }

 private:
  Status Poisoned(std::string_view op) const {
    return util::FailedPrecondition(std::string(op) + " " + path_ +
                                    ": an earlier fdatasync failed; reopen the file");
  }

  FaultInjectingFileSystem& fs_;
  std::string path_;
  std::unique_ptr<store::AppendFile> base_;
  bool poisoned_ = false;
};

void FaultInjectingFileSystem::FailSync(int nth) {
  std::lock_guard lock(mu_);
  sync_countdown_ = nth;
}

void FaultInjectingFileSystem::FailRename(int nth) {
  std::lock_guard lock(mu_);
  rename_countdown_ = nth;
}

void FaultInjectingFileSystem::TearNextAppend(std::size_t prefix_bytes, int err) {
  std::lock_guard lock(mu_);
  torn_armed_ = true;
  torn_prefix_ = prefix_bytes;
  torn_errno_ = err;
}

void FaultInjectingFileSystem::FailTruncate(int nth) {
  std::lock_guard lock(mu_);
  truncate_countdown_ = nth;
}

void FaultInjectingFileSystem::SetDiskFull(bool full) {
  std::lock_guard lock(mu_);
  disk_full_ = full;
}

void FaultInjectingFileSystem::FailWriteBehind(int nth) {
  std::lock_guard lock(mu_);
  write_behind_countdown_ = nth;
}

bool FaultInjectingFileSystem::TakeWriteBehindFault() {
  std::lock_guard lock(mu_);
  return Fire(write_behind_countdown_);
}

void FaultInjectingFileSystem::ClearFaults() {
  std::lock_guard lock(mu_);
  write_behind_countdown_ = 0;
  sync_countdown_ = 0;
  rename_countdown_ = 0;
  truncate_countdown_ = 0;
  torn_armed_ = false;
  disk_full_ = false;
}

int FaultInjectingFileSystem::sync_calls() const {
  std::lock_guard lock(mu_);
  return sync_calls_;
}

int FaultInjectingFileSystem::replace_calls() const {
  std::lock_guard lock(mu_);
  return replace_calls_;
}

int FaultInjectingFileSystem::append_calls() const {
  std::lock_guard lock(mu_);
  return append_calls_;
}

int FaultInjectingFileSystem::rename_calls() const {
  std::lock_guard lock(mu_);
  return rename_calls_;
}

bool FaultInjectingFileSystem::TakeSyncFault() {
  std::lock_guard lock(mu_);
  ++sync_calls_;
  return Fire(sync_countdown_);
}

bool FaultInjectingFileSystem::TakeAppendFault(std::size_t size, std::size_t& allowed, int& err) {
  std::lock_guard lock(mu_);
  ++append_calls_;
  allowed = size;
  if (disk_full_) {
    allowed = 0;
    err = ENOSPC;
    return true;
  }
  if (torn_armed_) {
    torn_armed_ = false;
    allowed = std::min(size, torn_prefix_);
    err = torn_errno_;
    return true;
  }
  return false;
}

Result<std::string> FaultInjectingFileSystem::ReadFile(const std::string& path,
                                                       std::uint64_t max_bytes) {
  return base_.ReadFile(path, max_bytes);
}

Result<std::unique_ptr<store::ReadableFile>> FaultInjectingFileSystem::OpenForRead(
    const std::string& path) {
  return base_.OpenForRead(path);
}

Result<std::unique_ptr<store::AppendFile>> FaultInjectingFileSystem::OpenForAppend(
    const std::string& path, mode_t mode) {
  BeforeWrite("open-for-append", path);
  auto base = base_.OpenForAppend(path, mode);
  if (!base.ok()) return base.status();
  return std::unique_ptr<store::AppendFile>(
      std::make_unique<File>(*this, path, std::move(base).value()));
}

Status FaultInjectingFileSystem::ReplaceFileAtomically(const std::string& path,
                                                       std::string_view contents, mode_t mode) {
  const std::string temp = path + ".tmp";
  BeforeWrite("replace", path);
  {
    std::lock_guard lock(mu_);
    ++replace_calls_;
    if (disk_full_) return Injected("write", temp, ENOSPC);
    ++sync_calls_;
    if (Fire(sync_countdown_)) return Injected("fsync", temp, EIO);
    if (Fire(rename_countdown_)) return Injected("rename", temp + " -> " + path, EIO);
  }
  return base_.ReplaceFileAtomically(path, contents, mode);
}

Status FaultInjectingFileSystem::Rename(const std::string& from, const std::string& to) {
  BeforeWrite("rename", from + " -> " + to);
  {
    std::lock_guard lock(mu_);
    ++rename_calls_;
    if (Fire(rename_countdown_)) return Injected("rename", from + " -> " + to, EIO);
  }
  return base_.Rename(from, to);
}

Status FaultInjectingFileSystem::Truncate(const std::string& path, std::uint64_t size) {
  BeforeWrite("truncate", path);
  {
    std::lock_guard lock(mu_);
    if (Fire(truncate_countdown_)) return Injected("truncate", path, EIO);
  }
  // Like a real failed fsync: the truncation is visible, its durability unknown.
  const bool fail = TakeSyncFault();
  BLUETRACE_RETURN_IF_ERROR(base_.Truncate(path, size));
  if (fail) return Injected("fsync", path, EIO);
  return Status::Ok();
}

Result<bool> FaultInjectingFileSystem::Exists(const std::string& path) {
  return base_.Exists(path);
}

Result<std::uint64_t> FaultInjectingFileSystem::FileSize(const std::string& path) {
  return base_.FileSize(path);
}

Result<mode_t> FaultInjectingFileSystem::FileMode(const std::string& path) {
  return base_.FileMode(path);
}

Status FaultInjectingFileSystem::CreateDirs(const std::string& path, mode_t mode) {
  return base_.CreateDirs(path, mode);
}

Result<std::vector<std::string>> FaultInjectingFileSystem::ListDir(const std::string& path) {
  return base_.ListDir(path);
}

Status FaultInjectingFileSystem::RemoveFile(const std::string& path) {
  BeforeWrite("remove", path);
  return base_.RemoveFile(path);
}

Result<std::unique_ptr<store::FileLock>> FaultInjectingFileSystem::LockFile(const std::string& path,
                                                                            bool wait) {
  return base_.LockFile(path, wait);
}

}  // namespace bluetrace::test
