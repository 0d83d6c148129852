// End-to-end test of bluetrace-server under a low open-file limit: the real binary runs
// under `prlimit --nofile=150:150` with limits.max_connections = 1024, so connections would
// exhaust its descriptors long before the connection limit. The server must clamp
// max_connections at start (and say so), refuse connections beyond the clamp at once, and
// keep enough descriptors to serve a logged-in user and its ops listener. Loopback only;
// the number of connections and every wait are bounded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/protocol/upload.hpp"
#include "bluetrace/protocol/wire.hpp"
#include "bluetrace/store/file_system.hpp"
#include "support/http_get.hpp"
#include "support/prometheus_text.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace {
namespace {

using namespace std::chrono_literals;
using namespace protocol;  // NOLINT
using test::WriteFileForTest;

constexpr auto kWait = 20s;
constexpr const char* kPrlimit = "/usr/bin/prlimit";  // util-linux
constexpr int kFileLimit = 150;                       // soft and hard RLIMIT_NOFILE
// Plain TCP connections opened beyond the descriptor limit itself, so that without a clamp
// the server runs out of descriptors.
constexpr int kFillers = kFileLimit + 20;

class ServerLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::CopyOriginalSample(dir_.path(), "credentials.txt");
    // Connection rate and per-address limits out of the way: every connection comes from
    // 127.0.0.1. Long handshake and login deadlines keep the idle connections open.
    WriteFileForTest(dir_.File("server.toml"),
                     "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n"
                     "[server]\nbind_address = \"127.0.0.1\"\nport = 0\nlog_level = \"info\"\n"
                     "[limits]\nmax_connections = 1024\nmax_connections_per_address = 1024\n"
                     "connections_per_second = 10000.0\nconnections_burst = 10000.0\n"
                     "[timeouts]\nhandshake = 300\nlogin = 300\n"
                     "[ops]\nmetrics_address = \"127.0.0.1:0\"\n");
  }

  // The number following `marker` in `text`, or -1.
  static long NumberAfter(const std::string& text, const std::string& marker) {
    const auto at = text.find(marker);
    if (at == std::string::npos) return -1;
    return std::stol(text.substr(at + marker.size()));
  }

  // The samples of one /metrics scrape; empty when the ops listener did not answer.
  static std::map<std::string, double> Scrape(std::uint16_t ops) {
    auto reply = test::HttpGet(ops, "/metrics");
    if (reply.status != 200) return {};
    auto parsed = test::ParsePrometheusText(reply.body);
    return parsed.ok() ? *parsed : std::map<std::string, double>{};
  }

  Message Call(net::ClientConnection& c, Message m) {
    auto r = c.Call(std::move(m), kWait);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : Message(Error{});
  }

  test::TempDir dir_;
};

TEST_F(ServerLimitsTest, ALowFileLimitClampsMaxConnectionsAndALoggedInUserIsStillServed) {
  ASSERT_EQ(access(kPrlimit, X_OK), 0) << "this test needs prlimit (util-linux)";
  test::ServerProcess server(
      kPrlimit, dir_.path(),
      {"--nofile=" + std::to_string(kFileLimit) + ":" + std::to_string(kFileLimit),
       test::ProgramPath("bluetrace-server"), "--config", "server.toml", "--state-dir", dir_.path(),
       "--ready-file", "ready"});
  const std::uint16_t port = server.WaitReady(dir_.File("ready"), kWait);
  ASSERT_NE(port, 0) << server.Stderr();
  const auto ops =
      static_cast<std::uint16_t>(NumberAfter(server.Stderr(), "ops listener on 127.0.0.1 port "));
  ASSERT_NE(ops, 0) << server.Stderr();

  // The clamp is logged with the key, the configured value, the limit and the value used.
  const std::string start_log = server.Stderr();
  EXPECT_NE(start_log.find("limits.max_connections = 1024 does not fit"), std::string::npos)
      << start_log;
  EXPECT_NE(start_log.find("open-file limit of " + std::to_string(kFileLimit)), std::string::npos)
      << start_log;
  long used = NumberAfter(start_log, "using max_connections = ");
  EXPECT_GT(used, 1) << start_log;
  EXPECT_LT(used, kFileLimit) << start_log;
  if (used <= 1 || used >= kFileLimit) used = kFileLimit;  // go on, to show the symptoms

  // A user logs in first.
  auto c = net::ClientConnection::Connect(
      "127.0.0.1", port, net::TlsClientOptions{dir_.File("server.crt"), "127.0.0.1", "1.3"}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(std::holds_alternative<HelloOk>(Call(**c, Hello{1, 1, "test"})));
  ASSERT_TRUE(std::holds_alternative<Welcome>(
      Call(**c, Login{"+61410888888", util::SecretString("comp3331")})));

  // Then more idle connections than the server has descriptors.
  std::vector<int> fillers;
  for (int i = 0; i < kFillers; ++i) {
    const int fd = test::ConnectLoopback(port, 5);
    if (fd >= 0) fillers.push_back(fd);
  }
  EXPECT_EQ(fillers.size(), static_cast<std::size_t>(kFillers));

  // The server holds `used` connections (the user's and used - 1 fillers) and refused the
  // rest on accept.
  const double refused = static_cast<double>(fillers.size()) - static_cast<double>(used - 1);
  std::map<std::string, double> m;
  EXPECT_TRUE(test::WaitFor(
      [&] {
        m = Scrape(ops);
        return m["bluetrace_connections_open"] == static_cast<double>(used) &&
               m["bluetrace_rate_limited_total{limit=\"connections_total\"}"] == refused;
      },
      kWait))
      << "open " << m["bluetrace_connections_open"] << ", refused "
      << m["bluetrace_rate_limited_total{limit=\"connections_total\"}"] << ", expected " << used
      << " and " << refused << "\n"
      << server.Stderr();

  // A new TLS connection beyond the limit is closed at once, not left to time out.
  net::ClientConnectOptions quick;
  quick.timeout = 5s;
  auto extra = net::ClientConnection::Connect(
      "127.0.0.1", port, net::TlsClientOptions{dir_.File("server.crt"), "127.0.0.1", "1.3"}, quick);
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.status().message().find("timed out"), std::string::npos)
      << extra.status().ToString();

  // The logged-in user still gets a TempID and has an upload checked into a report.
  auto tempid = Call(**c, TempIdRequest{});
  EXPECT_TRUE(std::holds_alternative<TempIdResponse>(tempid)) << MessageName(TypeOf(tempid));
  auto parts = SplitUpload("12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n",
                           MaxUploadChunkBytes(kDefaultMaxFrameBytes));
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) ASSERT_TRUE((*c)->Send(parts[i]).ok());
  auto ack = Call(**c, std::move(parts.back()));
  EXPECT_TRUE(std::holds_alternative<UploadAck>(ack)) << MessageName(TypeOf(ack));
  auto reports = store::PosixFileSystem::Instance().ListDir(dir_.File("reports"));
  EXPECT_TRUE(reports.ok() && reports->size() == 1u) << server.Stderr();

  // The ops listener answers.
  EXPECT_EQ(test::HttpGet(ops, "/readyz").status, 200);
  EXPECT_EQ(test::HttpGet(ops, "/metrics").status, 200);

  // Descriptors never ran out.
  EXPECT_EQ(server.Stderr().find("accept failed"), std::string::npos) << server.Stderr();

  for (int fd : fillers) close(fd);
  c->reset();
  EXPECT_EQ(server.Stop(kWait), 0) << server.Stderr();
}

}  // namespace
}  // namespace bluetrace
