// Raw HTTP/1.1 over a plain TCP socket on 127.0.0.1, for tests of the ops listener:
// sends exactly the bytes given and reads the answer until the server closes (bounded by
// a receive timeout), so tests can send malformed and oversized requests too.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace bluetrace::test {

struct HttpReply {
  int status = 0;       // 0: no status line (connection refused, closed or timed out)
  std::string headers;  // the status line and header lines
  std::string body;
  std::string raw;
};

inline HttpReply ParseHttpReply(std::string raw) {
  HttpReply r;
  r.raw = std::move(raw);
  const auto end = r.raw.find("\r\n\r\n");
  if (r.raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::stoi(r.raw.substr(9, 3));
  r.headers = r.raw.substr(0, end);
  r.body = r.raw.substr(end + 4);
  return r;
}

// A connected socket to 127.0.0.1:`port` with a receive timeout, or -1.
inline int ConnectLoopback(std::uint16_t port, int timeout_seconds = 10) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{timeout_seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until EOF, an error or the receive timeout.
inline std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

inline HttpReply SendHttp(std::uint16_t port, const std::string& request) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return {};
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  HttpReply r = ParseHttpReply(ReadAll(fd));
  ::close(fd);
  return r;
}

inline HttpReply HttpGet(std::uint16_t port, const std::string& path,
                         const std::string& method = "GET") {
  return SendHttp(port, method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

}  // namespace bluetrace::test
