// FaultInjectingFileSystem: a store::FileSystem that forwards to a real one (usually
// PosixFileSystem over a TempDir) and fails chosen operations the way a real disk does, so
// a test can check that a store reports the failure as a Status and keeps its previous good
// state.
//
// Faults, each armed by one call and reported as the Status the real failure would give
// (operation, path, OS text, marked "(injected)"):
//  - FailSync(n): the n-th sync from now fails with EIO ("Input/output error"). Syncs are
//    counted over AppendFile::Sync, ReplaceFileAtomically (its fsync of the temporary, so
//    the target keeps its old contents) and Truncate. As with PosixFileSystem, an
//    AppendFile whose Sync failed refuses every later Append/Sync.
//  - SetDiskFull(true): until SetDiskFull(false), every Append and ReplaceFileAtomically
//    fails with ENOSPC ("No space left on device") and writes nothing.
//  - TearNextAppend(prefix, err): the next Append really writes only the first `prefix`
//    bytes of its data to the underlying file, then fails with `err` (EIO by default; ENOSPC
//    for a disk that fills up mid-write): a torn write.
//  - FailRename(n): the n-th rename from now (ReplaceFileAtomically's or Rename) fails
//    before renaming; the target keeps its old contents.
//  - FailTruncate(n): the n-th Truncate from now fails with EIO before changing the file
//    (FailSync instead fails a Truncate at its fsync, after the file was cut).
//  - FailWriteBehind(n): the n-th AppendFile::WriteBehind from now fails with EIO; the file
//    then refuses every later Append/Sync, as after a failed Sync.
// ClearFaults() disarms everything. The counters tell how often the disk was touched
// (e.g. to assert that something was never persisted). SetBeforeWriteHook lets a test act
// just before each operation that changes the disk (e.g. copy the directory as a crash at
// that point would leave it).
//
// Example:
//   PosixFileSystem& real = PosixFileSystem::Instance();
//   FaultInjectingFileSystem fs(real);
//   fs.FailSync();            // the next sync fails
//   EXPECT_FALSE(store->AddUser("+61410000000", "pw").ok());
//
// Thread-safe. The wrapped FileSystem must outlive this object and every file it opened.
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/store/file_system.hpp"

namespace bluetrace::test {

class FaultInjectingFileSystem final : public store::FileSystem {
  using Status = util::Status;
  template <typename T>
  using Result = util::Result<T>;

 public:
  explicit FaultInjectingFileSystem(store::FileSystem& base) : base_(base) {}

  // Arms a one-shot fault: the `nth` (1 = the very next) operation of its kind fails.
  void FailSync(int nth = 1);
  void FailRename(int nth = 1);
  // The next Append writes `prefix_bytes` of its data (at most all of it), then fails with
  // `err`.
  void TearNextAppend(std::size_t prefix_bytes, int err = EIO);
  void FailTruncate(int nth = 1);
  void FailWriteBehind(int nth = 1);
  void SetDiskFull(bool full);
  void ClearFaults();

  // Called with the operation's name ("append", "sync", "write-behind", "rename", "replace",
  // "truncate", "open-for-append", "remove") and its path (for "rename": "<from> -> <to>") before
  // each operation that changes the disk, on the caller's thread and without any lock of this
  // object held; an empty function removes it. Set it while no operation runs.
  using WriteHook = std::function<void(std::string_view op, const std::string& path)>;
  void SetBeforeWriteHook(WriteHook hook) { hook_ = std::move(hook); }

  // Operations seen so far (failed ones included).
  int sync_calls() const;
  int replace_calls() const;
  int append_calls() const;
  int rename_calls() const;  // Rename only

  Result<std::string> ReadFile(const std::string& path,
                               std::uint64_t max_bytes = 64ull << 20) override;
  Result<std::unique_ptr<store::ReadableFile>> OpenForRead(const std::string& path) override;
  Result<std::unique_ptr<store::AppendFile>> OpenForAppend(const std::string& path,
                                                           mode_t mode = 0600) override;
  Status ReplaceFileAtomically(const std::string& path, std::string_view contents,
                               mode_t mode = 0600) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Truncate(const std::string& path, std::uint64_t size) override;
  Result<bool> Exists(const std::string& path) override;
  Result<std::uint64_t> FileSize(const std::string& path) override;
  Result<mode_t> FileMode(const std::string& path) override;
  Result<store::FileInfo> Stat(const std::string& path) override { return base_.Stat(path); }
  Status CreateDirs(const std::string& path, mode_t mode = 0700) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Result<std::unique_ptr<store::FileLock>> LockFile(const std::string& path, bool wait) override;

 private:
  class File;  // the AppendFile wrapper

  // Counts one sync and says whether it must fail.
  bool TakeSyncFault();
  bool TakeWriteBehindFault();
  // Counts one append; returns the bytes it may write (all of `size` unless torn) and
  // whether it must fail afterwards with `err`.
  bool TakeAppendFault(std::size_t size, std::size_t& allowed, int& err);
  void BeforeWrite(std::string_view op, const std::string& path) const {
    if (hook_) hook_(op, path);
  }

  store::FileSystem& base_;
  mutable std::mutex mu_;
  int sync_countdown_ = 0;  // 0 = disarmed
  int rename_countdown_ = 0;
  int truncate_countdown_ = 0;
  int write_behind_countdown_ = 0;
  bool torn_armed_ = false;
  std::size_t torn_prefix_ = 0;
  int torn_errno_ = 0;
  bool disk_full_ = false;
  int sync_calls_ = 0;
  int replace_calls_ = 0;
  int append_calls_ = 0;
  int rename_calls_ = 0;
  WriteHook hook_;  // set before use, read without mu_
};

}  // namespace bluetrace::test
