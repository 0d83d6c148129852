#include "bluetrace/net/listener.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

namespace bluetrace::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Closes `fd` and returns "cannot <what> <where>: <strerror(errno)>"; errno is read first.
util::Status Failed(int fd, const char* what, const std::string& where) {
  const int err = errno;
  if (fd >= 0) ::close(fd);
  return util::IoError(std::string("cannot ") + what + " " + where + ": " + std::strerror(err));
}

}  // namespace

std::string EndpointText(const std::string& address, std::uint16_t port) {
  return address.find(':') == std::string::npos ? address + ":" + std::to_string(port)
                                                : "[" + address + "]:" + std::to_string(port);
}

util::Result<Listener> Listener::Open(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(address, ec);
  if (ec) return util::InvalidArgument("\"" + address + "\" is not an IP address");
  const tcp::endpoint endpoint(ip, port);
  const std::string where = net::EndpointText(address, port);
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Failed(fd, "open a socket for", where);
  const int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) {
    return Failed(fd, "set SO_REUSEADDR on", where);
  }
  if (::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
    return Failed(fd, "bind", where);
  }
  if (::listen(fd, SOMAXCONN) != 0) return Failed(fd, "listen on", where);
  tcp::endpoint bound;
  socklen_t size = static_cast<socklen_t>(bound.capacity());
  if (::getsockname(fd, bound.data(), &size) != 0) return Failed(fd, "read the port of", where);
  bound.resize(size);
  return Listener(fd, address, bound.port(), ip.is_v6());
}

Listener::Listener(Listener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      address_(std::move(other.address_)),
      port_(other.port_),
      ipv6_(other.ipv6_) {}

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    address_ = std::move(other.address_);
    port_ = other.port_;
    ipv6_ = other.ipv6_;
  }
  return *this;
}

Listener::~Listener() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Listener::EndpointText() const { return net::EndpointText(address_, port_); }

int Listener::Release() { return std::exchange(fd_, -1); }

}  // namespace bluetrace::net
