// TlsSocket: the server side of one TLS connection, whose OpenSSL object reads and writes
// the socket itself (SSL_set_fd), for net::Server's sessions (private to src/net).
//
// Why not Asio's ssl::stream: it keeps two 17 KiB staging buffers, filled with zeros and so
// resident, and a BIO pair of 2 x 17 KiB per connection, busy or idle. With
// SSL_MODE_RELEASE_BUFFERS (MakeServerContext) an idle TlsSocket holds only OpenSSL's
// connection state (docs/ARCHITECTURE.md, "Memory per session").
//
// Each operation calls OpenSSL on the non-blocking socket and, when OpenSSL wants to read
// or write, waits for the socket (async_wait) and calls it again. Errors are those of
// Asio's ssl::stream: asio::error::eof for a close_notify, an SSL-category code (see
// IsTruncation, DescribeTlsError) or the system's. Like beast::tcp_stream, an operation
// still pending when the deadline set by ExpiresAfter passes completes with
// beast::error::timeout; Cancel() makes it complete with operation_aborted.
//
// Threads: not thread-safe; every call on the socket's executor (the session's strand),
// one operation at a time. Completions are posted, never run inside the starting call.
// The owner keeps the TlsSocket alive until every completion has run (the handlers hold
// the owner).
#pragma once

#include <utility>  // before Asio: g++ 12 in C++20 needs it (Asio uses std::exchange)

#include <openssl/ssl.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace bluetrace::net::detail {

class TlsSocket {
 public:
  using Handler = std::function<void(boost::system::error_code)>;
  using IoHandler = std::function<void(boost::system::error_code, std::size_t)>;

  // Takes the accepted socket; the SSL object comes from `tls` (kept alive by the caller).
  TlsSocket(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  boost::asio::any_io_executor get_executor() { return socket_.get_executor(); }
  // Null only when OpenSSL could not allocate it (the handshake then fails).
  SSL* native_handle() { return ssl_.get(); }

  // The server's handshake.
  void AsyncHandshake(Handler done);
  // Some bytes (at least one) into `buffer`.
  void AsyncReadSome(boost::asio::mutable_buffer buffer, IoHandler done);
  // All of `buffer`, which must stay valid until `done`.
  void AsyncWrite(boost::asio::const_buffer buffer, IoHandler done);
  // Sends a close_notify and waits for the peer's.
  void AsyncShutdown(Handler done);

  // Deadline of the operations from now on (until changed).
  void ExpiresAfter(std::chrono::steady_clock::duration timeout);
  void ExpiresNever();
  // The pending operation completes with operation_aborted (or timeout, if that is why).
  void Cancel();
  void Close();

 private:
  struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };
  // One call into OpenSSL: > 0 done, else SSL_get_error's input.
  using Attempt = std::function<int()>;
  using Finish = std::function<void(boost::system::error_code, int)>;

  // Calls `attempt` until it succeeds or fails; waits for the socket in between.
  void Run(Attempt attempt, Finish finish, bool in_handler);
  // Calls `finish` now when already in a completion handler, else posts it.
  void Complete(const Finish& finish, boost::system::error_code ec, int result, bool in_handler);

  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<SSL, SslFree> ssl_;
  // The deadline's state, shared with the timer's handler: a handler already queued when
  // the socket goes away (the timer expired just before it was cancelled) finds `armed`
  // changed and touches nothing else.
  struct Deadline {
    std::uint64_t armed = 0;  // generation of the deadline set last; bumped to disarm
    bool timed_out = false;
  };
  boost::asio::steady_timer timer_;
  std::shared_ptr<Deadline> deadline_ = std::make_shared<Deadline>();
  std::size_t write_done_ = 0;  // bytes of AsyncWrite's buffer sent so far
};

}  // namespace bluetrace::net::detail
