#include "bluetrace/net/console_server.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <thread>

#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;
using tcp = asio::ip::tcp;

class ConsoleServer::Impl {
 public:
  Impl(ConsoleServerOptions options, std::shared_ptr<ssl::context> tls, ConsoleRouter& router)
      : options_(options), tls_(std::move(tls)), router_(router) {}

  // One request per connection, on the single I/O thread (no strand needed); its
  // shared_ptr rides in the pending handler.
  class Connection : public std::enable_shared_from_this<Connection> {
   public:
    Connection(Impl& server, tcp::socket socket)
        : server_(server), tls_(server.CurrentTls()), stream_(std::move(socket), *tls_) {
      ++server_.open_;
      error_code ec;
      peer_ = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec).address().to_string();
    }
    ~Connection() { --server_.open_; }

    void Start() {
      beast::get_lowest_layer(stream_).expires_after(server_.options_.handshake_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
        if (ec) return;  // a scanner, a wrong certificate: just close
        self->Read();
      });
    }

   private:
    void Read() {
      parser_.emplace();
      parser_->header_limit(server_.options_.max_header_bytes);
      parser_->body_limit(server_.options_.max_body_bytes);
      beast::get_lowest_layer(stream_).expires_after(server_.options_.read_timeout);
      http::async_read(
          stream_, buffer_, *parser_,
          [self = shared_from_this()](error_code ec, std::size_t) { self->OnRead(ec); });
    }

    void OnRead(error_code ec) {
      if (ec == http::error::header_limit) return SendError(431, "request header too large");
      if (ec == http::error::body_limit) return SendError(413, "request body too large");
      if (ec) return;  // timeout, EOF, garbage: close
      const auto& req = parser_->get();
      ConsoleRequest request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      request.cookie = std::string(req[http::field::cookie]);
      request.content_type = std::string(req[http::field::content_type]);
      request.body = req.body();
      request.peer = peer_;
      head_ = req.method() == http::verb::head;
      Send(server_.router_.Handle(request));
    }

    void SendError(int status, std::string text) {
      ConsoleResponse r;
      r.status = status;
      r.content_type = "text/plain; charset=utf-8";
      r.body = std::move(text) + "\n";
      Send(std::move(r));
    }

    void Send(ConsoleResponse reply) {
      auto res = std::make_shared<http::response<http::string_body>>(
          static_cast<http::status>(reply.status), 11);
      res->set(http::field::server, "bluetrace-console");
      res->set(http::field::content_type, reply.content_type);
      for (const auto& [k, v] : ConsoleSecurityHeaders()) res->insert(k, v);
      for (const auto& [k, v] : reply.headers) res->insert(k, v);
      res->keep_alive(false);
      res->content_length(reply.body.size());
      if (!head_) res->body() = std::move(reply.body);
      beast::get_lowest_layer(stream_).expires_after(server_.options_.write_timeout);
      http::async_write(stream_, *res,
                        [self = shared_from_this(), res](error_code ec, std::size_t) {
                          if (ec) return;
                          self->Shutdown();
                        });
    }

    void Shutdown() {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(1));
      stream_.async_shutdown([self = shared_from_this()](error_code) {});
    }

    Impl& server_;
    std::shared_ptr<ssl::context> tls_;  // outlives the stream
    ssl::stream<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::string peer_;
    bool head_ = false;
  };

  util::Status Start(Listener listener) {
    if (started_ || !io_) return util::FailedPrecondition("console: Start called twice");
    started_ = true;
    error_code ec;
    const std::string where = listener.EndpointText();
    const tcp protocol = listener.is_ipv6() ? tcp::v6() : tcp::v4();
    const std::uint16_t port = listener.port();
    const int fd = listener.Release();
    acceptor_.emplace(*io_);
    if (acceptor_->assign(protocol, fd, ec); ec) {
      ::close(fd);
      return util::IoError("console listener: cannot accept on " + where + ": " + ec.message());
    }
    port_.store(port);
    if (!acceptor_->local_endpoint(ec).address().is_loopback()) {
      spdlog::warn(
          "console listener on {} is not a loopback address: keep it behind a VPN or a firewall",
          where);
    }
    Accept();
    thread_ = std::thread([this] { io_->run(); });
    return util::Status::Ok();
  }

  void Stop() {
    if (!io_) return;
    io_->stop();
    if (thread_.joinable()) thread_.join();
    acceptor_.reset();
    timer_.reset();
    io_.reset();
  }

  std::uint16_t port() const { return port_.load(); }

  void ReplaceTlsContext(std::shared_ptr<ssl::context> tls) {
    if (!tls) return;
    util::MutexLock lock(tls_mu_);
    tls_ = std::move(tls);
  }

  std::shared_ptr<ssl::context> CurrentTls() {
    util::MutexLock lock(tls_mu_);
    return tls_;
  }

 private:
  void Accept() {
    acceptor_->async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec && open_ < static_cast<std::int64_t>(options_.max_connections)) {
        std::make_shared<Connection>(*this, std::move(socket))->Start();
      }
      if (ec) {
        // Out of descriptors, say: pause a little instead of spinning.
        timer_.emplace(*io_);
        timer_->expires_after(std::chrono::milliseconds(200));
        timer_->async_wait([this](error_code timer_ec) {
          if (!timer_ec) Accept();
        });
        return;
      }
      Accept();
    });
  }

  const ConsoleServerOptions options_;
  util::Mutex tls_mu_;  // the context is replaced from the controlling thread (SIGHUP)
  std::shared_ptr<ssl::context> tls_ GUARDED_BY(tls_mu_);
  ConsoleRouter& router_;
  std::unique_ptr<asio::io_context> io_ = std::make_unique<asio::io_context>(1);
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> timer_;
  std::thread thread_;
  std::atomic<std::uint16_t> port_{0};
  std::int64_t open_ = 0;  // on the I/O thread only
  bool started_ = false;
};

ConsoleServer::ConsoleServer(ConsoleServerOptions options, std::shared_ptr<ssl::context> tls,
                             ConsoleRouter& router)
    : impl_(std::make_unique<Impl>(options, std::move(tls), router)) {}
ConsoleServer::~ConsoleServer() { Stop(); }
util::Status ConsoleServer::Start(Listener listener) { return impl_->Start(std::move(listener)); }
void ConsoleServer::Stop() { impl_->Stop(); }
std::uint16_t ConsoleServer::port() const { return impl_->port(); }
void ConsoleServer::ReplaceTlsContext(std::shared_ptr<ssl::context> tls) {
  impl_->ReplaceTlsContext(std::move(tls));
}

}  // namespace bluetrace::net
