#include "bluetrace/util/ip_literal.hpp"

#include <arpa/inet.h>

#include <array>

namespace bluetrace::util {

bool IsIpLiteral(const std::string& s) {
  // inet_pton reads a C string: "127.0.0.1\0junk" must not pass as its prefix.
  if (s.find('\0') != std::string::npos) return false;
  std::array<unsigned char, 16> buf{};
  return inet_pton(AF_INET, s.c_str(), buf.data()) == 1 ||
         inet_pton(AF_INET6, s.c_str(), buf.data()) == 1;
}

}  // namespace bluetrace::util
