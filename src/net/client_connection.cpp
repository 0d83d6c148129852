#include "bluetrace/net/client_connection.hpp"

#include <openssl/crypto.h>
#include <openssl/x509_vfy.h>
#include <poll.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "bluetrace/protocol/frame_decoder.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/secret.hpp"

namespace bluetrace::net {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using util::Result;
using util::Status;

namespace {

using Clock = std::chrono::steady_clock;

std::string EndpointText(const std::string& host, std::uint16_t port) {
  return host.find(':') == std::string::npos ? host + ":" + std::to_string(port)
                                             : "[" + host + "]:" + std::to_string(port);
}

bool IsPeerGone(const error_code& ec) {
  return IsTruncation(ec) || ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

class ClientConnection::Impl {
 public:
  using Stream = asio::ssl::stream<tcp::socket>;

  Impl(std::shared_ptr<asio::ssl::context> context, ClientConnectOptions options)
      : options_(std::move(options)),
        context_(std::move(context)),
        stream_(io_, *context_),
        decoder_(options_.max_frame_bytes) {}

  ~Impl() {
    Close();
    OPENSSL_cleanse(read_buffer_.data(), read_buffer_.size());
  }

  Status Open(const std::string& host, std::uint16_t port, const TlsClientOptions& tls);
  Status Write(std::string_view bytes);
  Result<protocol::Message> Receive(std::chrono::milliseconds timeout);
  void Close();

  bool is_open() const { return open_; }
  bool HasInput() const {
    if (!open_) return false;
    if (read_begin_ < read_end_) return true;
    // native_handle() is not const in Asio; looking at the buffers changes nothing.
    auto& stream = const_cast<Stream&>(stream_);
    if (SSL_pending(stream.native_handle()) > 0) return true;
    pollfd p{stream.next_layer().native_handle(), POLLIN, 0};
    return poll(&p, 1, 0) > 0;  // data, an end of stream, or an error to read
  }
  bool timed_out() const { return timed_out_; }
  // Called as each Send, SendRaw or Receive starts.
  void ForgetTimeout() { timed_out_ = false; }
  const std::string& fingerprint() const { return fingerprint_; }
  // native_handle() is not const in Asio; reading the version changes nothing.
  std::string tls_version() const {
    return SSL_get_version(const_cast<Stream&>(stream_).native_handle());
  }
  std::string local_endpoint() const {
    error_code ec;
    const tcp::endpoint local = stream_.next_layer().local_endpoint(ec);
    return ec ? std::string() : EndpointText(local.address().to_string(), local.port());
  }

 private:
  // Runs the io_context until `done` or `deadline`. When the deadline comes first it calls
  // `cancel` and runs on until the cancelled operation has completed (at once), so no
  // handler outlives the call. Returns true when it had to cancel; the operation may still
  // have succeeded just before the cancel took effect, so callers check their error code.
  template <typename Cancel>
  bool RunUntil(const bool& done, Clock::time_point deadline, Cancel cancel) {
    io_.restart();
    while (!done) {
      const Clock::time_point now = Clock::now();
      if (now >= deadline) break;
      if (io_.run_one_for(deadline - now) == 0 && io_.stopped()) break;
    }
    if (done) return false;
    cancel();
    io_.restart();
    while (!done && io_.run_one() != 0) {
    }
    return true;
  }
  bool RunUntil(const bool& done, Clock::time_point deadline) {
    return RunUntil(done, deadline, [this] {
      error_code ignored;
      stream_.next_layer().cancel(ignored);
    });
  }

  Result<std::vector<tcp::endpoint>> Resolve(const std::string& host, std::uint16_t port,
                                             Clock::time_point deadline);
  Status ConnectTcp(const std::vector<tcp::endpoint>& endpoints, Clock::time_point deadline);
  Status Handshake(const TlsClientOptions& tls, Clock::time_point deadline);
  void Shutdown(Clock::time_point deadline);
  // Closes the socket without the TLS closing exchange.
  void Abandon();

  const ClientConnectOptions options_;
  asio::io_context io_{1};
  const std::shared_ptr<asio::ssl::context> context_;
  Stream stream_;
  protocol::FrameDecoder decoder_;
  std::array<std::uint8_t, 16 * 1024> read_buffer_{};
  std::size_t read_begin_ = 0;
  std::size_t read_end_ = 0;
  std::string where_;
  std::string fingerprint_;
  bool open_ = false;
  bool timed_out_ = false;  // the last Write or Receive ran out of time
};

Result<std::vector<tcp::endpoint>> ClientConnection::Impl::Resolve(const std::string& host,
                                                                   std::uint16_t port,
                                                                   Clock::time_point deadline) {
  error_code ec;
  const asio::ip::address literal = asio::ip::make_address(host, ec);
  if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(literal, port)};
  tcp::resolver resolver(io_);
  bool done = false;
  tcp::resolver::results_type results;
  resolver.async_resolve(host, std::to_string(port),
                         [&](error_code e, tcp::resolver::results_type r) {
                           ec = e;
                           results = std::move(r);
                           done = true;
                         });
  const bool cancelled = RunUntil(done, deadline, [&resolver] { resolver.cancel(); });
  if (cancelled && ec == asio::error::operation_aborted) {
    return util::Unavailable("resolving " + host + " timed out");
  }
  if (ec) return util::Unavailable("cannot resolve " + host + ": " + ec.message());
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  return endpoints;
}

Status ClientConnection::Impl::ConnectTcp(const std::vector<tcp::endpoint>& endpoints,
                                          Clock::time_point deadline) {
  std::optional<asio::ip::address> local;
  if (!options_.local_address.empty()) {
    error_code ec;
    local = asio::ip::make_address(options_.local_address, ec);
    if (ec) {
      return util::InvalidArgument("local address \"" + options_.local_address +
                                   "\" is not an IP address");
    }
  }
  tcp::socket& socket = stream_.next_layer();
  std::string last_error = "no address of a usable family";
  for (const tcp::endpoint& endpoint : endpoints) {
    if (local && local->is_v4() != endpoint.address().is_v4()) continue;
    error_code ec;
    socket.close(ec);
    if (socket.open(endpoint.protocol(), ec); ec) {
      last_error = ec.message();
      continue;
    }
    if (local) {
      if (socket.bind(tcp::endpoint(*local, 0), ec); ec) {
        return util::Unavailable("cannot bind the local address " + options_.local_address + ": " +
                                 ec.message());
      }
    }
    bool done = false;
    socket.async_connect(endpoint, [&](error_code e) {
      ec = e;
      done = true;
    });
    const bool cancelled = RunUntil(done, deadline);
    if (!ec) {
      // Small request/reply frames: avoid Nagle + delayed-ACK stalls (~40 ms each).
      error_code nodelay_ec;
      socket.set_option(tcp::no_delay(true), nodelay_ec);
      return Status::Ok();
    }
    if (cancelled && ec == asio::error::operation_aborted) {
      socket.close(ec);
      return util::Unavailable("connecting to " + where_ + " timed out");
    }
    last_error = ec.message();
  }
  socket.close();
  return util::Unavailable("cannot connect to " + where_ + ": " + last_error);
}

Status ClientConnection::Impl::Handshake(const TlsClientOptions& tls, Clock::time_point deadline) {
  BLUETRACE_RETURN_IF_ERROR(ConfigureClientStream(stream_.native_handle(), tls));
  bool done = false;
  error_code ec;
  stream_.async_handshake(asio::ssl::stream_base::client, [&](error_code e) {
    ec = e;
    done = true;
  });
  const bool cancelled = RunUntil(done, deadline);
  if (!ec) return Status::Ok();
  if (cancelled && ec == asio::error::operation_aborted) {
    return util::Unavailable("TLS handshake with " + where_ + " timed out");
  }
  const std::string reason = DescribeTlsError(ec, stream_.native_handle());
  if (SSL_get_verify_result(stream_.native_handle()) != X509_V_OK) {
    return util::PermissionDenied("the certificate of " + where_ + " was refused: " + reason);
  }
  return util::Unavailable("TLS handshake with " + where_ + " failed: " + reason);
}

Status ClientConnection::Impl::Open(const std::string& host, std::uint16_t port,
                                    const TlsClientOptions& tls) {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  where_ = EndpointText(host, port);
  Result<std::vector<tcp::endpoint>> endpoints = Resolve(host, port, deadline);
  if (!endpoints.ok()) return endpoints.status();
  BLUETRACE_RETURN_IF_ERROR(ConnectTcp(*endpoints, deadline));
  if (Status handshake = Handshake(tls, deadline); !handshake.ok()) {
    Abandon();
    return handshake;
  }
  Result<std::string> fingerprint = PeerCertificateFingerprint(stream_.native_handle());
  if (!fingerprint.ok()) {
    Abandon();
    return fingerprint.status();
  }
  fingerprint_ = std::move(*fingerprint);
  open_ = true;
  return Status::Ok();
}

Status ClientConnection::Impl::Write(std::string_view bytes) {
  if (!open_) return util::FailedPrecondition("the connection to " + where_ + " is closed");
  bool done = false;
  error_code ec;
  asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                    [&](error_code e, std::size_t) {
                      ec = e;
                      done = true;
                    });
  const bool cancelled = RunUntil(done, Clock::now() + options_.timeout);
  if (!ec) return Status::Ok();
  Abandon();  // a partly written frame cannot be taken back
  if (cancelled && ec == asio::error::operation_aborted) {
    timed_out_ = true;
    return util::Unavailable("sending to " + where_ + " timed out");
  }
  if (IsPeerGone(ec)) return util::Unavailable("the connection was closed by the server");
  return util::Unavailable("sending to " + where_ + " failed: " + DescribeTlsError(ec));
}

Result<protocol::Message> ClientConnection::Impl::Receive(std::chrono::milliseconds timeout) {
  if (!open_) return util::FailedPrecondition("the connection to " + where_ + " is closed");
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    const std::span<const std::uint8_t> rest(read_buffer_.data() + read_begin_,
                                             read_end_ - read_begin_);
    read_begin_ += decoder_.Feed(rest);
    Result<std::optional<protocol::Message>> next = decoder_.NextMessage();
    if (!next.ok()) {
      Abandon();
      return Status(next.status().code(),
                    "bad frame from " + where_ + ": " + next.status().message());
    }
    if (next->has_value()) return std::move(**next);
    OPENSSL_cleanse(read_buffer_.data(), read_end_);
    read_begin_ = read_end_ = 0;

    bool done = false;
    error_code ec;
    std::size_t bytes = 0;
    stream_.async_read_some(asio::buffer(read_buffer_), [&](error_code e, std::size_t n) {
      ec = e;
      bytes = n;
      done = true;
    });
    const bool cancelled = RunUntil(done, deadline);
    if (!ec) {
      read_end_ = bytes;
      continue;
    }
    if (cancelled && ec == asio::error::operation_aborted) {
      timed_out_ = true;
      return util::Unavailable("timed out after " + std::to_string(timeout.count()) +
                               " ms waiting for a message from " + where_);
    }
    if (ec == asio::error::eof) {
      Shutdown(Clock::now() + options_.close_timeout);  // answer its close_notify
      Abandon();
      return util::Unavailable("the connection was closed by the server");
    }
    Abandon();
    if (IsPeerGone(ec)) {
      return util::Unavailable("the connection was closed by the server (without close_notify)");
    }
    return util::Unavailable("receiving from " + where_ + " failed: " + DescribeTlsError(ec));
  }
}

void ClientConnection::Impl::Shutdown(Clock::time_point deadline) {
  bool done = false;
  stream_.async_shutdown([&](error_code) { done = true; });
  RunUntil(done, deadline);
}

void ClientConnection::Impl::Close() {
  if (!open_) return;
  Shutdown(Clock::now() + options_.close_timeout);
  Abandon();
}

void ClientConnection::Impl::Abandon() {
  open_ = false;
  error_code ignored;
  stream_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.next_layer().close(ignored);
}

Result<std::unique_ptr<ClientConnection>> ClientConnection::Connect(
    const std::string& host, std::uint16_t port, const TlsClientOptions& tls,
    const ClientConnectOptions& options) {
  Result<std::shared_ptr<asio::ssl::context>> context =
      MakeClientContext(tls, store::PosixFileSystem::Instance());
  if (!context.ok()) return context.status();
  return Connect(host, port, std::move(*context), tls, options);
}

Result<std::unique_ptr<ClientConnection>> ClientConnection::Connect(
    const std::string& host, std::uint16_t port, std::shared_ptr<asio::ssl::context> context,
    const TlsClientOptions& tls, const ClientConnectOptions& options) {
  if (!context) return util::InvalidArgument("ClientConnection::Connect: null TLS context");
  auto impl = std::make_unique<Impl>(std::move(context), options);
  BLUETRACE_RETURN_IF_ERROR(impl->Open(host, port, tls));
  return std::unique_ptr<ClientConnection>(new ClientConnection(std::move(impl)));
}

ClientConnection::ClientConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientConnection::~ClientConnection() = default;

Status ClientConnection::Send(const protocol::Message& message) {
  impl_->ForgetTimeout();
  if (!impl_->is_open()) return impl_->Write({});  // the "closed" error
  Result<std::string> frame =
      protocol::EncodeFrame(message, std::numeric_limits<std::uint32_t>::max());
  if (!frame.ok()) return frame.status();
  Status status = impl_->Write(*frame);
  util::WipeString(*frame);
  return status;
}

Status ClientConnection::SendRaw(std::string_view bytes) {
  impl_->ForgetTimeout();
  return impl_->Write(bytes);
}

Result<protocol::Message> ClientConnection::Receive(std::chrono::milliseconds timeout) {
  impl_->ForgetTimeout();
  return impl_->Receive(timeout);
}

Result<protocol::Message> ClientConnection::Call(const protocol::Message& request,
                                                 std::chrono::milliseconds timeout) {
  BLUETRACE_RETURN_IF_ERROR(Send(request));
  return Receive(timeout);
}

void ClientConnection::Close() { impl_->Close(); }
bool ClientConnection::is_open() const { return impl_->is_open(); }
bool ClientConnection::HasInput() const { return impl_->HasInput(); }
bool ClientConnection::timed_out() const { return impl_->timed_out(); }
const std::string& ClientConnection::peer_fingerprint() const { return impl_->fingerprint(); }
std::string ClientConnection::tls_version() const { return impl_->tls_version(); }
std::string ClientConnection::local_endpoint() const { return impl_->local_endpoint(); }

}  // namespace bluetrace::net
