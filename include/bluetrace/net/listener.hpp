// Listener: a TCP socket bound to an address and port and listening, before a server
// accepts on it. The kernel queues connections in its backlog meanwhile. bluetrace-server
// opens its listeners first, so that a port already taken (or an address that is not
// local) stops start-up before anything is written to disk, such as a fresh self-signed
// certificate; Server::Start and OpsServer::Start then take the listener over.
//
// SO_REUSEADDR is set (a restart must not wait for the previous process's connections in
// TIME_WAIT) and the descriptor is close-on-exec. Move-only; the destructor closes a
// listener nobody took. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "bluetrace/util/status.hpp"

namespace bluetrace::net {

class Listener {
 public:
  // Opens, binds and listens. Errors: kInvalidArgument when `address` is not an IPv4 or
  // IPv6 literal; kIoError naming the endpoint and the system's reason, e.g. "cannot bind
  // 127.0.0.1:4000: Address already in use" or "cannot bind 192.0.2.1:4000: Cannot assign
  // requested address".
  static util::Result<Listener> Open(const std::string& address, std::uint16_t port);

  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&& other) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();

  // The bound port (the real one when 0 was asked for).
  std::uint16_t port() const { return port_; }
  bool is_ipv6() const { return ipv6_; }
  // "127.0.0.1:4000" or "[::1]:4000", with the bound port.
  std::string EndpointText() const;

  // Hands the descriptor over (the caller closes it from now on); -1 once released.
  int Release();

 private:
  Listener(int fd, std::string address, std::uint16_t port, bool ipv6)
      : fd_(fd), address_(std::move(address)), port_(port), ipv6_(ipv6) {}

  int fd_ = -1;
  std::string address_;
  std::uint16_t port_ = 0;
  bool ipv6_ = false;
};

// "127.0.0.1:4000", or "[::1]:4000" for an IPv6 address.
std::string EndpointText(const std::string& address, std::uint16_t port);

}  // namespace bluetrace::net
