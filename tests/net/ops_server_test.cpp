// Tests of the ops HTTP listener over real sockets on 127.0.0.1 with a fake metrics
// provider: routes, methods, limits, deadlines and start/stop.
#include "bluetrace/net/ops_server.hpp"

#include <gtest/gtest.h>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <string>

#include "support/http_get.hpp"
#include "support/no_free_descriptors.hpp"
#include "support/server_process.hpp"

namespace bluetrace::net {
namespace {

using namespace std::chrono_literals;
using test::HttpGet;
using test::SendHttp;

constexpr char kFakeMetrics[] =
    "# HELP fake_total A fake.\n# TYPE fake_total counter\nfake_total 7\n";

class OpsServerTest : public ::testing::Test {
 protected:
  void StartServer(OpsServerOptions options = {}) {
    options.port = 0;
    OpsHandlers handlers;
    handlers.ready = [this] { return ready_ ? util::Status() : util::Unavailable("store failed"); };
    handlers.metrics = [this] {
      ++scrapes_;
      return std::string(kFakeMetrics);
    };
    server_ = std::make_unique<OpsServer>(options, handlers);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }

  std::atomic<bool> ready_{true};
  std::atomic<int> scrapes_{0};
  std::unique_ptr<OpsServer> server_;
};

TEST_F(OpsServerTest, HealthReadinessAndMetrics) {
  StartServer();
  auto health = HttpGet(server_->port(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.raw;
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_NE(health.headers.find("Connection: close"), std::string::npos) << health.headers;

  auto ready = HttpGet(server_->port(), "/readyz");
  EXPECT_EQ(ready.status, 200);
  ready_ = false;
  ready = HttpGet(server_->port(), "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "not ready: store failed\n");

  auto metrics = HttpGet(server_->port(), "/metrics?name[]=x");  // the query is ignored
  EXPECT_EQ(metrics.status, 200) << metrics.raw;
  EXPECT_NE(metrics.headers.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
            std::string::npos)
      << metrics.headers;
  EXPECT_EQ(metrics.body, kFakeMetrics);
  EXPECT_EQ(scrapes_.load(), 1);
  EXPECT_EQ(server_->stats().requests.load(), 4u);
}

TEST_F(OpsServerTest, HeadSendsTheHeadersOfGetWithoutTheBody) {
  StartServer();
  auto head = HttpGet(server_->port(), "/metrics", "HEAD");
  EXPECT_EQ(head.status, 200) << head.raw;
  EXPECT_NE(head.headers.find("Content-Length: " + std::to_string(sizeof kFakeMetrics - 1)),
            std::string::npos)
      << head.headers;
  EXPECT_EQ(head.body, "");
}

TEST_F(OpsServerTest, UnknownPathsAre404AndOtherMethods405) {
  StartServer();
  EXPECT_EQ(HttpGet(server_->port(), "/").status, 404);
  EXPECT_EQ(HttpGet(server_->port(), "/metrics/extra").status, 404);
  auto post = HttpGet(server_->port(), "/metrics", "POST");
  EXPECT_EQ(post.status, 405) << post.raw;
  EXPECT_NE(post.headers.find("Allow: GET, HEAD"), std::string::npos) << post.headers;
  EXPECT_EQ(HttpGet(server_->port(), "/healthz", "DELETE").status, 405);
  EXPECT_EQ(scrapes_.load(), 0);
}

TEST_F(OpsServerTest, OversizedHeadersBodiesAndGarbageAreRefused) {
  OpsServerOptions options;
  options.max_header_bytes = 1024;
  StartServer(options);
  auto big = SendHttp(server_->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " +
                                           std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(big.status, 431) << big.raw;
  auto body = SendHttp(server_->port(),
                       "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(body.status, 413) << body.raw;
  auto garbage = SendHttp(server_->port(), "\x01\x02 nonsense\r\n\r\n");
  EXPECT_EQ(garbage.status, 400) << garbage.raw;
  EXPECT_EQ(scrapes_.load(), 0);
  // The server still serves afterwards.
  EXPECT_EQ(HttpGet(server_->port(), "/healthz").status, 200);
}

TEST_F(OpsServerTest, ASilentClientIsClosedAtTheReadDeadline) {
  OpsServerOptions options;
  options.read_timeout = 200ms;
  StartServer(options);
  const int fd = test::ConnectLoopback(server_->port(), 10);
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(test::ReadAll(fd), "");  // closed without an answer, well before the 10 s
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ::close(fd);
  EXPECT_TRUE(test::WaitFor([&] { return server_->stats().connections_open.load() == 0; }));
}

TEST_F(OpsServerTest, ConnectionsOverTheLimitAreClosedAndOthersStillServed) {
  OpsServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  const int a = test::ConnectLoopback(server_->port());
  const int b = test::ConnectLoopback(server_->port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ASSERT_TRUE(test::WaitFor([&] { return server_->stats().connections_open.load() == 2; }));
  EXPECT_EQ(HttpGet(server_->port(), "/healthz").status, 0);  // closed on accept
  EXPECT_EQ(server_->stats().connections_refused.load(), 1u);
  ::close(a);
  ASSERT_TRUE(test::WaitFor([&] { return server_->stats().connections_open.load() == 1; }));
  EXPECT_EQ(HttpGet(server_->port(), "/healthz").status, 200);
  ::close(b);
}

TEST_F(OpsServerTest, StartErrorsAndStop) {
  OpsServer bad_address(OpsServerOptions{"localhost", 0}, {});
  EXPECT_EQ(bad_address.Start().code(), util::StatusCode::kInvalidArgument);

  StartServer();
  OpsServer same_port(OpsServerOptions{"127.0.0.1", server_->port()}, {});
  const util::Status st = same_port.Start();
  EXPECT_EQ(st.code(), util::StatusCode::kIoError);
  EXPECT_NE(st.message().find("127.0.0.1:" + std::to_string(server_->port())), std::string::npos)
      << st.ToString();
  EXPECT_EQ(server_->Start().code(), util::StatusCode::kFailedPrecondition);

  const int idle = test::ConnectLoopback(server_->port());
  ASSERT_GE(idle, 0);
  const std::uint16_t port = server_->port();
  server_->Stop();
  server_->Stop();                     // idempotent
  EXPECT_EQ(test::ReadAll(idle), "");  // open connections are closed too
  ::close(idle);
  EXPECT_EQ(test::ConnectLoopback(port), -1);

  OpsServer stopped_first(OpsServerOptions{"127.0.0.1", 0}, {});
  stopped_first.Stop();
  EXPECT_EQ(stopped_first.Start().code(), util::StatusCode::kFailedPrecondition);
}

// Out of descriptors, accept fails with EMFILE: the listener pauses between attempts
// instead of spinning, warns once rather than once per attempt (or never), and answers the
// waiting connection once descriptors are free again.
TEST_F(OpsServerTest, AcceptOutOfDescriptorsPausesWarnsOnceAndRecovers) {
  if (!test::kNoFreeDescriptorsInThisBuild) GTEST_SKIP() << "sanitizers need descriptors too";
  auto log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
  spdlog::default_logger()->sinks().push_back(log);
  StartServer();
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  timeval tv{10, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  {
    test::NoFreeDescriptors exhausted;
    ASSERT_TRUE(exhausted.ok());
    ASSERT_EQ(::connect(client, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_TRUE(test::WaitFor([&] { return server_->stats().accept_failures.load() >= 3; }));
  }
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(::send(client, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  EXPECT_EQ(test::ParseHttpReply(test::ReadAll(client)).status, 200);
  ::close(client);
  const std::uint16_t port = server_->port();
  server_->Stop();
  spdlog::default_logger()->sinks().pop_back();

  int warnings = 0;
  for (const std::string& line : log->last_formatted()) {
    if (line.find("accept failed") == std::string::npos) continue;
    ++warnings;
    EXPECT_NE(line.find("accept failed on the ops listener 127.0.0.1:" + std::to_string(port) +
                        ": Too many open files; pausing accepts for 100 ms"),
              std::string::npos)
        << line;
  }
  EXPECT_EQ(warnings, 1) << server_->stats().accept_failures.load() << " failed accepts";
}

}  // namespace
}  // namespace bluetrace::net
