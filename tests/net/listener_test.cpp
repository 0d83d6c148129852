#include "bluetrace/net/listener.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bluetrace::net {
namespace {

using util::StatusCode;

TEST(ListenerTest, OpensOnAFreePortAndReportsIt) {
  auto listener = Listener::Open("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  EXPECT_NE(listener->port(), 0);
  EXPECT_FALSE(listener->is_ipv6());
  EXPECT_EQ(listener->EndpointText(), "127.0.0.1:" + std::to_string(listener->port()));
}

TEST(ListenerTest, APortTakenNamesTheEndpointAndTheSystemsReason) {
  auto first = Listener::Open("127.0.0.1", 0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Listener::Open("127.0.0.1", first->port());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_EQ(second.status().message(),
            "cannot bind 127.0.0.1:" + std::to_string(first->port()) + ": Address already in use");
}

TEST(ListenerTest, ANameIsNotAnAddress) {
  auto listener = Listener::Open("localhost", 0);
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(listener.status().message(), "\"localhost\" is not an IP address");
}

TEST(ListenerTest, Ipv6EndpointsAreBracketed) {
  auto listener = Listener::Open("::1", 0);
  if (!listener.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << listener.status().ToString();
  EXPECT_TRUE(listener->is_ipv6());
  EXPECT_EQ(listener->EndpointText(), "[::1]:" + std::to_string(listener->port()));
}

TEST(ListenerTest, ReleaseHandsTheListeningSocketOver) {
  auto listener = Listener::Open("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  const std::uint16_t port = listener->port();
  const int fd = listener->Release();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(listener->Release(), -1);
  int accepting = 0;
  socklen_t len = sizeof accepting;
  ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len), 0);
  EXPECT_EQ(accepting, 1);
  { Listener moved = std::move(*listener); }  // destroying a released listener closes nothing
  EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len), 0);
  close(fd);
  // Closed: the port is free again.
  EXPECT_TRUE(Listener::Open("127.0.0.1", port).ok());
}

}  // namespace
}  // namespace bluetrace::net
