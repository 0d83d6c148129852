#include "bluetrace/util/ip_literal.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bluetrace::util {
namespace {

TEST(IsIpLiteralTest, AcceptsIpv4AndIpv6Literals) {
  for (const char* ip :
       {"127.0.0.1", "0.0.0.0", "255.255.255.255", "10.1.2.3", "::1", "::", "fe80::1",
        "2001:db8::8a2e:370:7334", "::ffff:192.0.2.1", "2001:0db8:0000:0000:0000:0000:0000:0001"}) {
    EXPECT_TRUE(IsIpLiteral(ip)) << ip;
  }
}

TEST(IsIpLiteralTest, RefusesNamesAndNearMisses) {
  for (const char* s : {"", "localhost", "example.com", "1.2.3", "1.2.3.4.5", "256.0.0.1",
                        "01.2.3.4", "1.2.3.4 ", " 1.2.3.4", "[::1]", "fe80::1%eth0",
                        ":::", "1::2::3", "::1/128", "127.0.0.1:8080", "0x7f.0.0.1"}) {
    EXPECT_FALSE(IsIpLiteral(s)) << '"' << s << '"';
  }
}

TEST(IsIpLiteralTest, RefusesAnEmbeddedNul) {
  EXPECT_FALSE(IsIpLiteral(std::string("127.0.0.1\0evil", 14)));
  EXPECT_FALSE(IsIpLiteral(std::string("::1\0", 4)));
}

}  // namespace
}  // namespace bluetrace::util
