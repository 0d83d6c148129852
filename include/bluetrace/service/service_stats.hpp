// ServiceStats: the reporting service's counters since start, for logs and metrics.
// Written by the use cases (auth_service, tracing_service) and the protocol sessions;
// relaxed atomics, read by the metrics endpoint.
#pragma once

#include <atomic>
#include <cstdint>

namespace bluetrace::service {

struct ServiceStats {
  std::atomic<std::uint64_t> sessions_started{0};
  std::atomic<std::uint64_t> tempids_issued{0};
  std::atomic<std::uint64_t> uploads{0};
  std::atomic<std::uint64_t> uploads_rejected{0};  // malformed or over a limit
  std::atomic<std::uint64_t> entries_matched{0};
  std::atomic<std::uint64_t> entries_mismatched{0};
  std::atomic<std::uint64_t> entries_unknown{0};
  std::atomic<std::uint64_t> rate_limited_connections{0};
  std::atomic<std::uint64_t> rate_limited_tempids{0};
  std::atomic<std::uint64_t> protocol_errors{0};  // messages refused in the wrong state
  std::atomic<std::uint64_t> internal_errors{0};
  // Requests answered Busy because the storage could not be reached in time (a database
  // away); nothing of them was acknowledged.
  std::atomic<std::uint64_t> store_unavailable{0};
};

}  // namespace bluetrace::service
