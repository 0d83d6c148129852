// ConsoleServer: the HTTPS listener of the contact tracers' web console (console_pages.hpp
// holds the pages, service/console_service.hpp the rules), on its own port, off unless
// `console.enabled`. TLS with the protocol port's context (net/tls_context.hpp), so the
// same certificate, minimum version and ciphers; a SIGHUP reload hands it the new context
// with the protocol port's (net/server_daemon.hpp).
//
// Limits (as ops_server.hpp): at most max_connections at once (more are closed on accept);
// the TLS handshake within handshake_timeout; a request header of at most max_header_bytes
// (431) and a body of at most max_body_bytes (413) within read_timeout; the answer within
// write_timeout; one request per connection (`Connection: close`). Every answer carries
// ConsoleSecurityHeaders().
//
// Threads: one io_context run by one thread of its own (Start() starts it, Stop() joins
// it); requests are handled on it one at a time (a login's Argon2 check included: staff
// logins are rare, and the lockout bounds them). Start(), Stop() and the destructor from
// one controlling thread; port() and ReplaceTlsContext() from any thread.
#pragma once

#include <utility>  // before Asio (g++ 12, C++20)

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "bluetrace/net/console_pages.hpp"
#include "bluetrace/net/listener.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::net {

struct ConsoleServerOptions {
  std::uint32_t max_connections = 32;
  std::uint32_t max_header_bytes = 8 * 1024;
  std::uint32_t max_body_bytes = 16 * 1024;  // a status form with a 2,000-byte note fits
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};
};

class ConsoleServer {
 public:
  // `router` and the context must outlive the server (the context is shared).
  ConsoleServer(ConsoleServerOptions options, std::shared_ptr<boost::asio::ssl::context> tls,
                ConsoleRouter& router);
  ~ConsoleServer();  // stops
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  // Starts accepting on `listener` (opened by the caller, so a port in use stops start-up
  // early). Logs a warning when it is not a loopback address. kFailedPrecondition when
  // called twice; kIoError when the listener cannot be used.
  util::Status Start(Listener listener);
  // Closes the listener and every connection and joins the thread. Idempotent.
  void Stop();
  // The bound port once started, else 0.
  std::uint16_t port() const;
  // New connections use `tls` from now on (a certificate reload); open ones keep the
  // context they started with (each holds a shared_ptr). A null pointer is ignored.
  void ReplaceTlsContext(std::shared_ptr<boost::asio::ssl::context> tls);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bluetrace::net
