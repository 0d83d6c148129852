#include "bluetrace/store/files/leftover_temp_files.hpp"

#include <array>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/report_store.hpp"

namespace bluetrace::store {
namespace {

// The lock every writer of a target holds while its temporary file exists.
enum class Guard { kCredentials, kLockouts, kAudit, kServer };

std::optional<Guard> GuardOfStateFile(std::string_view target) {
  if (target == StateDir::kCredentials) return Guard::kCredentials;
  if (target == StateDir::kLockouts) return Guard::kLockouts;
  if (target == StateDir::kAuditLog) return Guard::kAudit;  // a prune (audit.retention)
  if (target == StateDir::kTempIds || target == "server.crt" || target == "server.key") {
    return Guard::kServer;
  }
  return std::nullopt;
}

struct Leftover {
  std::string path;
  Guard guard;
};

// The leftovers among the entries of `dir` whose target `guard_of` knows. A missing
// directory has none.
template <typename GuardOf>
Status Collect(FileSystem& fs, const std::string& dir, GuardOf guard_of,
               std::vector<Leftover>& out) {
  auto names = fs.ListDir(dir);
  if (!names.ok()) {
    return names.status().code() == util::StatusCode::kNotFound ? Status::Ok() : names.status();
  }
  for (const std::string& name : *names) {
    const std::optional<std::string_view> target = TempFileTarget(name);
    if (!target) continue;
    const std::optional<Guard> guard = guard_of(*target);
    if (guard) out.push_back({JoinPath(dir, name), *guard});
  }
  return Status::Ok();
}

// Takes the lock of `guard`; nullptr (and OK) when the caller holds it already.
Result<std::unique_ptr<FileLock>> TakeGuard(FileSystem& fs, const StateDir& dir, Guard guard,
                                            const LeftoverTempFileOptions& options) {
  switch (guard) {
    case Guard::kCredentials:
      return AcquireLock(fs, {dir.Path(StateDir::kCredentialsLock), options.lock_timeout});
    case Guard::kLockouts:
      return AcquireLock(fs, {dir.Path(StateDir::kLockoutsLock), options.lock_timeout});
    case Guard::kAudit:
      return AcquireLock(fs, {dir.Path(StateDir::kAuditLock), options.lock_timeout});
    case Guard::kServer:
      if (options.caller_holds_server_lock) return std::unique_ptr<FileLock>();
      return fs.LockFile(dir.server_lock(), false);
  }
  return util::Internal("unknown lock");
}

}  // namespace

std::string DescribeLeftovers(std::uint64_t files, std::uint64_t bytes) {
  return std::to_string(files) + " leftover temporary file" + (files == 1 ? "" : "s") + " (" +
         std::to_string(bytes) + " bytes)";
}

Result<LeftoverTempFiles> RemoveLeftoverTempFiles(FileSystem& fs, const std::string& state_dir,
                                                  const LeftoverTempFileOptions& options) {
  std::vector<Leftover> found;
  BLUETRACE_RETURN_IF_ERROR(Collect(fs, state_dir, GuardOfStateFile, found));
  BLUETRACE_RETURN_IF_ERROR(Collect(
      fs, StateDir(state_dir).reports(),
      [](std::string_view target) {
        return IsReportName(target) ? std::optional<Guard>(Guard::kServer) : std::nullopt;
      },
      found));

  LeftoverTempFiles result;
  constexpr std::array<Guard, 4> kOrder = {Guard::kCredentials, Guard::kLockouts, Guard::kAudit,
                                           Guard::kServer};
  for (const Guard guard : kOrder) {
    bool any = false;
    for (const Leftover& l : found) any = any || l.guard == guard;
    if (!any) continue;  // no lock taken, so no lock file is created for nothing

    // Held until the end of this iteration: no writer of these targets can be mid-write.
    // Never taken when only counting.
    Result<std::unique_ptr<FileLock>> lock = util::Unavailable("only counting");
    if (options.remove) {
      lock = TakeGuard(fs, StateDir(state_dir), guard, options);
      if (guard == Guard::kServer && lock.status().code() == util::StatusCode::kUnavailable) {
        result.server_running = true;
      } else if (!lock.ok()) {
        result.kept_because.push_back(lock.status());
      }
    }
    for (const Leftover& l : found) {
      if (l.guard != guard) continue;
      // Listed before the lock was taken: a write in progress then may have renamed or
      // removed its temporary since.
      auto size = fs.FileSize(l.path);
      if (!size.ok()) {
        if (size.status().code() != util::StatusCode::kNotFound) {
          result.errors.push_back(size.status());
        }
        continue;
      }
      if (!lock.ok()) {
        ++result.kept_files;
        result.kept_bytes += *size;
        continue;
      }
      Status removed = fs.RemoveFile(l.path);
      if (removed.ok()) {
        ++result.removed_files;
        result.removed_bytes += *size;
      } else if (removed.code() != util::StatusCode::kNotFound) {
        result.errors.push_back(removed);
      }
    }
  }
  return result;
}

}  // namespace bluetrace::store
