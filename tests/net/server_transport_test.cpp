// net::Server and net::ClientConnection over real TLS on 127.0.0.0/8: the conversation,
// concurrency, admission limits, Stop(), certificate replacement and TLS versions.
// server_hardening_test.cpp covers hostile and broken clients.
#include "bluetrace/net/server.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>

#include "net/server_fixture.hpp"

namespace bluetrace::net::testing {
namespace {

using protocol::ErrorCode;
using util::StatusCode;

using ServerTest = ServerFixture;

TEST_F(ServerTest, FullConversationThenTheServerCloses) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->peer_fingerprint(), fingerprint_);
  EXPECT_EQ(c->tls_version(), "TLSv1.3");

  Message hello_ok = CallOk(*c, protocol::Hello{1, 1, "test"});
  EXPECT_TRUE(std::holds_alternative<protocol::HelloOk>(hello_ok));
  Message welcome = CallOk(*c, protocol::Login{"+61410888888", util::SecretString(kPassword)});
  const Message expected_welcome =
      protocol::Welcome{"+61410888888", std::string(protocol::kWelcomeText)};
  EXPECT_EQ(welcome, expected_welcome);
  ExpectPong(*c, 42);
  EXPECT_EQ(CallOk(*c, protocol::Logout{}), Message{protocol::LogoutOk{}});
  ExpectClosedByServer(*c);
  EXPECT_EQ(c->Send(protocol::Ping{1}).code(), StatusCode::kFailedPrecondition);

  ExpectNoOpenConnections();
  const ServerStats& stats = server_->stats();
  EXPECT_EQ(stats.connections_accepted.load(), 1u);
  EXPECT_EQ(stats.frames_in.load(), 4u);
  EXPECT_EQ(stats.frames_out.load(), 4u);
  EXPECT_EQ(stats.protocol_errors.load(), 0u);
  EXPECT_EQ(stats.timeouts.load(), 0u);
}

TEST_F(ServerTest, PipelinedFramesAreAnsweredInOrderOneAtATime) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  std::string burst;
  // The first reply is slow: the next frames must wait for it, not overtake it.
  for (std::uint64_t nonce : {kDelayBase + 200, std::uint64_t{2}, std::uint64_t{3}}) {
    burst += *protocol::EncodeFrame(protocol::Ping{nonce});
  }
  ASSERT_TRUE(c->SendRaw(burst).ok());
  for (std::uint64_t nonce : {kDelayBase + 200, std::uint64_t{2}, std::uint64_t{3}}) {
    auto reply = c->Receive(5s);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(*reply, Message{protocol::Pong{nonce}});
  }
}

TEST_F(ServerTest, ManyConcurrentClientsAreAllServed) {
  options_.max_connections_per_address = 64;
  StartServer();
  constexpr int kClients = 50;
  std::atomic<int> served{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto c = TryConnect();
      if (!c.ok()) return ADD_FAILURE() << c.status().ToString();
      for (std::uint64_t n = 0; n < 5; ++n) {
        const std::uint64_t nonce = static_cast<std::uint64_t>(i) * 100 + n;
        auto reply = (*c)->Call(protocol::Ping{nonce}, 10s);
        if (!reply.ok() || *reply != Message{protocol::Pong{nonce}}) {
          return ADD_FAILURE() << "client " << i << ": " << reply.status().ToString();
        }
      }
      auto bye = (*c)->Call(protocol::Logout{}, 10s);
      if (bye.ok() && std::holds_alternative<protocol::LogoutOk>(*bye)) served.fetch_add(1);
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(served.load(), kClients);
  ExpectNoOpenConnections();
  EXPECT_EQ(server_->stats().connections_accepted.load(), static_cast<std::uint64_t>(kClients));
}

TEST_F(ServerTest, LateReplyFromAnotherThreadIsDeliveredWhileOthersAreServed) {
  StartServer();
  auto slow = Connect();
  auto fast = Connect();
  ASSERT_TRUE(slow && fast);
  ASSERT_TRUE(slow->Send(protocol::Ping{kDelayBase + 400}).ok());
  const auto start = std::chrono::steady_clock::now();
  ExpectPong(*fast, 7);  // not held up by the other connection's pending request
  EXPECT_LT(Since(start), 300ms);
  auto reply = slow->Receive(5s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, Message{protocol::Pong{kDelayBase + 400}});
}

TEST_F(ServerTest, EmptyReplyKeepsTheConnectionOpen) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(protocol::TempIdRequest{}).ok());  // the fake answers nothing
  ExpectPong(*c, 5);
}

TEST_F(ServerTest, ReceiveTimesOutAndTheConnectionStaysUsable) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  const auto start = std::chrono::steady_clock::now();
  auto nothing = c->Receive(200ms);
  EXPECT_GE(Since(start), 190ms);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(nothing.status().message().find("timed out"), std::string::npos);
  EXPECT_TRUE(c->is_open());
  ExpectPong(*c, 9);
}

TEST_F(ServerTest, MaxConnectionsRefusesTheNextAndRecovers) {
  options_.max_connections = 3;
  StartServer();
  std::vector<std::unique_ptr<ClientConnection>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(Connect());
    ASSERT_TRUE(open.back());
    ExpectPong(*open.back(), static_cast<std::uint64_t>(i));
  }
  auto refused = TryConnect();
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(server_->stats().refused_total_limit.load(), 1u);
  for (auto& c : open) ExpectPong(*c, 1);  // the others are still served
  open.front()->Close();
  ASSERT_TRUE(WaitFor([&] { return server_->stats().connections_open.load() == 2; }));
  auto again = Connect();
  ASSERT_TRUE(again);
  ExpectPong(*again, 2);
}

TEST_F(ServerTest, PerAddressLimitDoesNotAffectOtherAddresses) {
  options_.max_connections_per_address = 2;
  StartServer();
  auto a1 = Connect("127.0.0.1");
  auto a2 = Connect("127.0.0.1");
  ASSERT_TRUE(a1 && a2);
  auto a3 = TryConnect("127.0.0.1");
  EXPECT_FALSE(a3.ok());
  EXPECT_EQ(server_->stats().refused_address_limit.load(), 1u);
  auto b1 = Connect("127.0.0.2");
  ASSERT_TRUE(b1);
  EXPECT_EQ(b1->local_endpoint().rfind("127.0.0.2:", 0), 0u) << b1->local_endpoint();
  ExpectPong(*b1, 1);
  ExpectPong(*a1, 2);
}

TEST_F(ServerTest, RefusedByTheFactoryRateIsClosedWithoutASession) {
  factory_.admit = false;
  StartServer();
  auto refused = TryConnect();
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(server_->stats().refused_rate.load(), 1u);
  EXPECT_EQ(factory_.counters->created.load(), 0);
  factory_.admit = true;
  auto admitted = Connect();
  ASSERT_TRUE(admitted);
  ExpectPong(*admitted, 3);
}

TEST_F(ServerTest, StopClosesAnIdleSessionAtOnceWithCloseNotify) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  ExpectPong(*c, 1);
  const auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] { server_->Stop(5s); });
  ExpectClosedByServer(*c, 3s);
  EXPECT_EQ(c->Receive(0ms).status().code(), StatusCode::kFailedPrecondition);
  stopper.join();
  EXPECT_LT(Since(start), 2s);
  EXPECT_EQ(factory_.counters->closed.load(), 1);
  EXPECT_FALSE(TryConnect().ok());  // no longer accepting
}

TEST_F(ServerTest, StopLetsTheRequestInProgressFinish) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(protocol::Ping{kDelayBase + 300}).ok());
  ASSERT_TRUE(WaitFor([&] { return factory_.counters->handled.load() == 1; }));
  std::thread stopper([&] { server_->Stop(5s); });
  auto reply = c->Receive(3s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, Message{protocol::Pong{kDelayBase + 300}});
  ExpectClosedByServer(*c, 3s);
  stopper.join();
  EXPECT_EQ(factory_.counters->closed.load(), 1);
}

TEST_F(ServerTest, StopForceClosesWhatOutlastsTheGrace) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(protocol::UploadEnd{}).ok());  // never answered by the fake
  ASSERT_TRUE(WaitFor([&] { return factory_.counters->handled.load() == 1; }));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop(300ms);
  EXPECT_GE(Since(start), 290ms);
  EXPECT_LT(Since(start), 2s);
  EXPECT_EQ(factory_.counters->closed.load(), 1);
  EXPECT_FALSE(c->Receive(2s).ok());
}

TEST_F(ServerTest, ReplacedCertificateServesNewClientsWhileOldSessionsContinue) {
  StartServer();
  auto old_client = Connect();
  ASSERT_TRUE(old_client);
  EXPECT_EQ(old_client->peer_fingerprint(), fingerprint_);

  const std::string new_fingerprint = WriteCertificate(dir_.File("new.crt"), dir_.File("new.key"));
  ASSERT_NE(new_fingerprint, fingerprint_);
  server_->ReplaceTlsContext(MakeContext(dir_.File("new.crt"), dir_.File("new.key")));
  tls_.reset();  // the old session alone keeps the old context alive now

  // Trust on first use: the client checks the fingerprint itself.
  auto new_client = ClientConnection::Connect("127.0.0.1", server_->port(), TlsClientOptions{});
  ASSERT_TRUE(new_client.ok()) << new_client.status().ToString();
  EXPECT_EQ((*new_client)->peer_fingerprint(), new_fingerprint);
  ExpectPong(**new_client, 1);
  ExpectPong(*old_client, 2);
  // A client that pins the old certificate now refuses the server.
  auto pinned_old = TryConnect();
  ASSERT_FALSE(pinned_old.ok());
  EXPECT_EQ(pinned_old.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(ServerTest, Tls12OnlyClientIsRefusedByTheDefaultServer) {
  StartServer();
  auto context = MakeClientContext(TlsClientOptions{cert_path_, "127.0.0.1", "1.2"}, fs_);
  ASSERT_TRUE(context.ok()) << context.status().ToString();
  // SSL_CTX_set_max_proto_version is a macro over this call.
  ASSERT_EQ(SSL_CTX_ctrl((*context)->native_handle(), SSL_CTRL_SET_MAX_PROTO_VERSION,
                         TLS1_2_VERSION, nullptr),
            1);
  auto refused = ClientConnection::Connect("127.0.0.1", server_->port(), *context,
                                           TlsClientOptions{cert_path_, "127.0.0.1", "1.2"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return server_->stats().tls_handshakes_failed.load() == 1; }));
  EXPECT_TRUE(WaitFor([&] { return factory_.counters->closed.load() == 1; }));
}

TEST_F(ServerTest, BindErrorsNameTheAddress) {
  StartServer();
  ServerOptions taken = options_;
  taken.port = server_->port();
  Server second(taken, tls_, factory_);
  util::Status status = second.Start();
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("127.0.0.1:" + std::to_string(server_->port()) +
                                  ": Address already in use"),
            std::string::npos)
      << status.ToString();

  ServerOptions bad = options_;
  bad.bind_address = "localhost";
  Server third(bad, tls_, factory_);
  EXPECT_EQ(third.Start().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server_->Start().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ServerTest, OptionsFromConfigCopyTheTransportKeys) {
  service::ServerConfig config;
  config.bind_address = "127.0.0.9";
  config.port = 4321;
  config.max_connections = 7;
  config.max_connections_per_address = 3;
  config.max_frame_bytes = 4096;
  config.max_pending_write_bytes = 8192;
  config.handshake_timeout = 2;
  config.login_timeout = 3;
  config.idle_timeout = 4;
  config.write_timeout = 5;
  const ServerOptions options = ServerOptionsFromConfig(config);
  EXPECT_EQ(options.bind_address, "127.0.0.9");
  EXPECT_EQ(options.port, 4321);
  EXPECT_EQ(options.max_connections, 7u);
  EXPECT_EQ(options.max_connections_per_address, 3u);
  EXPECT_EQ(options.max_frame_bytes, 4096u);
  EXPECT_EQ(options.max_pending_write_bytes, 8192u);
  EXPECT_EQ(options.handshake_timeout, 2s);
  EXPECT_EQ(options.login_timeout, 3s);
  EXPECT_EQ(options.idle_timeout, 4s);
  EXPECT_EQ(options.write_timeout, 5s);
}

}  // namespace
}  // namespace bluetrace::net::testing
