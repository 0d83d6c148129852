#include "bluetrace/net/descriptor_budget.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "bluetrace/net/ops_server.hpp"
#include "bluetrace/service/reporting_service.hpp"

namespace bluetrace::net {

namespace {

// Measured on a running server: stdin/out/err; .server.lock, tempIDs.txt and audit.log
// stay open; an Asio io_context holds an epoll, an eventfd and a timerfd.
constexpr std::uint64_t kStandardStreams = 3;
constexpr std::uint64_t kStateFilesHeldOpen = 3;
constexpr std::uint64_t kPerEventLoop = 3;
// At most this many files open at once in one thread writing state: a temporary file, its
// directory (for the fsync after the rename) and an inter-process lock file.
constexpr std::uint64_t kPerWritingThread = 3;
// A connection over max_connections is accepted, then closed at once.
constexpr std::uint64_t kAcceptToRefuse = 1;
// OpenSSL reading its configuration, the C library, a session still closing while its
// successor is admitted.
constexpr std::uint64_t kSlack = 16;

std::uint64_t ToU64(rlim_t v) {
  return v == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(v);
}

}  // namespace

util::Result<OpenFileLimit> RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return util::IoError(std::string("cannot read RLIMIT_NOFILE: ") + std::strerror(errno));
  }
  OpenFileLimit out;
  out.soft_before = ToU64(limit.rlim_cur);
  out.hard = ToU64(limit.rlim_max);
  const rlim_t target =
      limit.rlim_max == RLIM_INFINITY ? static_cast<rlim_t>(kMaxOpenFiles) : limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    rlimit raised = limit;
    raised.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    } else {
      const int err = errno;
      out.raise_error = util::PermissionDenied("cannot raise RLIMIT_NOFILE to " +
                                               std::to_string(target) + ": " + std::strerror(err));
    }
  }
  out.soft = ToU64(limit.rlim_cur);
  return out;
}

std::uint64_t ReservedDescriptors(const service::ServerConfig& config) {
  std::uint64_t reserve = kStandardStreams + kStateFilesHeldOpen;
  reserve += kPerEventLoop + 1;  // the TLS server: its io_context and its listener
  // Threads that may write state: the I/O threads, the Argon2 workers (password upgrades,
  // lockouts, audit records), the store workers (TempIDs, reports) and the main thread
  // (reloads, compaction, certificate reloads).
  std::uint64_t writers = std::max(config.io_threads, 1u);
  writers += config.argon2_workers;
  writers += service::ReportingService::StoreWorkers(config);
  writers += 1;
  reserve += writers * kPerWritingThread;
  if (!config.metrics_address.empty()) {
    // The ops listener: its io_context, its socket, its connections, its thread's reads.
    reserve += kPerEventLoop + 1 + OpsServerOptions{}.max_connections + kPerWritingThread;
  }
  return reserve + kAcceptToRefuse + kSlack;
}

util::Result<std::uint32_t> FitMaxConnections(std::uint32_t configured, std::uint64_t soft_limit,
                                              std::uint64_t reserve) {
  if (soft_limit <= reserve) {
    return util::ResourceExhausted(
        "the open-file limit of " + std::to_string(soft_limit) +
        " descriptors leaves none for connections after the " + std::to_string(reserve) +
        " the server reserves for itself; raise it (LimitNOFILE= in the unit, ulimit -n) to "
        "at least " +
        std::to_string(reserve) + " + limits.max_connections");
  }
  const std::uint64_t room = soft_limit - reserve;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(configured, room));
}

}  // namespace bluetrace::net
