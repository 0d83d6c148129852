// Server: the TLS transport of bluetrace-server. It accepts and admits connections, runs
// the TLS handshake, turns bytes into protocol::Messages and hands them, one at a time, to
// a service::Session made by the SessionFactory; replies go back as frames. It holds no
// business rules. Limits and deadlines: ServerOptions and Start().
//
// Threads: `io_threads` threads run its io_context; each connection runs on its own strand
// and a Session's `done` may be called from any thread (the reply is posted back). Start(),
// Stop() and the destructor from one controlling thread; the rest from any thread.
// Ownership: borrows the SessionFactory, shares the TLS context with its connections.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "bluetrace/net/listener.hpp"
#include "bluetrace/service/server_config.hpp"
#include "bluetrace/service/session.hpp"
#include "bluetrace/util/status.hpp"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace bluetrace::net {

// The transport's limits and deadlines (service::ServerConfig holds the operator-facing
// keys; ServerOptionsFromConfig copies them). Milliseconds so tests can use short ones.
// A missed deadline sends Error{kTimeout} (best effort) and closes; so does a frame that
// does not decode (Error{FrameErrorCode(...)}), and a reply larger than
// max_pending_write_bytes closes instead of being queued. Until the Session reports
// logged_in(), the connection must log in by accept + login_timeout; after that
// idle_timeout bounds the silence before each frame. While a request is with the Session
// nothing more is read (natural backpressure). Every connection ends in a socket close and
// exactly one Session::Closed() call, whatever the peer did.
struct ServerOptions {
  std::string bind_address = "0.0.0.0";  // IPv4 or IPv6 literal
  std::uint16_t port = 4000;             // 0 picks a free port; Server::port() reports it
  std::uint32_t io_threads = 2;          // threads running the io_context (0 counts as 1)
  std::uint32_t max_connections = 1024;  // open at once, in total
  std::uint32_t max_connections_per_address = 32;
  std::uint32_t max_frame_bytes = 1u << 20;             // largest frame N accepted from a client
  std::uint64_t max_pending_write_bytes = 4u << 20;     // largest reply queued for one client
  std::chrono::milliseconds handshake_timeout{10'000};  // accept to finished TLS handshake
  std::chrono::milliseconds login_timeout{60'000};      // accept to logged_in()
  std::chrono::milliseconds idle_timeout{300'000};      // before each frame, once logged in
  std::chrono::milliseconds write_timeout{30'000};      // one reply reaching the client
  // The closing exchange: a last Error frame and the TLS close_notify in both directions.
  std::chrono::milliseconds close_timeout{2'000};
};

// The transport fields of `config` (bind address, port, threads, limits, timeouts).
ServerOptions ServerOptionsFromConfig(const service::ServerConfig& config);

// Counters for metrics and tests; updated with relaxed atomics, read at any time.
struct ServerStats {
  std::atomic<std::int64_t> connections_open{0};        // sessions admitted and not yet closed
  std::atomic<std::uint64_t> connections_accepted{0};   // admitted (a session was started)
  std::atomic<std::uint64_t> refused_total_limit{0};    // max_connections reached
  std::atomic<std::uint64_t> refused_address_limit{0};  // max_connections_per_address reached
  std::atomic<std::uint64_t> refused_rate{0};           // AdmitConnection said no
  std::atomic<std::uint64_t> tls_handshakes_failed{0};  // not counting handshake timeouts
  std::atomic<std::uint64_t> frames_in{0};              // messages decoded from clients
  std::atomic<std::uint64_t> frames_out{0};             // messages written to clients
  std::atomic<std::uint64_t> protocol_errors{0};        // frames that did not decode
  std::atomic<std::uint64_t> timeouts{0};  // handshake, login, idle, write and close deadlines
  std::atomic<std::uint64_t> accept_failures{0};  // accept() errors, e.g. out of descriptors
};

class Server {
 public:
  // `tls` must be a server context (MakeServerContext); `factory` must outlive the Server.
  Server(ServerOptions options, std::shared_ptr<boost::asio::ssl::context> tls,
         service::SessionFactory& factory);
  // Stops with no grace if still running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds bind_address:port, listens, starts the I/O threads and accepts. Admission, on
  // accept and before any TLS work: a connection is closed at once when max_connections
  // are open, when its address has max_connections_per_address open, or when
  // SessionFactory::AdmitConnection refuses it. max_connections must fit under the
  // open-file limit (descriptor_budget.hpp); should accept still fail (EMFILE), the loop
  // pauses instead of spinning, with a rate-limited warning (accept_backoff.hpp). Errors:
  // kInvalidArgument for a bind address that is not an IP literal; kIoError naming the
  // address and port when the socket cannot be opened, bound or put to listen (e.g.
  // "cannot bind 127.0.0.1:4000: Address already in use"); kFailedPrecondition when
  // called twice or after Stop().
  util::Status Start();
  // The same on a listener opened beforehand (options.bind_address and port are then
  // ignored). kIoError when the listener cannot be taken over.
  util::Status Start(Listener listener);

  // Stops accepting, then lets every session end within `grace`: an idle one (waiting for
  // the client) is closed at once with a TLS close_notify; one whose request is with the
  // Session gets to write that reply first. Sessions still open after `grace` are closed
  // abruptly. Returns once every Session::Closed() has been called and the I/O threads are
  // joined, so the caller may flush its stores. Idempotent; a no-op before Start().
  void Stop(std::chrono::milliseconds grace);

  // New connections use `tls` from now on (a certificate reload); open ones keep the
  // context they started with (each holds a shared_ptr, so a reload never frees it under
  // them). A null pointer is ignored. A Session lives until its last pending `done` has
  // run or been destroyed.
  void ReplaceTlsContext(std::shared_ptr<boost::asio::ssl::context> tls);

  // The bound port once Start() succeeded (the real one when options.port was 0), else 0.
  std::uint16_t port() const;

  const ServerStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bluetrace::net
