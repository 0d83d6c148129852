// OpsServer: the operator's plain-HTTP listener of bluetrace-server, off unless
// `ops.metrics_address` is set: GET /healthz (the process runs), GET /readyz (it accepts
// connections and its stores are healthy) and GET /metrics (Prometheus text format 0.0.4).
// It holds no business rules: the readiness check and the metrics text come from callbacks
// supplied by the program (service::RenderMetrics), so net/ depends on nothing in service/.
//
// Exposure: no TLS and no authentication, so it belongs on a loopback address (the
// default, 127.0.0.1) or behind a firewall; Start() logs a warning for any other address
// but does not refuse it, since a scraper in a private network is a legitimate choice.
//
// Limits: at most max_connections at once (a further one is closed on accept); a request
// header of at most max_header_bytes (else 431) and no body (413); the request must arrive
// within read_timeout and the response leave within write_timeout; one request per
// connection (`Connection: close`), which Prometheus and curl handle fine; after the
// answer, leftover input is discarded for at most 1 s / 64 KiB so that closing does not
// reset the connection under the answer. GET and HEAD only (405 with `Allow`), other paths
// 404; a query string is ignored. A failed accept (e.g. out of descriptors) pauses the
// accept loop and logs a rate-limited warning (accept_backoff.hpp).
//
// Threads: the OpsServer owns an io_context run by one thread of its own (Start() starts
// it, Stop() joins it); the callbacks run on that thread, one request at a time, so they
// must be thread-safe against the rest of the program but need not be re-entrant.
// Start(), Stop() and the destructor from one controlling thread; port() and stats() from
// any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bluetrace/net/listener.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::net {

struct OpsServerOptions {
  std::string address = "127.0.0.1";  // IPv4 or IPv6 literal
  std::uint16_t port = 9464;          // 0 picks a free port; OpsServer::port() reports it
  std::uint32_t max_connections = 16;
  std::uint32_t max_header_bytes = 8 * 1024;
  std::chrono::milliseconds read_timeout{5'000};
  std::chrono::milliseconds write_timeout{5'000};
};

// What the endpoints answer; called on the OpsServer's thread.
struct OpsHandlers {
  // OK: /readyz answers 200 "ready"; otherwise 503 with the status's message.
  std::function<util::Status()> ready;
  // The whole /metrics body in Prometheus text format.
  std::function<std::string()> metrics;
};

// Counters of the listener itself, for tests (relaxed atomics).
struct OpsServerStats {
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_refused{0};  // over max_connections
  std::atomic<std::uint64_t> requests{0};             // responses written, any status
  std::atomic<std::uint64_t> accept_failures{0};      // accept() errors, e.g. out of descriptors
};

class OpsServer {
 public:
  OpsServer(OpsServerOptions options, OpsHandlers handlers);
  // Stops if still running.
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  // Binds, listens and starts the thread. Errors: kInvalidArgument for an address that is
  // not an IP literal; kIoError naming the address and port when it cannot be bound;
  // kFailedPrecondition when called twice or after Stop().
  util::Status Start();
  // The same on a listener opened beforehand (options.address and port are then ignored).
  util::Status Start(Listener listener);

  // Closes the listener and every open connection and joins the thread. Idempotent.
  void Stop();

  // The bound port once Start() succeeded (the real one when options.port was 0), else 0.
  std::uint16_t port() const;

  const OpsServerStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bluetrace::net
