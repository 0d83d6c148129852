// The server's open-file budget. Every client connection holds a descriptor, and so do the
// stores, the report writes, the ops listener and its connections, certificate reloads and
// logging. Under systemd's default soft limit of 1,024 open files, connections alone could
// take them all: logins time out, an upload cannot open its report file and /metrics
// stops answering. So at start bluetrace-server raises its soft RLIMIT_NOFILE to the hard
// limit where it may (RaiseOpenFileLimit), keeps a reserve of descriptors for everything
// but client connections (ReservedDescriptors: the one place that counts them) and lowers
// limits.max_connections to what fits in the rest (FitMaxConnections).
//
// Stateless. RaiseOpenFileLimit changes the whole process's limit: call it once, at start.
#pragma once

#include <cstdint>

#include "bluetrace/service/server_config.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::net {

struct OpenFileLimit {
  std::uint64_t soft = 0;         // RLIMIT_NOFILE in force after the call
  std::uint64_t hard = 0;         // RLIM_INFINITY is reported as UINT64_MAX
  std::uint64_t soft_before = 0;  // the soft limit the process started with
  // Why the soft limit could not be raised (setrlimit's errno text, e.g. EPERM under the
  // packaged unit's SystemCallFilter=~@resources); OK when it was raised or was already
  // at the hard limit.
  util::Status raise_error;
};

// Reads RLIMIT_NOFILE and raises the soft limit to the hard one (to kMaxOpenFiles when the
// hard limit is infinite, as Linux refuses more than fs.nr_open). Failing to raise it is
// not an error (see raise_error); kIoError only when the limit cannot even be read.
util::Result<OpenFileLimit> RaiseOpenFileLimit();
inline constexpr std::uint64_t kMaxOpenFiles = 1u << 20;  // Linux's default fs.nr_open

// Descriptors bluetrace-server keeps for everything but client connections under
// `config`: standard streams, the state files it holds open, the two event loops, the
// listeners, the ops listener's connections, the transient files (a report, a temporary
// file and its directory, a lock) of every thread that writes, the one connection accepted
// only to be closed over the limit, and slack for OpenSSL and the C library.
std::uint64_t ReservedDescriptors(const service::ServerConfig& config);

// The max_connections to use: `configured` when it fits in `soft_limit` - `reserve`,
// else that difference (the caller logs the clamp). kResourceExhausted, naming the limit
// and the reserve, when the limit leaves no descriptor at all for connections.
util::Result<std::uint32_t> FitMaxConnections(std::uint32_t configured, std::uint64_t soft_limit,
                                              std::uint64_t reserve);

}  // namespace bluetrace::net
