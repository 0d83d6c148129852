// End-to-end test of bluetrace-server's ops listener: the real binary with
// `[ops] metrics_address = "127.0.0.1:0"`, a TLS client that logs in and fetches a TempID,
// then a plain HTTP scrape of /metrics, /healthz and /readyz. Loopback only; bounded waits.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "support/http_get.hpp"
#include "support/prometheus_text.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace {
namespace {

using namespace std::chrono_literals;
using namespace protocol;  // NOLINT
using test::ReadFileForTest;
using test::WriteFileForTest;

constexpr auto kWait = 20s;

class ServerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::CopyOriginalSample(dir_.path(), "credentials.txt");
    WriteFileForTest(dir_.File("server.toml"),
                     "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n"
                     "[server]\nbind_address = \"127.0.0.1\"\nport = 0\nlog_level = \"info\"\n"
                     "[ops]\nmetrics_address = \"127.0.0.1:0\"\n");
  }

  // The port the server logged for its ops listener, 0 if none.
  static std::uint16_t OpsPort(const std::string& log) {
    const std::string marker = "ops listener on 127.0.0.1 port ";
    const auto at = log.find(marker);
    if (at == std::string::npos) return 0;
    return static_cast<std::uint16_t>(std::stoul(log.substr(at + marker.size())));
  }

  Message Call(net::ClientConnection& c, Message m) {
    auto r = c.Call(std::move(m), kWait);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : Message(Error{});
  }

  test::TempDir dir_;
};

TEST_F(ServerMetricsTest, ScrapeShowsTheLoginsAndTempIdsOfAClient) {
  test::ServerProcess server(
      test::ProgramPath("bluetrace-server"), dir_.path(),
      {"--config", "server.toml", "--state-dir", dir_.path(), "--ready-file", "ready"});
  const std::uint16_t port = server.WaitReady(dir_.File("ready"), kWait);
  ASSERT_NE(port, 0) << server.Stderr();
  const std::uint16_t ops = OpsPort(server.Stderr());
  ASSERT_NE(ops, 0) << server.Stderr();
  ASSERT_NE(ops, port);

  EXPECT_EQ(test::HttpGet(ops, "/healthz").status, 200);
  auto ready = test::HttpGet(ops, "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.raw;

  auto c = net::ClientConnection::Connect(
      "127.0.0.1", port, net::TlsClientOptions{dir_.File("server.crt"), "127.0.0.1", "1.3"}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(std::holds_alternative<HelloOk>(Call(**c, Hello{1, 1, "test"})));
  EXPECT_TRUE(std::holds_alternative<WrongPassword>(
      Call(**c, Login{"+61410888888", util::SecretString("wrong")})));
  EXPECT_TRUE(std::holds_alternative<Welcome>(
      Call(**c, Login{"+61410888888", util::SecretString("comp3331")})));
  EXPECT_TRUE(std::holds_alternative<TempIdResponse>(Call(**c, TempIdRequest{})));

  auto scrape = test::HttpGet(ops, "/metrics");
  ASSERT_EQ(scrape.status, 200) << scrape.raw;
  EXPECT_NE(scrape.headers.find("text/plain; version=0.0.4"), std::string::npos);
  auto parsed = test::ParsePrometheusText(scrape.body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << scrape.body;
  const auto& m = *parsed;
  auto at = [&m](const std::string& key) {
    auto it = m.find(key);
    EXPECT_NE(it, m.end()) << key;
    return it == m.end() ? -1.0 : it->second;
  };
  EXPECT_EQ(at("bluetrace_logins_total{result=\"failed\"}"), 1);
  EXPECT_EQ(at("bluetrace_logins_total{result=\"ok\"}"), 1);
  EXPECT_EQ(at("bluetrace_logins_total{result=\"blocked\"}"), 0);
  EXPECT_EQ(at("bluetrace_tempids_issued_total"), 1);
  EXPECT_EQ(at("bluetrace_connections_open"), 1);
  EXPECT_EQ(at("bluetrace_connections_accepted_total"), 1);
  EXPECT_EQ(at("bluetrace_tls_handshakes_failed_total"), 0);
  EXPECT_EQ(at("bluetrace_rate_limited_total{limit=\"login_rate\"}"), 0);
  EXPECT_EQ(at("bluetrace_argon2_queue_wait_seconds_count"), 2);  // two password checks
  EXPECT_EQ(at("bluetrace_store_healthy"), 1);
  // The TempID was made durable by at least one fdatasync through the timed filesystem.
  EXPECT_GE(at("bluetrace_store_fsync_seconds_count{op=\"sync\"}"), 1);
  EXPECT_GE(at("bluetrace_tempid_store_syncs_total"), 1);

  c->reset();
  EXPECT_EQ(server.Stop(kWait), 0) << server.Stderr();
  EXPECT_EQ(test::ConnectLoopback(ops), -1);  // the ops listener stopped with the server
}

// A certificate in the state directory whose validity window is placed relative to now:
// made through the C API with a clock set `offset_days` away, valid for `days`.
void WriteCertificateAt(const std::string& dir, std::int64_t offset_days, std::uint32_t days) {
  util::ManualClock clock(util::SystemClock::Instance().NowUnixSeconds() + offset_days * 86400);
  net::SelfSignedOptions options;
  options.include_host_name = false;
  options.validity_days = days;
  auto generated = net::GenerateSelfSigned(options, clock);
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  ASSERT_TRUE(net::WriteCertificateFiles(store::PosixFileSystem::Instance(), dir + "/server.crt",
                                         dir + "/server.key", *generated)
                  .ok());
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(ServerMetricsTest, ACertificateOutsideItsValidityIsWarnedAboutAndNotReady) {
  WriteCertificateAt(dir_.path(), -400, 1);  // expired 399 days ago
  test::ServerProcess server(
      test::ProgramPath("bluetrace-server"), dir_.path(),
      {"--config", "server.toml", "--state-dir", dir_.path(), "--ready-file", "ready"});
  ASSERT_NE(server.WaitReady(dir_.File("ready"), kWait), 0) << server.Stderr();
  const std::uint16_t ops = OpsPort(server.Stderr());
  ASSERT_NE(ops, 0) << server.Stderr();
  EXPECT_NE(server.Stderr().find("warning certificate " + dir_.File("server.crt") + " expired on "),
            std::string::npos)
      << server.Stderr();
  EXPECT_EQ(test::HttpGet(ops, "/healthz").status, 200);
  auto ready = test::HttpGet(ops, "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.raw;
  EXPECT_EQ(ready.body, "not ready: certificate expired\n");

  // SIGHUP to one that expires in 10 days: a notice, and ready again.
  WriteCertificateAt(dir_.path(), 0, 10);
  server.Signal(SIGHUP);
  ASSERT_TRUE(test::WaitFor([&] { return Count(server.Stderr(), "certificate reloaded") == 1; }));
  EXPECT_NE(
      server.Stderr().find("info SIGHUP: certificate " + dir_.File("server.crt") + " expires on "),
      std::string::npos)
      << server.Stderr();
  ready = test::HttpGet(ops, "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.raw;

  // SIGHUP to one that is not valid for another 10 days.
  WriteCertificateAt(dir_.path(), 10, 30);
  server.Signal(SIGHUP);
  ASSERT_TRUE(test::WaitFor([&] { return Count(server.Stderr(), "certificate reloaded") == 2; }));
  EXPECT_NE(server.Stderr().find("warning SIGHUP: certificate " + dir_.File("server.crt") +
                                 " is not valid before "),
            std::string::npos)
      << server.Stderr();
  ready = test::HttpGet(ops, "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.raw;
  EXPECT_EQ(ready.body, "not ready: certificate not yet valid\n");
  EXPECT_EQ(server.Stop(kWait), 0) << server.Stderr();
}

TEST_F(ServerMetricsTest, AMalformedMetricsAddressIsAConfigurationError) {
  WriteFileForTest(dir_.File("server.toml"), "[ops]\nmetrics_address = \"localhost:9464\"\n");
  test::ServerProcess server(test::ProgramPath("bluetrace-server"), dir_.path(),
                             {"--config", "server.toml", "--check-config"});
  EXPECT_EQ(server.WaitExit(kWait), 2);
  EXPECT_NE(server.Stderr().find("ops.metrics_address"), std::string::npos) << server.Stderr();
}

}  // namespace
}  // namespace bluetrace
