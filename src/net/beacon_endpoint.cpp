#include "bluetrace/net/beacon_endpoint.hpp"

#include <utility>  // before Asio: g++ 12 in C++20 needs it (Asio uses std::exchange)

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <string>
#include <thread>

#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::net {

namespace asio = boost::asio;
using boost::system::error_code;
using udp = asio::ip::udp;

class BeaconEndpoint::Impl {
 public:
  Impl(protocol::TimeZoneMode mode, Handler handler)
      : mode_(mode), handler_(std::move(handler)), socket_(io_) {}

  ~Impl() { Stop(); }

  util::Status Bind(const std::string& address, std::uint16_t port) {
    error_code ec;
    const asio::ip::address ip = asio::ip::make_address(address, ec);
    if (ec) {
      return util::InvalidArgument("UDP bind address \"" + address +
                                   "\" is not an IPv4 or IPv6 address");
    }
    const udp::endpoint where(ip, port);
    socket_.open(where.protocol(), ec);
    if (!ec) socket_.bind(where, ec);
    if (ec) {
      return util::IoError("cannot listen for beacons on UDP " + Describe(where) + ": " +
                           ec.message());
    }
    // A larger kernel buffer rides out bursts; the kernel caps it (net.core.rmem_max).
    socket_.set_option(asio::socket_base::receive_buffer_size(1 << 20), ec);
    port_ = socket_.local_endpoint(ec).port();
    return util::Status::Ok();
  }

  void Start() {
    DoReceive();
    thread_ = std::thread([this] { io_.run(); });
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    io_.stop();
    if (thread_.joinable()) thread_.join();
    error_code ignored;
    socket_.close(ignored);
  }

  std::uint16_t port() const { return port_; }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  std::string last_drop() const {
    util::MutexLock lock(drop_mu_);
    return last_drop_;
  }

  static std::string Describe(const udp::endpoint& e) {
    const std::string a = e.address().to_string();
    return (e.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(e.port());
  }

 private:
  void Drop(std::string why) {
    spdlog::debug("dropped {}", why);
    {
      util::MutexLock lock(drop_mu_);
      last_drop_ = std::move(why);
    }
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }

  void DoReceive() {
    socket_.async_receive_from(asio::buffer(buffer_), sender_,
                               [this](const error_code& ec, std::size_t n) { OnReceive(ec, n); });
  }

  void OnReceive(const error_code& ec, std::size_t n) {
    if (ec == asio::error::operation_aborted || stopped_.load()) return;
    if (ec) {
      // ICMP errors from earlier sends and the like: not fatal for a datagram socket.
      spdlog::debug("beacon socket: {}", ec.message());
      return DoReceive();
    }
    if (n != protocol::kBeaconSize) {
      const std::string size = n >= kDatagramBufferBytes
                                   ? "a datagram of " + std::to_string(n) + " bytes or more"
                                   : "a " + std::to_string(n) + "-byte datagram";
      Drop(size + " from " + Describe(sender_) + " (a beacon is " +
           std::to_string(protocol::kBeaconSize) + " bytes)");
      return DoReceive();
    }
    auto beacon = protocol::ParseBeacon(std::span<const std::uint8_t>(buffer_.data(), n), mode_);
    if (!beacon.ok()) {
      Drop("a malformed beacon from " + Describe(sender_) + ": " + beacon.status().message());
      return DoReceive();
    }
    received_.fetch_add(1, std::memory_order_relaxed);
    if (handler_) handler_(*beacon);
    DoReceive();
  }

  const protocol::TimeZoneMode mode_;
  const Handler handler_;
  asio::io_context io_;
  udp::socket socket_;
  udp::endpoint sender_;
  std::array<std::uint8_t, kDatagramBufferBytes> buffer_{};
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> received_{0};
  mutable util::Mutex drop_mu_;
  std::string last_drop_ GUARDED_BY(drop_mu_);
};

BeaconEndpoint::BeaconEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BeaconEndpoint::~BeaconEndpoint() { Stop(); }

util::Result<std::unique_ptr<BeaconEndpoint>> BeaconEndpoint::Open(
    const BeaconEndpointOptions& options, Handler handler) {
  auto impl = std::make_unique<Impl>(options.time_mode, std::move(handler));
  BLUETRACE_RETURN_IF_ERROR(impl->Bind(options.bind_address, options.port));
  impl->Start();
  return std::unique_ptr<BeaconEndpoint>(new BeaconEndpoint(std::move(impl)));
}

util::Status BeaconEndpoint::Send(const std::string& ip, std::uint16_t port,
                                  std::string_view bytes) {
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(ip, ec);
  if (ec) return util::InvalidArgument("\"" + ip + "\" is not an IPv4 or IPv6 address");
  if (port == 0) return util::InvalidArgument("the destination port must be 1-65535");
  const udp::endpoint to(address, port);
  asio::io_context io;
  udp::socket socket(io);
  socket.open(to.protocol(), ec);
  if (!ec) socket.send_to(asio::buffer(bytes.data(), bytes.size()), to, 0, ec);
  if (ec) {
    return util::IoError("sending a beacon to " + Impl::Describe(to) + ": " + ec.message());
  }
  return util::Status::Ok();
}

void BeaconEndpoint::Stop() {
  if (impl_) impl_->Stop();
}

std::uint16_t BeaconEndpoint::port() const { return impl_->port(); }
std::uint64_t BeaconEndpoint::dropped() const { return impl_->dropped(); }
std::uint64_t BeaconEndpoint::received() const { return impl_->received(); }
std::string BeaconEndpoint::last_drop() const { return impl_->last_drop(); }

}  // namespace bluetrace::net
