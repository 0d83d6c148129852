#include "tls_socket.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <cerrno>
#include <climits>
#include <cstdint>

namespace bluetrace::net::detail {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// A BIO on the socket's descriptor that sends with MSG_NOSIGNAL: OpenSSL's own socket BIO
// uses write(), which raises SIGPIPE when the peer is gone, and a library must not depend on
// the program ignoring it. Reports EAGAIN as "retry", and EOF as OpenSSL's socket BIO does
// (BIO_FLAGS_IN_EOF), so that a missing close_notify is OpenSSL's "unexpected eof".
int Descriptor(BIO* bio) {
  return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio)));
}

bool ShouldRetry(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

int SocketWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(Descriptor(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (ShouldRetry(errno)) BIO_set_retry_write(bio);
  return -1;
}

int SocketRead(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(Descriptor(bio), data, static_cast<std::size_t>(size), 0);
  if (n > 0) return static_cast<int>(n);
  if (n == 0) {
    BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
    return 0;
  }
  if (ShouldRetry(errno)) BIO_set_retry_read(bio);
  return -1;
}

long SocketCtrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_EOF:
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    default:
      return 0;
  }
}

int SocketCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* SocketMethod() {
  static const BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bluetrace socket");
    if (m == nullptr) return static_cast<BIO_METHOD*>(nullptr);
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_ctrl(m, SocketCtrl);
    BIO_meth_set_create(m, SocketCreate);
    return m;
  }();
  return method;
}

SSL* NewServerSsl(asio::ssl::context& tls, int fd) {
  const BIO_METHOD* method = SocketMethod();
  if (method == nullptr) return nullptr;
  SSL* ssl = SSL_new(tls.native_handle());
  if (ssl == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio == nullptr) {
    SSL_free(ssl);
    return nullptr;
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
  SSL_set_bio(ssl, bio, bio);  // one reference, for both directions: SSL_free frees it
  // Partial writes let AsyncWrite go on from where a full socket buffer stopped it.
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_accept_state(ssl);
  return ssl;
}

}  // namespace

TlsSocket::TlsSocket(asio::ip::tcp::socket socket, asio::ssl::context& tls)
    : socket_(std::move(socket)), timer_(socket_.get_executor()) {
  error_code ec;
  socket_.non_blocking(true, ec);
  if (!ec) ssl_.reset(NewServerSsl(tls, socket_.native_handle()));
}

TlsSocket::~TlsSocket() {
  // A timer handler still queued must not reach this socket.
  ++deadline_->armed;
}

void TlsSocket::AsyncHandshake(Handler done) {
  Run([this] { return SSL_do_handshake(ssl_.get()); },
      [done = std::move(done)](error_code ec, int /*result*/) { done(ec); }, false);
}

void TlsSocket::AsyncReadSome(asio::mutable_buffer buffer, IoHandler done) {
  const int size = static_cast<int>(std::min<std::size_t>(buffer.size(), INT_MAX));
  Run([this, data = buffer.data(), size] { return SSL_read(ssl_.get(), data, size); },
      [done = std::move(done)](error_code ec, int result) {
        done(ec, ec ? 0 : static_cast<std::size_t>(result));
      },
      false);
}

void TlsSocket::AsyncWrite(asio::const_buffer buffer, IoHandler done) {
  write_done_ = 0;
  // Writes until all is sent or OpenSSL has to wait; the same call resumes after the wait.
  Run(
      [this, buffer] {
        const auto* data = static_cast<const std::uint8_t*>(buffer.data());
        while (write_done_ < buffer.size()) {
          const int size =
              static_cast<int>(std::min<std::size_t>(buffer.size() - write_done_, INT_MAX));
          const int n = SSL_write(ssl_.get(), data + write_done_, size);
          if (n <= 0) return n;
          write_done_ += static_cast<std::size_t>(n);
        }
        return 1;
      },
      [this, done = std::move(done)](error_code ec, int /*result*/) { done(ec, write_done_); },
      false);
}

void TlsSocket::AsyncShutdown(Handler done) {
  // 0: our close_notify is sent; the next call waits for the peer's (1 when it came).
  Run(
      [this] {
        const int r = SSL_shutdown(ssl_.get());
        return r == 0 ? SSL_shutdown(ssl_.get()) : r;
      },
      [done = std::move(done)](error_code ec, int /*result*/) { done(ec); }, false);
}

void TlsSocket::ExpiresAfter(std::chrono::steady_clock::duration timeout) {
  deadline_->timed_out = false;
  const std::uint64_t generation = ++deadline_->armed;
  timer_.expires_after(timeout);
  timer_.async_wait([this, deadline = deadline_, generation](error_code ec) {
    // Disarmed, replaced or destroyed since: `this` may be gone, touch nothing.
    if (ec || generation != deadline->armed) return;
    deadline->timed_out = true;
    error_code ignored;
    socket_.cancel(ignored);
  });
}

void TlsSocket::ExpiresNever() {
  deadline_->timed_out = false;
  ++deadline_->armed;
  timer_.cancel();
}

void TlsSocket::Cancel() {
  error_code ignored;
  socket_.cancel(ignored);
}

void TlsSocket::Close() {
  ExpiresNever();
  error_code ignored;
  socket_.close(ignored);
}

void TlsSocket::Run(Attempt attempt, Finish finish, bool in_handler) {
  if (deadline_->timed_out) return Complete(finish, boost::beast::error::timeout, 0, in_handler);
  // A closed descriptor's number may already belong to another connection.
  if (!socket_.is_open()) return Complete(finish, asio::error::bad_descriptor, 0, in_handler);
  if (!ssl_) return Complete(finish, asio::error::no_memory, 0, in_handler);
  ERR_clear_error();
  errno = 0;
  const int result = attempt();
  if (result > 0) return Complete(finish, {}, result, in_handler);
  const int err = SSL_get_error(ssl_.get(), result);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    const auto what = err == SSL_ERROR_WANT_READ ? asio::ip::tcp::socket::wait_read
                                                 : asio::ip::tcp::socket::wait_write;
    // `finish` holds the owner, which holds this socket, until the wait completes.
    socket_.async_wait(what, [this, attempt = std::move(attempt),
                              finish = std::move(finish)](error_code ec) mutable {
      if (deadline_->timed_out) return finish(boost::beast::error::timeout, 0);
      if (ec) return finish(ec, 0);
      Run(std::move(attempt), std::move(finish), true);
    });
    return;
  }
  // As Asio's ssl::stream reports them (IsTruncation and DescribeTlsError read these).
  const int saved_errno = errno;
  error_code ec;
  if (err == SSL_ERROR_ZERO_RETURN) {
    ec = asio::error::eof;
  } else if (const unsigned long queued = ERR_get_error(); queued != 0) {
    ec = error_code(static_cast<int>(queued), asio::error::get_ssl_category());
  } else if (err == SSL_ERROR_SYSCALL && saved_errno != 0) {
    ec = error_code(saved_errno, asio::error::get_system_category());
  } else {
    ec = asio::ssl::error::stream_truncated;
  }
  Complete(finish, ec, 0, in_handler);
}

void TlsSocket::Complete(const Finish& finish, error_code ec, int result, bool in_handler) {
  if (in_handler) return finish(ec, result);
  asio::post(socket_.get_executor(), [finish, ec, result] { finish(ec, result); });
}

}  // namespace bluetrace::net::detail
