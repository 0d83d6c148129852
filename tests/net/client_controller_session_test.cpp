// ClientController's session with the real ReportingService behind the real TLS server
// (client_controller_fixture.hpp): login outcomes as in the original, registration,
// TempIDs and their renewal, logout, a busy or rate-limiting server, pings that keep an
// idle session open and a server that goes away (noticed without a request, too).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/thread_annotations.hpp"
#include "client_controller_fixture.hpp"
#include "support/server_process.hpp"

namespace bluetrace::service {
namespace {

using namespace std::chrono_literals;
using test::ClientControllerTest;
using test::kDatha;
using test::kKara;
using util::StatusCode;

TEST_F(ClientControllerTest, LoginOutcomesFollowTheOriginal) {
  auto c = Client(Options("a"));
  auto r = c->Login(kKara, util::SecretString("wrong-1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ClientLoginStatus::kWrongPassword);
  EXPECT_EQ(r->attempts_left, 2u);
  r = c->Login(kKara, util::SecretString("wrong-2"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->attempts_left, 1u);
  r = c->Login(kKara, util::SecretString("wrong-3"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ClientLoginStatus::kBlocked);
  EXPECT_EQ(r->seconds, 60);
  // The server closed the connection after blocking.
  EXPECT_FALSE(c->Login(kKara, util::SecretString("kara1234")).ok());

  // Even the right password from a new connection is refused while blocked.
  auto d = Client(Options("b"));
  r = d->Login(kKara, util::SecretString("kara1234"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ClientLoginStatus::kStillBlocked);
  EXPECT_GT(r->seconds, 0);

  h_.clock().AdvanceSeconds(61);
  auto e = Client(Options("c"), kKara, "kara1234");
  EXPECT_EQ(e->Login(kKara, util::SecretString("kara1234")).status().code(),
            StatusCode::kFailedPrecondition);  // already logged in
}

TEST_F(ClientControllerTest, RegisterThenLogin) {
  auto c = Client(Options("a"));
  ASSERT_TRUE(c->Register("+61-400-000-001", util::SecretString("long-password")).ok());
  EXPECT_EQ(c->Register("+61400000001", util::SecretString("long-password")).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(c->Register("not-a-phone", util::SecretString("long-password")).code(),
            StatusCode::kInvalidArgument);
  auto r = c->Login("+61400000001", util::SecretString("long-password"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ClientLoginStatus::kWelcome);
  EXPECT_EQ(r->message, protocol::kWelcomeText);
}

TEST_F(ClientControllerTest, DownloadTempIdNeedsALoginAndIsAlwaysFresh) {
  auto c = Client(Options("a"));
  EXPECT_EQ(c->DownloadTempId().status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(c->Login(kKara, util::SecretString("kara1234")).ok());
  auto t1 = c->DownloadTempId();
  ASSERT_TRUE(t1.ok()) << t1.status().ToString();
  EXPECT_EQ(t1->user, kKara);
  EXPECT_EQ(t1->start, h_.clock().NowUnixSeconds());
  EXPECT_EQ(t1->expiry, t1->start + 899);
  auto t2 = c->DownloadTempId();
  ASSERT_TRUE(t2.ok());
  EXPECT_NE(t1->id, t2->id);
  EXPECT_NE(h_.console.Text().find(std::string("user: ") + kKara + "\nTempID:\n" +
                                   t2->id.ToString() + "\n"),
            std::string::npos);
}

TEST_F(ClientControllerTest, TheTempIdIsRenewedBeforeItExpires) {
  ClientOptions o = Options("a");
  o.tempid_renew_margin_seconds = 60;
  auto a = Client(o, kKara, "kara1234");
  auto t = a->DownloadTempId();
  ASSERT_TRUE(t.ok());
  auto issued = [&] {
    std::size_t n = 0;
    const std::string text = h_.console.Text();
    for (auto p = text.find("user: "); p != std::string::npos; p = text.find("user: ", p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(issued(), 1u);
  h_.clock().AdvanceSeconds(t->expiry - 60 - h_.clock().NowUnixSeconds());
  // Exactly at the margin: not yet (the background thread looks several times a second).
  EXPECT_FALSE(test::WaitFor([&] { return issued() != 1u; }, 1s));
  h_.clock().AdvanceSeconds(1);
  EXPECT_TRUE(test::WaitFor([&] { return issued() == 2u; }));
  auto b = Client(Options("b"));
  auto sent = a->SendBeacon("127.0.0.1", b->udp_port());
  ASSERT_TRUE(sent.ok());
  EXPECT_NE(sent->id, t->id);  // the renewed one, without another download
  EXPECT_EQ(issued(), 2u);
}

TEST_F(ClientControllerTest, LogoutEndsTheSession) {
  auto a = Client(Options("a"), kKara, "kara1234");
  ASSERT_TRUE(a->Logout().ok());
  EXPECT_NE(h_.console.Text().find(std::string(kKara) + " logout\n"), std::string::npos);
  EXPECT_EQ(a->DownloadTempId().status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ClientControllerTest, AServerThatGoesAwayGivesAClearErrorWithoutHanging) {
  ClientOptions o = Options("a");
  o.timeout_seconds = 3;
  auto a = Client(o, kKara, "kara1234");
  server_->Stop(200ms);
  const auto start = std::chrono::steady_clock::now();
  auto t = a->DownloadTempId();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(t.status().message().find("the server closed the connection"), std::string::npos)
      << t.status().message();
  EXPECT_EQ(a->UploadContactLog().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(a->Logout().code(), StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

// What a ConnectionLostSink was told, for a test thread to look at.
class LostNews {
 public:
  ConnectionLostSink Sink() {
    return [this](const util::Status& why) {
      util::MutexLock lock(mu_);
      ++count_;
      why_ = why;
    };
  }
  int count() {
    util::MutexLock lock(mu_);
    return count_;
  }
  util::Status why() {
    util::MutexLock lock(mu_);
    return why_;
  }

 private:
  util::Mutex mu_;
  int count_ GUARDED_BY(mu_) = 0;
  util::Status why_ GUARDED_BY(mu_);
};

TEST_F(ClientControllerTest, AServerThatGoesAwayWhileTheClientIsIdleIsReportedWithoutARequest) {
  LostNews a_news, b_news;
  auto a = Client(Options("a"), kKara, "kara1234");
  auto b = Client(Options("b"), kDatha, "datha457");
  a->SetConnectionLostSink(a_news.Sink());
  b->SetConnectionLostSink(b_news.Sink());
  ASSERT_TRUE(b->Logout().ok());  // a connection closed by the client is no news
  server_->Stop(2s);
  // No call on `a`: its background thread notices.
  ASSERT_TRUE(test::WaitFor([&] { return a_news.count() > 0; }, 10s));
  const util::Status closed = util::Unavailable("the server closed the connection");
  EXPECT_EQ(a_news.why(), closed);
  EXPECT_EQ(a->DownloadTempId().status(), closed);  // what the next call says, too
  EXPECT_EQ(a_news.count(), 1);
  EXPECT_EQ(b_news.count(), 0);
  a->SetConnectionLostSink(nullptr);
  b->SetConnectionLostSink(nullptr);
}

TEST_F(ClientControllerTest, AnIdleSessionClosedByTheServerIsReportedWithoutARequest) {
  idle_timeout_ = 1500ms;
  StartServer();
  // Real time here: the server's idle deadline is a real timer. The client never pings.
  ClientOptions silent = Options("a");
  silent.ping_interval_seconds = 3600;
  LostNews news;
  auto a = Client(silent, kKara, "kara1234", &util::SystemClock::Instance());
  a->SetConnectionLostSink(news.Sink());
  ASSERT_TRUE(test::WaitFor([&] { return news.count() > 0; }, 10s));
  EXPECT_EQ(news.why(), util::Unavailable("the server closed the connection"));
  a->SetConnectionLostSink(nullptr);
}

TEST_F(ClientControllerTest, PingsKeepAnIdleSessionOpen) {
  idle_timeout_ = 2500ms;
  StartServer();
  // Real time here: the server's idle deadline is a real timer.
  ClientOptions pinging = Options("a");
  pinging.ping_interval_seconds = 1;
  ClientOptions silent = Options("b");
  silent.ping_interval_seconds = 3600;
  auto a = Client(pinging, kKara, "kara1234", &util::SystemClock::Instance());
  auto b = Client(silent, kDatha, "datha457", &util::SystemClock::Instance());
  // Long enough for the server to drop the silent one.
  EXPECT_TRUE(test::WaitFor(
      [&] { return h_.console.Text().find(std::string(kDatha) + " logout") != std::string::npos; },
      10s));
  auto t = a->DownloadTempId();
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  auto lost = b->DownloadTempId();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(lost.status().message().find("the server closed the connection"), std::string::npos)
      << lost.status().message();
}

TEST_F(ClientControllerTest, ABusyLoginIsRetried) {
  h_.config.argon2_workers = 1;
  h_.config.argon2_queue_depth = 1;
  h_.config.argon2_memory_kib = 65536;  // >= 100 ms a hash
  h_.config.argon2_iterations = 3;
  StartServer();
  auto c = Client(Options("a"));
  // Three other connections' logins fill the one worker and the one queue slot; one is
  // turned away, which shows the server is full right now.
  std::vector<std::unique_ptr<net::ClientConnection>> others;
  for (int i = 0; i < 3; ++i) {
    auto other = net::ClientConnection::Connect("127.0.0.1", server_->port(),
                                                net::TlsClientOptions{Cert(), "127.0.0.1"});
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    ASSERT_TRUE((*other)->Call(protocol::Hello{1, 1, "test"}, 20s).ok());
    others.push_back(std::move(*other));
  }
  for (std::size_t i = 0; i < others.size(); ++i) {
    // Other names each: guesses for one name would wait their turn instead of queueing.
    ASSERT_TRUE(
        others[i]
            ->Send(protocol::Login{"+6141099999" + std::to_string(i), util::SecretString("wrong")})
            .ok());
  }
  ASSERT_TRUE(test::WaitFor([&] { return h_.service->auth_stats().logins_busy.load() >= 1; }));
  // So the controller's login is answered Busy too, and retried until it passes. The retry
  // waits are slept for real (TestClientEnv): the server's Argon2 worker frees up in real time.
  auto r = c->Login(kKara, util::SecretString("kara1234"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ClientLoginStatus::kWelcome) << r->message;
  EXPECT_GE(h_.service->auth_stats().logins_busy.load(), 2u);
}

TEST_F(ClientControllerTest, TheDeviceTokenIsKeptAndKeepsTheDeviceOutOfAnAttackersBlock) {
  h_.config.device_lockout = true;
  StartServer();
  // The first login (protocol version 2) brings a device token, kept beside the
  // known-servers file, readable by the user alone.
  EXPECT_TRUE(Client(Options("a"), kKara, "kara1234")->Logout().ok());
  const std::string tokens = h_.dir.File("state/bluetrace/device_tokens");
  auto mode = store::PosixFileSystem::Instance().FileMode(tokens);
  ASSERT_TRUE(mode.ok()) << mode.status().ToString();
  EXPECT_EQ(*mode, 0600u);
  auto text = store::PosixFileSystem::Instance().ReadFile(tokens);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->rfind("127.0.0.1:" + std::to_string(server_->port()) + " " + kKara + " ", 0), 0u);
  EXPECT_EQ(h_.service->auth_stats().device_tokens_issued.load(), 1u);

  // Someone else's three wrong guesses block the account...
  auto attacker = net::ClientConnection::Connect("127.0.0.1", server_->port(),
                                                 net::TlsClientOptions{Cert(), "127.0.0.1"});
  ASSERT_TRUE(attacker.ok());
  ASSERT_TRUE((*attacker)->Call(protocol::Hello{1, 1, "attacker"}, 20s).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*attacker)->Call(protocol::Login{kKara, util::SecretString("guess")}, 20s).ok());
  }
  // ...for every device but this one, which presents its token.
  auto fresh = Options("b");
  fresh.known_servers_file = h_.dir.File("other/known_servers");
  auto other = Client(fresh);
  auto refused = other->Login(kKara, util::SecretString("kara1234"));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, ClientLoginStatus::kStillBlocked);
  Client(Options("a"), kKara, "kara1234");
  EXPECT_EQ(h_.service->auth_stats().device_tokens_issued.load(), 1u);  // the same token
}

TEST_F(ClientControllerTest, ARateLimitedRequestIsResourceExhaustedAndTheSessionGoesOn) {
  h_.config.tempid_rate = {0.001, 1.0};  // one TempID, then none while the clock stands
  StartServer();
  auto a = Client(Options("a"), kKara, "kara1234");
  ASSERT_TRUE(a->DownloadTempId().ok());
  auto limited = a->DownloadTempId();
  // Too long a wait to sit through (over 5 s): reported at once, with the time.
  EXPECT_EQ(limited.status(), util::ResourceExhausted("too many TempID requests; retry in 1000 s"));
  // Not a lost connection: the next request is served.
  auto upload = a->UploadContactLog();
  EXPECT_TRUE(upload.ok()) << upload.status().ToString();
}

}  // namespace
}  // namespace bluetrace::service
