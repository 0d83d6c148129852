#include "bluetrace/store/file_system.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <utility>

namespace bluetrace::store {
namespace {

// "<operation> <path>: <strerror>", with a code that lets callers tell a missing file or a
// refused permission from any other failure.
Status ErrnoStatus(std::string_view op, std::string_view path, int err) {
  std::string m(op);
  m += ' ';
  m += path;
  m += ": ";
  m += std::strerror(err);
  switch (err) {
    case ENOENT:
      return util::NotFound(std::move(m));
    case EACCES:
    case EPERM:
      return util::PermissionDenied(std::move(m));
    default:
      return util::IoError(std::move(m));
  }
}

// The directory holding `path` ("." for a bare name).
std::string DirName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int OpenRetry(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Closes a descriptor on scope exit unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Writes all of `data`, retrying short writes and EINTR. Returns 0 or the errno; `written`
// tells how far it got.
int WriteFully(int fd, std::string_view data, std::size_t& written) {
  written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    written += static_cast<std::size_t>(n);
  }
  return 0;
}

// Makes a directory entry change (create, rename, unlink) durable.
Status SyncDir(const std::string& dir) {
  FdGuard fd(OpenRetry(dir.c_str(), O_RDONLY | O_DIRECTORY));
  if (fd.get() < 0) return ErrnoStatus("open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync directory", dir, errno);
  return Status::Ok();
}

// Closes and reports the error: close can surface a deferred write error (NFS), and it is
// never retried on EINTR because Linux has released the descriptor already.
Status CloseChecked(int fd, std::string_view path) {
  if (::close(fd) != 0 && errno != EINTR) return ErrnoStatus("close", path, errno);
  return Status::Ok();
}

class PosixAppendFile final : public AppendFile {
 public:
  PosixAppendFile(std::string path, int fd, std::uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size), waited_(size), started_(size) {}
  ~PosixAppendFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  PosixAppendFile(const PosixAppendFile&) = delete;
  PosixAppendFile& operator=(const PosixAppendFile&) = delete;

  Status Append(std::string_view data) override {
    BLUETRACE_RETURN_IF_ERROR(Usable("append"));
    std::size_t written = 0;
    const int err = WriteFully(fd_, data, written);
    size_ += written;
    if (err != 0) return ErrnoStatus("append", path_, err);
    return Status::Ok();
  }

  Status Sync() override {
    BLUETRACE_RETURN_IF_ERROR(Usable("fdatasync"));
    if (::fdatasync(fd_) != 0) {
      // The kernel may have dropped the dirty pages already, so a second fdatasync could
      // report success for data that never reached the disk: refuse every later call.
      poisoned_ = true;
      return ErrnoStatus("fdatasync", path_, errno);
    }
    return Status::Ok();
  }

  Status WriteBehind() override {
    BLUETRACE_RETURN_IF_ERROR(Usable("sync_file_range"));
    if (started_ > waited_) {
      if (::sync_file_range(
              fd_, static_cast<off_t>(waited_), static_cast<off_t>(started_ - waited_),
              SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) !=
          0) {
        poisoned_ = true;  // as after fdatasync: the error may be reported only once
        return ErrnoStatus("sync_file_range", path_, errno);
      }
      waited_ = started_;
    }
    if (size_ > started_) {
      if (::sync_file_range(fd_, static_cast<off_t>(started_), static_cast<off_t>(size_ - started_),
                            SYNC_FILE_RANGE_WRITE) != 0) {
        poisoned_ = true;
        return ErrnoStatus("sync_file_range", path_, errno);
      }
      started_ = size_;
    }
    return Status::Ok();
  }

  std::uint64_t Size() const override { return size_; }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    return CloseChecked(std::exchange(fd_, -1), path_);
  }

 private:
  Status Usable(std::string_view op) const {
    if (fd_ < 0) return util::FailedPrecondition(std::string(op) + " " + path_ + ": closed");
    if (poisoned_) {
      return util::FailedPrecondition(std::string(op) + " " + path_ +
                                      ": an earlier fdatasync failed; reopen the file");
    }
    return Status::Ok();
  }

  std::string path_;
  int fd_;
  std::uint64_t size_;
  // WriteBehind: what this handle appended before `waited_` is written; [waited_,
  // started_) was started. What the file held at open is left to Sync.
  std::uint64_t waited_;
  std::uint64_t started_;
  bool poisoned_ = false;
};

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixReadableFile() override { ::close(fd_); }
  PosixReadableFile(const PosixReadableFile&) = delete;
  PosixReadableFile& operator=(const PosixReadableFile&) = delete;

  Result<std::size_t> Read(char* buf, std::size_t n) override {
    for (;;) {
      const ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) return ErrnoStatus("read", path_, errno);
    }
  }

 private:
  std::string path_;
  int fd_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  // Closing the descriptor releases the flock.
  ~PosixFileLock() override { ::close(fd_); }
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  int fd_;
};

// Distinguishes temporary files of concurrent replaces within one process; the pid in
// the name separates processes.
std::atomic<std::uint64_t> temp_counter{0};

// Temporary file, fsync, rename, directory fsync, with the contents written as `next` gives
// them (it sets the piece and returns true, or returns false at the end).
Status ReplaceWithPieces(const std::string& path, mode_t mode,
                         const std::function<Result<bool>(std::string_view&)>& next) {
  const std::string dir = DirName(path);
  std::string temp;
  int fd = -1;
  // A stale temporary of a crashed process with a recycled pid can collide; try new names.
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temp = JoinPath(dir, TempFileName(BaseName(path), static_cast<std::uint64_t>(::getpid()),
                                      temp_counter.fetch_add(1)));
    fd = OpenRetry(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return ErrnoStatus("create temporary", temp, errno);
  FdGuard guard(fd);
  const auto discard = [&] {
    if (guard.get() >= 0) ::close(guard.release());
    ::unlink(temp.c_str());
  };
  const auto fail = [&](std::string_view op, const std::string& p, int err) {
    const Status st = ErrnoStatus(op, p, err);
    discard();
    return st;
  };
  if (::fchmod(fd, mode) != 0) return fail("chmod", temp, errno);
  std::string_view piece;
  while (true) {
    Result<bool> more = next(piece);
    if (!more.ok()) {
      discard();
      return more.status();
    }
    if (!*more) break;
    std::size_t written = 0;
    if (const int err = WriteFully(fd, piece, written); err != 0) {
      return fail("write", temp, err);
    }
  }
  // Never retried: after a failed fsync the page cache no longer tells the truth.
  if (::fsync(fd) != 0) return fail("fsync", temp, errno);
  if (::close(guard.release()) != 0 && errno != EINTR) return fail("close", temp, errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return fail("rename", temp + " -> " + path, errno);
  }
  // The new contents are visible now; this makes the rename itself survive a crash.
  return SyncDir(dir).WithContext("replace " + path);
}

}  // namespace

Status RequireStateDirectory(FileSystem& fs, const std::string& dir) {
  auto listed = fs.ListDir(dir.empty() ? std::string(".") : dir);
  if (listed.ok()) return Status::Ok();
  if (listed.status().code() == util::StatusCode::kNotFound) {
    return util::NotFound("the state directory " + dir +
                          " does not exist: create it (mode 0750, owned by the server's user) "
                          "or correct server.state_dir / --state-dir");
  }
  return listed.status();
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string TempFileName(std::string_view target, std::uint64_t pid, std::uint64_t n) {
  // Appended piece by piece: g++ 12 -O3 warns falsely (-Wrestrict) on a chain of "+".
  std::string name = ".";
  name += target;
  name += ".tmp.";
  name += std::to_string(pid);
  name += '.';
  name += std::to_string(n);
  return name;
}

std::optional<std::string_view> TempFileTarget(std::string_view name) {
  // Peels "<digits>" off the end of `s` (at most 20, a uint64), with the '.' before it.
  const auto take_number = [](std::string_view& s) {
    std::size_t digits = 0;
    while (digits < s.size() && digits <= 20 && s[s.size() - 1 - digits] >= '0' &&
           s[s.size() - 1 - digits] <= '9') {
      ++digits;
    }
    if (digits == 0 || digits > 20 || digits == s.size() || s[s.size() - 1 - digits] != '.') {
      return false;
    }
    s.remove_suffix(digits + 1);
    return true;
  };
  constexpr std::string_view kMiddle = ".tmp";
  std::string_view rest = name;
  if (!take_number(rest) || !take_number(rest)) return std::nullopt;
  if (rest.size() <= kMiddle.size() + 1 || rest.front() != '.' ||
      rest.substr(rest.size() - kMiddle.size()) != kMiddle) {
    return std::nullopt;
  }
  const std::string_view target = rest.substr(1, rest.size() - 1 - kMiddle.size());
  if (target.find('/') != std::string_view::npos) return std::nullopt;
  return target;
}

PosixFileSystem& PosixFileSystem::Instance() {
  static PosixFileSystem fs;
  return fs;
}

Result<std::string> PosixFileSystem::ReadFile(const std::string& path, std::uint64_t max_bytes) {
  FdGuard fd(OpenRetry(path.c_str(), O_RDONLY));
  if (fd.get() < 0) return ErrnoStatus("open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
  const auto too_big = [&] {
    return util::ResourceExhausted("read " + path + ": larger than " + std::to_string(max_bytes) +
                                   " bytes");
  };
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) return too_big();
  std::string out;
  out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    // The file may grow while we read it.
    if (out.size() > max_bytes) return too_big();
  }
  return out;
}

Result<std::unique_ptr<ReadableFile>> PosixFileSystem::OpenForRead(const std::string& path) {
  const int fd = OpenRetry(path.c_str(), O_RDONLY);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  return std::unique_ptr<ReadableFile>(std::make_unique<PosixReadableFile>(path, fd));
}

Result<std::unique_ptr<AppendFile>> PosixFileSystem::OpenForAppend(const std::string& path,
                                                                   mode_t mode) {
  bool created = false;
  int fd = OpenRetry(path.c_str(), O_WRONLY | O_APPEND);
  if (fd < 0 && errno == ENOENT) {
    fd = OpenRetry(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL, mode);
    created = fd >= 0;
    // Lost a race with another creator: open what it made.
    if (fd < 0 && errno == EEXIST) fd = OpenRetry(path.c_str(), O_WRONLY | O_APPEND);
  }
  if (fd < 0) return ErrnoStatus("open for append", path, errno);
  FdGuard guard(fd);
  if (created) {
    // The umask must not widen or narrow the mode the caller asked for.
    if (::fchmod(fd, mode) != 0) return ErrnoStatus("chmod", path, errno);
    BLUETRACE_RETURN_IF_ERROR(SyncDir(DirName(path)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat", path, errno);
  return std::unique_ptr<AppendFile>(std::make_unique<PosixAppendFile>(
      path, guard.release(), static_cast<std::uint64_t>(st.st_size)));
}

Status FileSystem::ReplaceFileFromSource(const std::string& path, const ContentSource& source,
                                         mode_t mode) {
  std::string contents, piece;
  while (true) {
    BLUETRACE_ASSIGN_OR_RETURN(const bool more, source(piece));
    if (!more) break;
    contents += piece;
  }
  return ReplaceFileAtomically(path, contents, mode);
}

Status PosixFileSystem::ReplaceFileAtomically(const std::string& path, std::string_view contents,
                                              mode_t mode) {
  bool done = false;
  return ReplaceWithPieces(path, mode, [&](std::string_view& piece) -> Result<bool> {
    if (done) return false;
    piece = contents;  // no copy: the caller's buffer may hold secrets it wipes itself
    done = true;
    return true;
  });
}

Status PosixFileSystem::ReplaceFileFromSource(const std::string& path, const ContentSource& source,
                                              mode_t mode) {
  std::string buffer;
  return ReplaceWithPieces(path, mode, [&](std::string_view& piece) -> Result<bool> {
    BLUETRACE_ASSIGN_OR_RETURN(const bool more, source(buffer));
    piece = buffer;
    return more;
  });
}

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus("rename", from + " -> " + to, errno);
  }
  // The new name is visible now; this makes the rename itself survive a crash.
  return SyncDir(DirName(to)).WithContext("rename " + from + " -> " + to);
}

Status PosixFileSystem::Truncate(const std::string& path, std::uint64_t size) {
  FdGuard fd(OpenRetry(path.c_str(), O_WRONLY));
  if (fd.get() < 0) return ErrnoStatus("open", path, errno);
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    return ErrnoStatus("truncate", path, errno);
  }
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync", path, errno);
  return CloseChecked(fd.release(), path);
}

Result<bool> PosixFileSystem::Exists(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return ErrnoStatus("stat", path, errno);
}

Result<std::uint64_t> PosixFileSystem::FileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

Result<mode_t> PosixFileSystem::FileMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
  return static_cast<mode_t>(st.st_mode & 07777);
}

Result<FileInfo> PosixFileSystem::Stat(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
  FileInfo info;
  info.inode = static_cast<std::uint64_t>(st.st_ino);
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.mtime_ns = std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  info.mode = static_cast<mode_t>(st.st_mode & 07777);
  info.owner = st.st_uid;
  info.is_directory = S_ISDIR(st.st_mode);
  return info;
}

Status PosixFileSystem::CreateDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return util::InvalidArgument("create directory: empty path");
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    if (prefix.empty() || prefix == "/") continue;
    if (::mkdir(prefix.c_str(), mode) == 0) {
      BLUETRACE_RETURN_IF_ERROR(SyncDir(DirName(prefix)));
      continue;
    }
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    return ErrnoStatus("create directory", prefix, err);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> PosixFileSystem::ListDir(const std::string& path) {
  const int fd = OpenRetry(path.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return ErrnoStatus("open directory", path, errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus("open directory", path, err);
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(dir);
  if (err != 0) return ErrnoStatus("read directory", path, err);
  std::sort(names.begin(), names.end());
  return names;
}

Status PosixFileSystem::RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("remove", path, errno);
  return SyncDir(DirName(path));
}

Result<std::unique_ptr<FileLock>> PosixFileSystem::LockFile(const std::string& path, bool wait) {
  FdGuard fd(OpenRetry(path.c_str(), O_RDWR | O_CREAT, 0600));
  if (fd.get() < 0) return ErrnoStatus("open lock file", path, errno);
  // flock locks belong to the open file description, so two LockFile calls exclude each
  // other even inside one process.
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) break;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return util::Unavailable("lock " + path + ": held by another process");
    }
    return ErrnoStatus("lock", path, errno);
  }
  return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd.release()));
}

Result<std::unique_ptr<FileLock>> AcquireLock(FileSystem& fs, const InterProcessLock& lock) {
  if (lock.path.empty()) return std::unique_ptr<FileLock>();
  const auto deadline = std::chrono::steady_clock::now() + lock.timeout;
  // Holders keep these locks for one read and one atomic rewrite, a few milliseconds, so
  // a short poll costs little and keeps the wait bounded without a signal or a thread.
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    auto held = fs.LockFile(lock.path, false);
    if (held.ok() || held.status().code() != util::StatusCode::kUnavailable) return held;
    if (std::chrono::steady_clock::now() >= deadline) {
      return util::Unavailable("lock " + lock.path + ": still held by another process after " +
                               std::to_string(lock.timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

}  // namespace bluetrace::store
