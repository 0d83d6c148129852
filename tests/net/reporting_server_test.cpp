// The reporting service behind the real TLS transport, in one process: many clients at
// once, abuse followed by a good client, the Argon2 queue's "busy" answer, a vanished
// client, and uploads spanning many frames. Loopback only; every wait is bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <set>
#include <thread>
#include <vector>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/net/server.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/protocol/upload.hpp"
#include "bluetrace/util/thread_annotations.hpp"
#include "service/service_harness.hpp"
#include "support/server_process.hpp"

namespace bluetrace::net {
namespace {

using namespace std::chrono_literals;
using namespace protocol;  // NOLINT

constexpr auto kWait = 20s;

class ReportingServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.UseOriginal("credentials.txt");
    h_.UseOriginal("tempIDs.txt");
    auto cert = GenerateSelfSigned({});
    ASSERT_TRUE(cert.ok());
    ASSERT_TRUE(WriteCertificateFiles(store::PosixFileSystem::Instance(), h_.dir.File("server.crt"),
                                      h_.dir.File("server.key"), *cert)
                    .ok());
  }

  void StartServer() {
    ASSERT_TRUE(h_.Open().ok());
    auto tls = MakeServerContext({h_.dir.File("server.crt"), h_.dir.File("server.key"), "1.3"},
                                 store::PosixFileSystem::Instance());
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    ServerOptions o = ServerOptionsFromConfig(h_.config);
    o.bind_address = "127.0.0.1";
    o.port = 0;
    server_ = std::make_unique<Server>(o, *tls, *h_.service);
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    if (server_) server_->Stop(2s);
    server_.reset();
    h_.service.reset();
  }

  std::unique_ptr<ClientConnection> Connect() {
    auto c = ClientConnection::Connect("127.0.0.1", server_->port(),
                                       TlsClientOptions{h_.dir.File("server.crt"), "127.0.0.1"});
    if (!c.ok()) return nullptr;
    auto hello = (*c)->Call(Hello{1, 1, "test"}, kWait);
    if (!hello.ok() || !std::holds_alternative<HelloOk>(*hello)) return nullptr;
    return std::move(*c);
  }

  test::ServiceHarness h_;
  std::unique_ptr<Server> server_;
};

TEST_F(ReportingServerTest, ManyConcurrentClientsAreAllServed) {
  h_.config.max_connections_per_address = 100;
  h_.config.connection_rate = {1000, 1000};
  // Room for every login in the Argon2 queue, also from one address: none is answered
  // Busy, so no client has to wait on the wall clock before retrying.
  h_.config.argon2_queue_depth = 64;
  h_.config.argon2_queue_per_source = 64;
  StartServer();
  constexpr int kClients = 24;
  std::latch go(kClients);
  util::Mutex mu;
  std::set<std::string> ids;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  const char* users[][2] = {{"+61410666666", "kara1234"},
                            {"+61410777777", "datha457"},
                            {"+61410888888", "comp3331"},
                            {"+61410999999", "bada4568"}};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      go.arrive_and_wait();
      auto c = Connect();
      if (!c) return;
      const auto* u = users[i % 4];
      auto w = c->Call(protocol::Login{u[0], util::SecretString(u[1])}, kWait);
      if (!w.ok() || !std::holds_alternative<Welcome>(*w)) return;
      auto t = c->Call(TempIdRequest{}, kWait);
      if (!t.ok() || !std::holds_alternative<TempIdResponse>(*t)) return;
      {
        util::MutexLock lock(mu);
        ids.insert(std::get<TempIdResponse>(*t).id.ToString());
      }
      auto bye = c->Call(Logout{}, kWait);
      if (bye.ok() && std::holds_alternative<LogoutOk>(*bye)) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients);
  util::MutexLock lock(mu);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kClients));  // all distinct
  EXPECT_EQ(h_.service->tempids().size(), 3u + kClients);
}

TEST_F(ReportingServerTest, AbuseLeavesTheServerServingAGoodClient) {
  StartServer();
  {  // garbage after the handshake
    auto c = Connect();
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->SendRaw("GET / HTTP/1.1\r\n\r\n").ok());
    auto r = c->Receive(kWait);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(std::get<Error>(*r).code, ErrorCode::kTooLarge);  // "GET " read as a length
  }
  {  // a declared frame far over the limit
    auto c = Connect();
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->SendRaw(std::string("\x7f\xff\xff\xff\x12", 5)).ok());
    auto r = c->Receive(kWait);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(std::get<Error>(*r).code, ErrorCode::kTooLarge);
  }
  {  // an unknown message type
    auto c = Connect();
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->SendRaw(std::string("\x00\x00\x00\x01\x99", 5)).ok());
    auto r = c->Receive(kWait);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(std::get<Error>(*r).code, ErrorCode::kUnknownMessage);
  }
  auto good = Connect();
  ASSERT_NE(good, nullptr);
  auto w = good->Call(protocol::Login{"+61410888888", util::SecretString("comp3331")}, kWait);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(std::holds_alternative<Welcome>(*w));
}

TEST_F(ReportingServerTest, AVanishedClientIsLoggedOut) {
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  auto w = c->Call(protocol::Login{"+61410666666", util::SecretString("kara1234")}, kWait);
  ASSERT_TRUE(w.ok() && std::holds_alternative<Welcome>(*w));
  c.reset();  // gone without Logout
  EXPECT_TRUE(test::WaitFor(
      [&] { return h_.console.Text().find("+61410666666 logout\n") != std::string::npos; }));
}

TEST_F(ReportingServerTest, AnUploadSpanningManyFramesIsChecked) {
  h_.config.max_frame_bytes = 512;
  StartServer();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  auto w = c->Call(protocol::Login{"+61410666666", util::SecretString("kara1234")}, kWait);
  ASSERT_TRUE(w.ok() && std::holds_alternative<Welcome>(*w));
  std::string log;
  for (int i = 0; i < 200; ++i) {
    log += "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n";
  }
  auto parts = SplitUpload(log, MaxUploadChunkBytes(512));
  ASSERT_GT(parts.size(), 20u);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) ASSERT_TRUE(c->Send(parts[i]).ok());
  auto ack = c->Call(parts.back(), kWait);
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(std::get<UploadAck>(*ack).entries_received, 200u);
}

TEST_F(ReportingServerTest, AFullArgon2QueueAnswersBusy) {
  h_.config.argon2_workers = 1;
  h_.config.argon2_queue_depth = 1;
  h_.config.argon2_memory_kib = 65536;  // slow enough that the queue fills
  h_.config.argon2_iterations = 3;
  h_.config.connection_rate = {1000, 1000};
  h_.config.max_connections_per_address = 100;
  StartServer();
  constexpr int kClients = 8;
  std::latch go(kClients);
  std::atomic<int> busy{0}, answered{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto c = Connect();
      go.arrive_and_wait();
      if (!c) return;
      // Each for another name: guesses for one name wait their turn instead of queueing.
      auto r = c->Call(
          protocol::Login{"+6141000000" + std::to_string(i), util::SecretString("wrong-password")},
          kWait);
      if (!r.ok()) return;
      ++answered;
      if (std::holds_alternative<Busy>(*r)) ++busy;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(answered.load(), kClients);
  EXPECT_GT(busy.load(), 0);
  EXPECT_GT(h_.service->auth_stats().logins_busy.load(), 0u);
}

}  // namespace
}  // namespace bluetrace::net
