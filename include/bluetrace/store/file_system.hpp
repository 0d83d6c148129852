// FileSystem: the durable-file primitives every store is built on, behind an interface so
// tests can inject faults (a failing fsync, a full disk, a torn write) and so stores never
// call the OS directly.
//
// Durability contract (docs/ARCHITECTURE.md, "Durability"):
//  - ReplaceFileAtomically writes a temporary file in the same directory, fsyncs it,
//    renames it over the target and fsyncs the directory. After OK, a crash leaves either
//    the old or the new contents, never a mix.
//  - AppendFile::Append only buffers in the kernel; Sync() (fdatasync) makes everything
//    appended so far durable. A record is acknowledged only after the Sync that covers it.
//  - A failed Sync is reported, never retried blindly: the caller must treat the file's
//    unsynced tail as unknown (PostgreSQL's fsync lesson).
// Every error is a Status naming the operation, the path and the OS reason ("fsync <path>:
// Input/output error"); a missing file is kNotFound, a refused permission
// kPermissionDenied, anything else kIoError. Implementations are
// thread-safe; a single AppendFile/ReadableFile must be used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

using util::Result;
using util::Status;

// A file opened for appending. Closing without Sync() gives no durability guarantee.
class AppendFile {
 public:
  virtual ~AppendFile() = default;
  // Appends all of `data` (retrying short writes); a partial write is an error.
  virtual Status Append(std::string_view data) = 0;
  // fdatasync: everything appended so far survives a crash once this returns OK. After a
  // failed Sync the file refuses further Append/Sync (kFailedPrecondition): the caller
  // reopens it and decides what the unsynced tail is worth.
  virtual Status Sync() = 0;
  // Write-behind for a long sequential write: waits until what the previous call started
  // has reached the disk, then starts writing what was appended since, without waiting
  // (sync_file_range). A large copy calls it after each piece so that at most two pieces
  // are dirty or in flight: otherwise hundreds of megabytes wait in the page cache for one
  // fsync, and every other file's fdatasync queues behind that flood. Not durability (no
  // metadata, no disk cache flush): Sync still decides that. After a failure the file
  // refuses further Append/Sync as after a failed Sync. Default: nothing.
  virtual Status WriteBehind() { return Status::Ok(); }
  // Bytes in the file (what existed at open plus what was appended).
  virtual std::uint64_t Size() const = 0;
  virtual Status Close() = 0;
};

// A file read from start to end in pieces (for files too large to slurp).
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to `n` bytes into `buf`; returns the count, 0 at end of file.
  virtual Result<std::size_t> Read(char* buf, std::size_t n) = 0;
};

// An advisory exclusive lock (flock) held until destroyed; lets bluetrace-admin and the
// server coordinate rewrites of the same state files.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// What stat(2) says about a file: what identifies one version of it (a rewrite by rename
// changes the inode even within one mtime tick) and who owns it.
struct FileInfo {
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // last modification, nanoseconds since the Unix epoch
  mode_t mode = 0;            // permission bits (st_mode & 07777)
  uid_t owner = 0;
  bool is_directory = false;
  bool operator==(const FileInfo&) const = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Whole contents of a file. kNotFound when it does not exist; kResourceExhausted when it
  // is larger than `max_bytes`.
  virtual Result<std::string> ReadFile(const std::string& path,
                                       std::uint64_t max_bytes = 64ull << 20) = 0;

  virtual Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) = 0;

  // Opens (creating with `mode` when missing, and then fsyncing the directory) for append.
  virtual Result<std::unique_ptr<AppendFile>> OpenForAppend(const std::string& path,
                                                            mode_t mode = 0600) = 0;

  // Replaces `path` with `contents` atomically and durably (see the contract above).
  virtual Status ReplaceFileAtomically(const std::string& path, std::string_view contents,
                                       mode_t mode = 0600) = 0;

  // Produces contents piece by piece: sets `out` to the next piece and returns true, or
  // returns false when there is no more.
  using ContentSource = std::function<Result<bool>(std::string& out)>;
  // ReplaceFileAtomically for contents too large to hold at once (an export of millions of
  // TempIDs): the same temporary file, fsync, rename and directory fsync, with the contents
  // written as `source` produces them. An error from `source` is returned and leaves the
  // target untouched. This default collects the pieces and calls ReplaceFileAtomically
  // (bounded by nothing); PosixFileSystem streams them.
  virtual Status ReplaceFileFromSource(const std::string& path, const ContentSource& source,
                                       mode_t mode = 0600);

  // Renames `from` over `to` (both in one directory) and fsyncs that directory: after OK a
  // crash leaves `to` with the renamed file. The caller has synced `from` first (a file
  // built through OpenForAppend and AppendFile::Sync); with ReplaceFileAtomically this lets
  // a replacement be built in steps (FileTempIdStore's compaction).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;

  // Shortens a file to `size` bytes and fsyncs it (repairing a torn tail).
  virtual Status Truncate(const std::string& path, std::uint64_t size) = 0;

  virtual Result<bool> Exists(const std::string& path) = 0;
  virtual Result<std::uint64_t> FileSize(const std::string& path) = 0;
  // Permission bits of the file (st_mode & 07777).
  virtual Result<mode_t> FileMode(const std::string& path) = 0;
  // The metadata of a file or directory (following symbolic links); kNotFound when missing.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // Creates a directory (and missing parents); OK when it exists already.
  virtual Status CreateDirs(const std::string& path, mode_t mode = 0700) = 0;
  // Names (not paths) of the entries of a directory, sorted, without "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // Removes a file and fsyncs its directory.
  virtual Status RemoveFile(const std::string& path) = 0;
  // Takes an exclusive advisory lock on `path` (created if missing). With `wait` false,
  // kUnavailable when another process holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, bool wait) = 0;
};

// The real filesystem (POSIX calls, O_CLOEXEC everywhere).
// Temporary files of ReplaceFileAtomically are named by TempFileName next to the target
// and removed on every failure before the rename; a crash can still leave one behind
// (store/leftover_temp_files.hpp cleans those up). If only the final directory fsync
// fails, the new contents are already visible but the error is still returned.
class PosixFileSystem final : public FileSystem {
 public:
  Result<std::string> ReadFile(const std::string& path,
                               std::uint64_t max_bytes = 64ull << 20) override;
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override;
  Result<std::unique_ptr<AppendFile>> OpenForAppend(const std::string& path,
                                                    mode_t mode = 0600) override;
  Status ReplaceFileAtomically(const std::string& path, std::string_view contents,
                               mode_t mode = 0600) override;
  // Holds one piece at a time.
  Status ReplaceFileFromSource(const std::string& path, const ContentSource& source,
                               mode_t mode = 0600) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Truncate(const std::string& path, std::uint64_t size) override;
  Result<bool> Exists(const std::string& path) override;
  Result<std::uint64_t> FileSize(const std::string& path) override;
  Result<mode_t> FileMode(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Status CreateDirs(const std::string& path, mode_t mode = 0700) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, bool wait) override;

  static PosixFileSystem& Instance();
};

// How a store coordinates its rewrites of a state file with other processes
// (bluetrace-admin and the server): an exclusive flock on `path`, held while the store
// re-reads the file, merges and rewrites it. The wait is bounded, so a stuck or stopped
// holder turns into an error (kUnavailable) instead of a hung server thread.
struct InterProcessLock {
  std::string path;  // empty: no coordination (a store used by one process only)
  std::chrono::milliseconds timeout{5000};
};

// Takes `lock` (polling without blocking until `lock.timeout`). Returns nullptr when
// `lock.path` is empty. kUnavailable naming the file when the timeout passes; other
// errors as FileSystem::LockFile reports them.
Result<std::unique_ptr<FileLock>> AcquireLock(FileSystem& fs, const InterProcessLock& lock);

// OK when `dir` is an existing directory. A state directory is never created by the
// programs that use it (a mistyped one would otherwise start a server with no users):
// kNotFound "the state directory <dir> does not exist ...", or the FileSystem's error.
Status RequireStateDirectory(FileSystem& fs, const std::string& dir);

// The name of a temporary file of ReplaceFileAtomically: ".<target>.tmp.<pid>.<n>", next to
// the target (a base name). The pid keeps processes apart, `n` replaces within one.
std::string TempFileName(std::string_view target, std::uint64_t pid, std::uint64_t n);

// The target's base name when `name` has the shape TempFileName makes (a leading '.', a
// non-empty target, ".tmp.", pid and n in decimal digits); nullopt for any other name.
// The one matcher for the pattern: cleanup code must not guess at it.
std::optional<std::string_view> TempFileTarget(std::string_view name);

// "<dir>/<name>" without doubling the slash.
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace bluetrace::store
