// InstrumentedFileSystem: a FileSystem decorator that times the durable operations of the
// stores, AppendFile::Sync (fdatasync) and ReplaceFileAtomically (temp file, fsync, rename,
// fsync of the directory), into two latency histograms for the server's /metrics. Every
// other call is passed straight through. Failed calls are timed too: a slow failing disk
// is what an operator wants to see.
//
// Ownership: borrows `inner`, which must outlive this object and every file opened
// through it. Thread-safe as far as `inner` is; the histograms are atomic.
#pragma once

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/latency_histogram.hpp"

namespace bluetrace::store {

class InstrumentedFileSystem final : public FileSystem {
 public:
  explicit InstrumentedFileSystem(FileSystem& inner) : inner_(inner) {}

  Result<std::string> ReadFile(const std::string& path,
                               std::uint64_t max_bytes = 64ull << 20) override {
    return inner_.ReadFile(path, max_bytes);
  }
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override {
    return inner_.OpenForRead(path);
  }
  // The returned file times its Sync() into sync_latency().
  Result<std::unique_ptr<AppendFile>> OpenForAppend(const std::string& path,
                                                    mode_t mode = 0600) override;
  // Timed into replace_latency().
  Status ReplaceFileAtomically(const std::string& path, std::string_view contents,
                               mode_t mode = 0600) override;
  // Timed into replace_latency() too.
  Status ReplaceFileFromSource(const std::string& path, const ContentSource& source,
                               mode_t mode = 0600) override;
  Status Rename(const std::string& from, const std::string& to) override {
    return inner_.Rename(from, to);
  }
  Status Truncate(const std::string& path, std::uint64_t size) override {
    return inner_.Truncate(path, size);
  }
  Result<bool> Exists(const std::string& path) override { return inner_.Exists(path); }
  Result<std::uint64_t> FileSize(const std::string& path) override { return inner_.FileSize(path); }
  Result<mode_t> FileMode(const std::string& path) override { return inner_.FileMode(path); }
  Result<FileInfo> Stat(const std::string& path) override { return inner_.Stat(path); }
  Status CreateDirs(const std::string& path, mode_t mode = 0700) override {
    return inner_.CreateDirs(path, mode);
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return inner_.ListDir(path);
  }
  Status RemoveFile(const std::string& path) override { return inner_.RemoveFile(path); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, bool wait) override {
    return inner_.LockFile(path, wait);
  }

  // fdatasync of appended files (TempIDs, contact logs, reports), in seconds.
  const util::LatencyHistogram& sync_latency() const { return sync_; }
  // Whole atomic replaces (credentials, lockouts, compaction), in seconds.
  const util::LatencyHistogram& replace_latency() const { return replace_; }

 private:
  FileSystem& inner_;
  util::LatencyHistogram sync_{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
  util::LatencyHistogram replace_{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
};

}  // namespace bluetrace::store
