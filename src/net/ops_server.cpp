#include "bluetrace/net/ops_server.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "bluetrace/net/accept_backoff.hpp"

namespace bluetrace::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds kDrainTimeout{1};
constexpr std::size_t kMaxDrainBytes = 64 * 1024;
constexpr const char* kTextType = "text/plain; charset=utf-8";
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

struct Reply {
  http::status status = http::status::ok;
  std::string body;
  const char* content_type = kTextType;
};

// The answer to a parse error, or nothing when the connection just ends (timeout, EOF).
std::optional<Reply> ReplyToReadError(const error_code& ec) {
  if (ec == http::error::header_limit) {
    return Reply{http::status::request_header_fields_too_large, "request header too large\n"};
  }
  if (ec == http::error::body_limit || ec == http::error::unexpected_body) {
    return Reply{http::status::payload_too_large, "a request body is not accepted\n"};
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return Reply{http::status::bad_request, "malformed request\n"};
  }
  return std::nullopt;
}

}  // namespace

class OpsServer::Impl {
 public:
  Impl(OpsServerOptions options, OpsHandlers handlers)
      : options_(std::move(options)), handlers_(std::move(handlers)) {}

  // One request per connection. Every handler runs on the single I/O thread, so a
  // connection needs no strand; its shared_ptr rides in the pending handler.
  class Connection : public std::enable_shared_from_this<Connection> {
   public:
    Connection(Impl& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {
      server_.stats_.connections_open.fetch_add(1, std::memory_order_relaxed);
    }
    ~Connection() { server_.stats_.connections_open.fetch_sub(1, std::memory_order_relaxed); }

    void Start() {
      parser_.emplace();
      parser_->header_limit(server_.options_.max_header_bytes);
      parser_->body_limit(0);
      stream_.expires_after(server_.options_.read_timeout);
      http::async_read(
          stream_, buffer_, *parser_,
          [self = shared_from_this()](error_code ec, std::size_t) { self->OnRead(ec); });
    }

   private:
    void OnRead(error_code ec) {
      if (ec) {
        if (auto reply = ReplyToReadError(ec)) Send(std::move(*reply), /*head=*/false);
        return;
      }
      const auto& req = parser_->get();
      const bool head = req.method() == http::verb::head;
      Send(server_.Route(req.method(), req.target()), head);
    }

    void Send(Reply reply, bool head) {
      auto res = std::make_shared<http::response<http::string_body>>(reply.status, 11);
      res->set(http::field::server, "bluetrace-ops");
      res->set(http::field::content_type, reply.content_type);
      res->set(http::field::cache_control, "no-store");
      if (reply.status == http::status::method_not_allowed)
        res->set(http::field::allow, "GET, HEAD");
      res->keep_alive(false);
      // HEAD: the headers GET would send, Content-Length included, and no body.
      res->content_length(reply.body.size());
      if (!head) res->body() = std::move(reply.body);
      stream_.expires_after(server_.options_.write_timeout);
      http::async_write(stream_, *res,
                        [self = shared_from_this(), res](error_code write_ec, std::size_t) {
                          self->OnWrite(write_ec);
                        });
    }

    void OnWrite(error_code ec) {
      server_.stats_.requests.fetch_add(1, std::memory_order_relaxed);
      if (ec) return;  // the peer left; the socket closes with this object
      error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      Drain();
    }

    // Closing a socket with unread input (the rest of an oversized header, a refused body)
    // sends a reset, which can destroy the answer before the client reads it. So read and
    // discard until the client closes, within a bounded time and byte count.
    void Drain() {
      if (drained_ > kMaxDrainBytes) return;
      stream_.expires_after(kDrainTimeout);
      stream_.async_read_some(buffer_.prepare(4096),
                              [self = shared_from_this()](error_code ec, std::size_t n) {
                                if (ec) return;
                                self->drained_ += n;
                                self->Drain();
                              });
    }

    Impl& server_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    std::size_t drained_ = 0;
  };

  Reply Route(http::verb method, beast::string_view target) const {
    std::string_view path(target.data(), target.size());
    path = path.substr(0, path.find('?'));
    if (path != "/healthz" && path != "/readyz" && path != "/metrics") {
      return Reply{http::status::not_found, "not found; try /healthz, /readyz or /metrics\n"};
    }
    if (method != http::verb::get && method != http::verb::head) {
      return Reply{http::status::method_not_allowed, "only GET and HEAD\n"};
    }
    if (path == "/healthz") return Reply{http::status::ok, "ok\n"};
    if (path == "/readyz") {
      util::Status st = handlers_.ready ? handlers_.ready() : util::Status();
      if (st.ok()) return Reply{http::status::ok, "ready\n"};
      return Reply{http::status::service_unavailable, "not ready: " + st.message() + "\n"};
    }
    return Reply{http::status::ok, handlers_.metrics ? handlers_.metrics() : std::string(),
                 kMetricsType};
  }

  // Opens a listener from options_ when given none.
  util::Status Start(std::optional<Listener> listener) {
    if (started_ || !io_) {
      return util::FailedPrecondition("ops server: Start called twice or after Stop");
    }
    started_ = true;
    if (!listener) {
      util::Result<Listener> opened = Listener::Open(options_.address, options_.port);
      if (opened.status().code() == util::StatusCode::kInvalidArgument) {
        return util::InvalidArgument("ops.metrics_address: not an IP address: \"" +
                                     options_.address + "\"");
      }
      if (!opened.ok()) return opened.status().WithContext("ops listener");
      listener.emplace(std::move(*opened));
    }
    error_code ec;
    const std::string where = listener->EndpointText();
    const tcp protocol = listener->is_ipv6() ? tcp::v6() : tcp::v4();
    const int fd = listener->Release();
    acceptor_.emplace(*io_);
    if (acceptor_->assign(protocol, fd, ec); ec) {
      ::close(fd);
      return util::IoError("ops listener: cannot accept on " + where + ": " + ec.message());
    }
    port_.store(listener->port(), std::memory_order_relaxed);
    if (!acceptor_->local_endpoint(ec).address().is_loopback()) {
      spdlog::warn(
          "ops listener on {} is not a loopback address: /metrics has no "
          "authentication, firewall it",
          where);
    }
    backoff_.emplace("the ops listener " + where);
    retry_timer_.emplace(*io_);
    Accept();
    thread_ = std::thread([this] { io_->run(); });
    return util::Status();
  }

  void Stop() {
    if (!io_) return;
    io_->stop();
    if (thread_.joinable()) thread_.join();
    // Destroying the io_context destroys the pending handlers and with them every
    // connection and its socket.
    retry_timer_.reset();
    acceptor_.reset();
    io_.reset();
  }

  std::uint16_t port() const { return port_.load(std::memory_order_relaxed); }
  const OpsServerStats& stats() const { return stats_; }

 private:
  void Accept() {
    acceptor_->async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        const auto open = stats_.connections_open.load(std::memory_order_relaxed);
        if (open >= static_cast<std::int64_t>(options_.max_connections)) {
          stats_.connections_refused.fetch_add(1, std::memory_order_relaxed);
        } else {
          std::make_shared<Connection>(*this, std::move(socket))->Start();
        }
        return Accept();
      }
      // Out of descriptors, say: not fatal for a metrics endpoint, but no spinning either.
      stats_.accept_failures.fetch_add(1, std::memory_order_relaxed);
      const AcceptBackoff::Decision next = backoff_->OnError(ec, std::chrono::steady_clock::now());
      if (!next.warning.empty()) spdlog::warn("{}", next.warning);
      if (next.pause.count() == 0) return Accept();
      retry_timer_->expires_after(next.pause);
      retry_timer_->async_wait([this](error_code timer_ec) {
        if (!timer_ec) Accept();
      });
    });
  }

  const OpsServerOptions options_;
  const OpsHandlers handlers_;
  OpsServerStats stats_;
  std::unique_ptr<asio::io_context> io_ = std::make_unique<asio::io_context>(1);
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> retry_timer_;  // set by Start(), used on the thread
  std::optional<AcceptBackoff> backoff_;           // set by Start(), used on the thread
  std::thread thread_;
  std::atomic<std::uint16_t> port_{0};
  bool started_ = false;
};

OpsServer::OpsServer(OpsServerOptions options, OpsHandlers handlers)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handlers))) {}

OpsServer::~OpsServer() { Stop(); }

util::Status OpsServer::Start() { return impl_->Start(std::nullopt); }
util::Status OpsServer::Start(Listener listener) { return impl_->Start(std::move(listener)); }
void OpsServer::Stop() { impl_->Stop(); }
std::uint16_t OpsServer::port() const { return impl_->port(); }
const OpsServerStats& OpsServer::stats() const { return impl_->stats(); }

}  // namespace bluetrace::net
