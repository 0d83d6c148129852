#include "bluetrace/net/server.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <exception>
#include <future>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bluetrace/net/accept_backoff.hpp"
#include "server_session.hpp"

namespace bluetrace::net {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// After the grace period, aborted sessions close within one strand turn; this only bounds
// a wait that should never be reached.
constexpr std::chrono::seconds kAbortWait{10};

std::string AddressText(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

}  // namespace

ServerOptions ServerOptionsFromConfig(const service::ServerConfig& config) {
  using std::chrono::seconds;
  ServerOptions options;
  options.bind_address = config.bind_address;
  options.port = config.port;
  options.io_threads = config.io_threads;
  options.max_connections = config.max_connections;
  options.max_connections_per_address = config.max_connections_per_address;
  options.max_frame_bytes = config.max_frame_bytes;
  options.max_pending_write_bytes = config.max_pending_write_bytes;
  options.handshake_timeout = seconds(config.handshake_timeout);
  options.login_timeout = seconds(config.login_timeout);
  options.idle_timeout = seconds(config.idle_timeout);
  options.write_timeout = seconds(config.write_timeout);
  return options;
}

class Server::Impl final : public detail::SessionOwner {
 public:
  Impl(ServerOptions options, std::shared_ptr<asio::ssl::context> tls,
       service::SessionFactory& factory)
      : options_(std::move(options)),
        factory_(factory),
        io_(static_cast<int>(std::max<std::uint32_t>(options_.io_threads, 1))),
        acceptor_strand_(asio::make_strand(io_)),
        acceptor_(acceptor_strand_),
        retry_timer_(acceptor_strand_),
        gate_(std::make_shared<detail::ReplyGate>()),
        tls_(std::move(tls)) {}

  ~Impl() override { Stop(std::chrono::milliseconds(0)); }

  // Opens a listener from options_ when given none.
  util::Status Start(std::optional<Listener> listener);
  void Stop(std::chrono::milliseconds grace);

  void ReplaceTlsContext(std::shared_ptr<asio::ssl::context> tls) {
    if (!tls) return;
    util::MutexLock lock(mu_);
    tls_ = std::move(tls);
  }

  std::uint16_t port() const { return port_.load(std::memory_order_relaxed); }
  const ServerStats& stats() const { return stats_; }

  void SessionFinished(std::uint64_t id, const std::string& peer_address) override;

 private:
  enum class State { kNew, kRunning, kStopped };
  using SessionMap = std::unordered_map<std::uint64_t, std::shared_ptr<detail::ServerSession>>;

  void RunThread();
  void DoAccept();
  void OnAccept(error_code ec, tcp::socket socket);
  void Admit(tcp::socket socket);
  std::vector<std::shared_ptr<detail::ServerSession>> Snapshot();
  // Waits until no session is registered or `until`; true when none is.
  bool WaitForSessions(std::chrono::steady_clock::time_point until);

  const ServerOptions options_;
  service::SessionFactory& factory_;
  ServerStats stats_;
  std::atomic<std::uint16_t> port_{0};

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::strand<asio::io_context::executor_type> acceptor_strand_;
  tcp::acceptor acceptor_;  // used on acceptor_strand_ only, once running
  asio::steady_timer retry_timer_;
  std::optional<AcceptBackoff> backoff_;  // set by Start(), used on acceptor_strand_
  std::vector<std::thread> threads_;      // the controlling thread only
  std::shared_ptr<detail::ReplyGate> gate_;
  detail::ServerSession::Context session_context_{&options_, &stats_, this, gate_};

  util::Mutex mu_;
  std::condition_variable_any sessions_changed_;
  State state_ GUARDED_BY(mu_) = State::kNew;
  std::shared_ptr<asio::ssl::context> tls_ GUARDED_BY(mu_);
  SessionMap sessions_ GUARDED_BY(mu_);
  std::unordered_map<std::string, std::uint32_t> per_address_ GUARDED_BY(mu_);
  std::uint64_t next_id_ GUARDED_BY(mu_) = 1;
};

util::Status Server::Impl::Start(std::optional<Listener> listener) {
  {
    util::MutexLock lock(mu_);
    if (state_ != State::kNew) return util::FailedPrecondition("the server was already started");
  }
  if (!listener) {
    util::Result<Listener> opened = Listener::Open(options_.bind_address, options_.port);
    if (opened.status().code() == util::StatusCode::kInvalidArgument) {
      return util::InvalidArgument("bind address " + opened.status().message());
    }
    if (!opened.ok()) return opened.status();
    listener.emplace(std::move(*opened));
  }
  error_code ec;
  const std::string where = listener->EndpointText();
  const tcp protocol = listener->is_ipv6() ? tcp::v6() : tcp::v4();
  const int fd = listener->Release();
  if (acceptor_.assign(protocol, fd, ec); ec) {
    ::close(fd);
    return util::IoError("cannot accept on " + where + ": " + ec.message());
  }
  backoff_.emplace(where);
  port_.store(listener->port(), std::memory_order_relaxed);
  {
    util::MutexLock lock(mu_);
    state_ = State::kRunning;
  }
  spdlog::debug("listening on {} with {} I/O threads", where, std::max(options_.io_threads, 1u));
  work_.emplace(io_.get_executor());
  const std::uint32_t n = std::max<std::uint32_t>(options_.io_threads, 1);
  for (std::uint32_t i = 0; i < n; ++i) threads_.emplace_back([this] { RunThread(); });
  asio::post(acceptor_strand_, [this] { DoAccept(); });
  return util::Status::Ok();
}

void Server::Impl::RunThread() {
  for (;;) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      // Handlers report errors as values; this only keeps a bug from ending the process.
      spdlog::error("unexpected exception on an I/O thread: {}", e.what());
    }
  }
}

void Server::Impl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Server::Impl::OnAccept(error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open() || ec == asio::error::operation_aborted) return;  // stopping
  if (ec) {
    stats_.accept_failures.fetch_add(1, std::memory_order_relaxed);
    const AcceptBackoff::Decision next = backoff_->OnError(ec, std::chrono::steady_clock::now());
    if (!next.warning.empty()) spdlog::warn("{}", next.warning);
    if (next.pause.count() == 0) return DoAccept();
    retry_timer_.expires_after(next.pause);
    retry_timer_.async_wait([this](error_code timer_ec) {
      if (!timer_ec && acceptor_.is_open()) DoAccept();
    });
    return;
  }
  Admit(std::move(socket));
  DoAccept();
}

// Runs on the acceptor's strand, one connection at a time, so the counts checked here can
// only go down before the session is registered.
void Server::Impl::Admit(tcp::socket socket) {
  error_code ec;
  // Small request/reply frames: without TCP_NODELAY, Nagle's algorithm meets the peer's
  // delayed ACK and each exchange can stall ~40 ms.
  socket.set_option(tcp::no_delay(true), ec);
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone; the socket closes as it goes out of scope
  const std::string peer = AddressText(remote.address());
  const auto refuse = [&](std::atomic<std::uint64_t>& counter, const char* why) {
    counter.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("connection from {} refused: {}", peer, why);
    socket.close(ec);
  };
  {
    util::MutexLock lock(mu_);
    if (state_ != State::kRunning) return;
    if (sessions_.size() >= options_.max_connections) {
      return refuse(stats_.refused_total_limit, "max_connections reached");
    }
    const auto it = per_address_.find(peer);
    if (it != per_address_.end() && it->second >= options_.max_connections_per_address) {
      return refuse(stats_.refused_address_limit, "max_connections_per_address reached");
    }
  }
  if (!factory_.AdmitConnection(peer)) return refuse(stats_.refused_rate, "connection rate");
  std::unique_ptr<service::Session> app = factory_.NewSession(peer);
  if (!app) {
    spdlog::error("connection from {} refused: the service made no session", peer);
    socket.close(ec);
    return;
  }
  std::shared_ptr<detail::ServerSession> session;
  {
    util::MutexLock lock(mu_);
    if (state_ == State::kRunning) {
      const std::uint64_t id = next_id_++;
      session = std::make_shared<detail::ServerSession>(std::move(socket), tls_, std::move(app),
                                                        peer, id, session_context_);
      sessions_.emplace(id, session);
      ++per_address_[peer];
    }
  }
  if (!session) {
    app->Closed();  // stopped meanwhile: every Session made is closed exactly once
    return;
  }
  stats_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
  stats_.connections_open.fetch_add(1, std::memory_order_relaxed);
  session->Start();
}

void Server::Impl::SessionFinished(std::uint64_t id, const std::string& peer_address) {
  std::shared_ptr<detail::ServerSession> finished;  // released after the lock
  {
    util::MutexLock lock(mu_);
    const auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    finished = std::move(it->second);
    sessions_.erase(it);
    const auto count = per_address_.find(peer_address);
    if (count != per_address_.end() && --count->second == 0) per_address_.erase(count);
    stats_.connections_open.fetch_sub(1, std::memory_order_relaxed);
  }
  sessions_changed_.notify_all();
}

std::vector<std::shared_ptr<detail::ServerSession>> Server::Impl::Snapshot() {
  util::MutexLock lock(mu_);
  std::vector<std::shared_ptr<detail::ServerSession>> all;
  all.reserve(sessions_.size());
  for (const auto& [id, session] : sessions_) all.push_back(session);
  return all;
}

bool Server::Impl::WaitForSessions(std::chrono::steady_clock::time_point until) {
  std::unique_lock<util::Mutex> lock(mu_);
  return sessions_changed_.wait_until(
      lock, until, [this]() NO_THREAD_SAFETY_ANALYSIS { return sessions_.empty(); });
}

void Server::Impl::Stop(std::chrono::milliseconds grace) {
  {
    util::MutexLock lock(mu_);
    const State previous = state_;
    state_ = State::kStopped;
    if (previous != State::kRunning) return;
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  // Closed on its strand, and waited for, so that the port stops accepting before Stop()
  // goes on.
  std::promise<void> closed;
  asio::post(acceptor_strand_, [this, &closed] {
    error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  std::vector<std::shared_ptr<detail::ServerSession>> open = Snapshot();
  spdlog::info("stopping: {} open connections, {} ms grace", open.size(), grace.count());
  for (const auto& session : open) session->RequestStop();
  open.clear();
  if (!WaitForSessions(deadline)) {
    open = Snapshot();
    spdlog::info("closing {} connections still open after the grace period", open.size());
    for (const auto& session : open) session->Abort();
    open.clear();
    if (!WaitForSessions(std::chrono::steady_clock::now() + kAbortWait)) {
      spdlog::error("connections still open after aborting them; stopping anyway");
    }
  }
  work_.reset();
  io_.stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  gate_->Close();
  spdlog::debug("transport stopped");
}

Server::Server(ServerOptions options, std::shared_ptr<asio::ssl::context> tls,
               service::SessionFactory& factory)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(tls), factory)) {}
Server::~Server() = default;
util::Status Server::Start() { return impl_->Start(std::nullopt); }
util::Status Server::Start(Listener listener) { return impl_->Start(std::move(listener)); }
void Server::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }
void Server::ReplaceTlsContext(std::shared_ptr<asio::ssl::context> tls) {
  impl_->ReplaceTlsContext(std::move(tls));
}
std::uint16_t Server::port() const { return impl_->port(); }
const ServerStats& Server::stats() const { return impl_->stats(); }

}  // namespace bluetrace::net
