// RenderMetrics: the server's counters as Prometheus text exposition format 0.0.4, the
// body of the ops listener's /metrics. Every metric is prefixed `bluetrace_`, has its
// `# HELP` and `# TYPE` lines before its samples, and counters end in `_total`.
//
// Layering: service/ knows nothing of net/, so the transport's counters come in as the
// plain TransportMetrics struct, which the program copies from net::ServerStats; the
// stores' fsync histograms come from the InstrumentedFileSystem the program wired under
// the stores (nullptr leaves them out). Reads only atomics and short locks: cheap to call
// from the ops thread at any time.
#pragma once

#include <cstdint>
#include <string>

#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/store/instrumented_file_system.hpp"

namespace bluetrace::service {

// A copy of net::ServerStats's fields.
struct TransportMetrics {
  std::int64_t connections_open = 0;
  std::uint64_t connections_accepted = 0;
  std::uint64_t refused_total_limit = 0;    // max_connections reached
  std::uint64_t refused_address_limit = 0;  // max_connections_per_address reached
  std::uint64_t refused_rate = 0;           // the per-address connection rate
  std::uint64_t tls_handshakes_failed = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t protocol_errors = 0;  // frames that did not decode
  std::uint64_t timeouts = 0;
};

std::string RenderMetrics(const ReportingService& service, const TransportMetrics& transport,
                          const store::InstrumentedFileSystem* fs);

}  // namespace bluetrace::service
