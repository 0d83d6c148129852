// ClientController's error codes, against the real TLS server with a scripted session that
// answers Busy, Error{rate_limited}, Error{internal} or Error{timeout}, or holds its answer,
// on demand: a request the server turned away is kResourceExhausted (or kInternal) and the
// connection stays usable; a connection that is gone is kUnavailable, with the wording
// that says whether the server closed it or did not answer in time. The front end's exit
// statuses rest on exactly this split (client_controller.hpp), so it is pinned here
// deterministically.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bluetrace/net/client_controller.hpp"
#include "bluetrace/net/server.hpp"
#include "bluetrace/service/session.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/thread_annotations.hpp"
#include "client_controller_fixture.hpp"
#include "support/fake_random.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::net {
namespace {

using namespace std::chrono_literals;
using protocol::ErrorCode;
using protocol::Message;
using service::ClientLoginStatus;
using util::StatusCode;

constexpr char kUser[] = "+61410888888";
constexpr char kRateLimitedText[] = "too many requests; retry later";
constexpr char kInternalText[] = "internal error; retry later";
constexpr char kServerTimeoutText[] = "timed out: idle for too long";

// How the scripted server answers Register, Login, TempIdRequest and UploadEnd. kTimeout
// is the Error after which a server closes the connection; kHold keeps the answer back
// until the test releases it (ScriptedFactory::ReleaseHeld).
// kRateLimitedOnce answers one request with version 2's RateLimited{30 ms}, then serves.
enum class Answer {
  kServe,
  kBusy,
  kRateLimited,
  kRateLimitedOnce,
  kRateLimitedLong,
  kInternal,
  kTimeout,
  kHold
};

service::SessionReply One(Message message, bool close = false) {
  service::SessionReply reply;
  reply.messages.push_back(std::move(message));
  reply.close = close;
  return reply;
}

class ScriptedFactory;

class ScriptedSession final : public service::Session {
 public:
  explicit ScriptedSession(ScriptedFactory& factory) : factory_(factory) {}
  void Handle(Message message, service::ReplyFn done) override;
  bool logged_in() const override { return logged_in_; }
  void Closed() override {}

 private:
  ScriptedFactory& factory_;
  std::atomic<bool> logged_in_{false};
};

class ScriptedFactory final : public service::SessionFactory {
 public:
  explicit ScriptedFactory(const util::Clock& c) : clock(c) {}
  bool AdmitConnection(std::string_view /*peer*/) override { return true; }
  std::unique_ptr<service::Session> NewSession(std::string /*peer*/) override {
    return std::make_unique<ScriptedSession>(*this);
  }

  // Answers every held request with Busy, late: a session calls `done` exactly once.
  void ReleaseHeld() {
    std::vector<service::ReplyFn> held;
    {
      util::MutexLock lock(held_mu);
      held.swap(held_replies);
    }
    for (service::ReplyFn& done : held) done(One(protocol::Busy{50}));
  }

  const util::Clock& clock;  // TempIDs start now
  std::atomic<Answer> answer{Answer::kServe};
  std::atomic<int> turned_away{0};  // requests answered other than kServe
  util::Mutex held_mu;
  std::vector<service::ReplyFn> held_replies GUARDED_BY(held_mu);
};

void ScriptedSession::Handle(Message message, service::ReplyFn done) {
  if (std::holds_alternative<protocol::Hello>(message)) {
    return done(
        One(protocol::HelloOk{protocol::kMinProtocolVersion, "scripted", 1u << 20, 1u << 20}));
  }
  if (std::holds_alternative<protocol::UploadBegin>(message) ||
      std::holds_alternative<protocol::UploadChunk>(message)) {
    return done(service::SessionReply{});  // answered only at UploadEnd
  }
  if (auto* ping = std::get_if<protocol::Ping>(&message)) {
    return done(One(protocol::Pong{ping->nonce}));
  }
  if (std::holds_alternative<protocol::Logout>(message)) {
    logged_in_ = false;
    return done(One(protocol::LogoutOk{}, true));
  }
  const Answer answer = factory_.answer.load();
  if (answer != Answer::kServe) ++factory_.turned_away;
  switch (answer) {
    case Answer::kBusy:
      return done(One(protocol::Busy{50}));  // the client's shortest backoff
    case Answer::kRateLimited:
      return done(One(protocol::Error{ErrorCode::kRateLimited, kRateLimitedText}));
    case Answer::kRateLimitedOnce:
      factory_.answer = Answer::kServe;
      return done(One(protocol::RateLimited{30, "too many attempts; retry in 1 s"}));
    case Answer::kRateLimitedLong:
      return done(One(protocol::RateLimited{60'000, "too many attempts; retry in 60 s"}));
    case Answer::kInternal:
      return done(One(protocol::Error{ErrorCode::kInternal, kInternalText}));
    case Answer::kTimeout:
      // Worded like a timeout on purpose: only the client's own clock means "timed out".
      return done(One(protocol::Error{ErrorCode::kTimeout, kServerTimeoutText}, true));
    case Answer::kHold: {
      util::MutexLock lock(factory_.held_mu);
      factory_.held_replies.push_back(std::move(done));
      return;
    }
    case Answer::kServe:
      break;
  }
  if (auto* reg = std::get_if<protocol::Register>(&message)) {
    return done(One(protocol::RegisterOk{reg->user}));
  }
  if (auto* login = std::get_if<protocol::Login>(&message)) {
    logged_in_ = true;
    return done(One(protocol::Welcome{login->user, std::string(protocol::kWelcomeText)}));
  }
  if (std::holds_alternative<protocol::TempIdRequest>(message)) {
    const std::int64_t now = factory_.clock.NowUnixSeconds();
    return done(One(protocol::TempIdResponse{*protocol::TempId::Parse("12345678901234567890"), now,
                                             now + 899}));
  }
  if (std::holds_alternative<protocol::UploadEnd>(message)) {
    return done(One(protocol::UploadAck{0}));
  }
  done(One(protocol::Error{ErrorCode::kUnexpectedMessage, "not in this script"}));
}

// The client's retry waits, recorded instead of slept: the scripted server's Busy and
// RateLimited hold nothing back, so no test here needs to wait for them.
class RecordedWaits {
 public:
  SleepFn Sleep() {
    return [this](std::chrono::milliseconds wait) {
      util::MutexLock lock(mu_);
      waits_.push_back(wait);
    };
  }
  std::vector<std::chrono::milliseconds> TakeAll() {
    util::MutexLock lock(mu_);
    return std::exchange(waits_, {});
  }

 private:
  util::Mutex mu_;
  std::vector<std::chrono::milliseconds> waits_ GUARDED_BY(mu_);
};

class ClientControllerErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(
        test::WriteServerCertificate(dir_.File("server.crt"), dir_.File("server.key")).empty());
    server_ = test::StartLocalServer(ServerOptions{}, dir_.File("server.crt"),
                                     dir_.File("server.key"), factory_);
    ASSERT_NE(server_, nullptr);
    client_ = ConnectedClient(5);
    ASSERT_FALSE(HasFailure());
  }

  void TearDown() override {
    client_.reset();
    factory_.ReleaseHeld();
    if (server_) server_->Stop(1s);
  }

  // A controller connected to the scripted server that waits `timeout_seconds` for an answer.
  std::unique_ptr<service::ClientController> ConnectedClient(std::uint32_t timeout_seconds) {
    service::ClientOptions o =
        test::LocalClientOptions(server_->port(), dir_.File("server.crt"), dir_.File("client"));
    o.timeout_seconds = timeout_seconds;
    auto client = MakeClientController(
        o, {store::PosixFileSystem::Instance(), clock_, random_, waits_.Sleep()});
    auto id = client->Connect(nullptr);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return client;
  }

  void LogIn() {
    factory_.answer = Answer::kServe;
    auto r = client_->Login(kUser, util::SecretString("comp3331"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, ClientLoginStatus::kWelcome) << r->message;
  }

  test::TempDir dir_;
  util::ManualClock clock_;  // still: no background pings or renewals interleave
  test::SeededRandom random_{11};
  RecordedWaits waits_;
  ScriptedFactory factory_{clock_};
  std::unique_ptr<Server> server_;
  std::unique_ptr<service::ClientController> client_;
};

TEST_F(ClientControllerErrorsTest, ABusyServerIsResourceExhaustedAndTheConnectionStaysUsable) {
  factory_.answer = Answer::kBusy;
  const util::Status reg = client_->Register(kUser, util::SecretString("comp3331"));
  EXPECT_EQ(reg.code(), StatusCode::kResourceExhausted) << reg.ToString();
  EXPECT_EQ(reg.message(), "the server is busy; retry later");
  EXPECT_EQ(factory_.turned_away.load(), 4);  // the request and three retries
  // Busy{50 ms}: 50 ms times the retry's number, with jitter of 0.5x to 1.5x.
  const std::vector<std::chrono::milliseconds> waits = waits_.TakeAll();
  ASSERT_EQ(waits.size(), 3u);
  for (std::size_t i = 0; i < waits.size(); ++i) {
    const auto base = 50ms * static_cast<int>(i + 1);
    EXPECT_GE(waits[i], base / 2) << i;
    EXPECT_LE(waits[i], base + base / 2) << i;
  }
  // A busy login is one of the login's answers, not an error.
  auto login = client_->Login(kUser, util::SecretString("comp3331"));
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->status, ClientLoginStatus::kBusy);

  LogIn();
  factory_.answer = Answer::kBusy;
  auto tempid = client_->DownloadTempId();
  EXPECT_EQ(tempid.status().code(), StatusCode::kResourceExhausted) << tempid.status().ToString();
  auto upload = client_->UploadContactLog();
  EXPECT_EQ(upload.status().code(), StatusCode::kResourceExhausted) << upload.status().ToString();
  EXPECT_EQ(waits_.TakeAll().size(), 3u + 3u + 3u);  // login, TempID, upload

  factory_.answer = Answer::kServe;
  tempid = client_->DownloadTempId();
  EXPECT_TRUE(tempid.ok()) << tempid.status().ToString();
  EXPECT_TRUE(client_->Logout().ok());
}

TEST_F(ClientControllerErrorsTest, RateLimitingIsResourceExhaustedAndAServerFaultIsInternal) {
  factory_.answer = Answer::kRateLimited;
  const util::Status reg = client_->Register(kUser, util::SecretString("comp3331"));
  EXPECT_EQ(reg, util::ResourceExhausted(kRateLimitedText));
  auto login = client_->Login(kUser, util::SecretString("comp3331"));
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->status, ClientLoginStatus::kError);
  EXPECT_EQ(login->message, kRateLimitedText);

  LogIn();
  factory_.answer = Answer::kRateLimited;
  EXPECT_EQ(client_->DownloadTempId().status(), util::ResourceExhausted(kRateLimitedText));
  factory_.answer = Answer::kInternal;
  EXPECT_EQ(client_->DownloadTempId().status(),
            util::Internal(std::string("the server reported an error: ") + kInternalText));
  EXPECT_EQ(client_->UploadContactLog().status().code(), StatusCode::kInternal);

  factory_.answer = Answer::kServe;
  auto tempid = client_->DownloadTempId();
  EXPECT_TRUE(tempid.ok()) << tempid.status().ToString();
}

TEST_F(ClientControllerErrorsTest, ARateLimitWithARetryTimeIsWaitedForAndRetried) {
  factory_.answer = Answer::kRateLimitedOnce;
  auto login = client_->Login(kUser, util::SecretString("comp3331"));
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->status, ClientLoginStatus::kWelcome) << login->message;
  EXPECT_EQ(factory_.turned_away.load(), 1);
  // RateLimited{30 ms}: that long and 20 ms more.
  EXPECT_EQ(waits_.TakeAll(), std::vector<std::chrono::milliseconds>{50ms});
}

TEST_F(ClientControllerErrorsTest, ARateLimitTooLongToWaitForIsReportedAtOnce) {
  factory_.answer = Answer::kRateLimitedLong;
  auto login = client_->Login(kUser, util::SecretString("comp3331"));
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->status, ClientLoginStatus::kError);
  EXPECT_EQ(login->message, "too many attempts; retry in 60 s");
  EXPECT_EQ(factory_.turned_away.load(), 1);
  EXPECT_TRUE(waits_.TakeAll().empty());
}

TEST_F(ClientControllerErrorsTest, ABeaconThatCannotBeSentIsNoLostConnection) {
  LogIn();
  // Broadcast without SO_BROADCAST: the kernel refuses the datagram (EACCES, or
  // ENETUNREACH without a route).
  auto sent = client_->SendBeacon("255.255.255.255", 9);
  EXPECT_EQ(sent.status().code(), StatusCode::kIoError) << sent.status().ToString();
  auto tempid = client_->DownloadTempId();
  EXPECT_TRUE(tempid.ok()) << tempid.status().ToString();
}

TEST_F(ClientControllerErrorsTest, ADroppedConnectionIsUnavailable) {
  LogIn();
  server_->Stop(0ms);
  auto tempid = client_->DownloadTempId();
  EXPECT_EQ(tempid.status().code(), StatusCode::kUnavailable) << tempid.status().ToString();
  EXPECT_EQ(client_->UploadContactLog().status().code(), StatusCode::kUnavailable);
  // No TempID yet, so the beacon needs one and reports the loss.
  EXPECT_EQ(client_->SendBeacon("127.0.0.1", 9).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(client_->Logout().code(), StatusCode::kUnavailable);
  // And a server that is not there at all.
  auto again = client_->Connect(nullptr);
  EXPECT_EQ(again.status().code(), StatusCode::kUnavailable) << again.status().ToString();
}

TEST_F(ClientControllerErrorsTest, AServerThatDoesNotAnswerInTimeIsSaidToHaveTimedOut) {
  // A real second passes: the reply deadline is the connection's Asio timer, not the
  // injected clock, and 1 s is the shortest timeout_seconds.
  auto client = ConnectedClient(1);
  auto login = client->Login(kUser, util::SecretString("comp3331"));
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  ASSERT_EQ(login->status, ClientLoginStatus::kWelcome) << login->message;
  factory_.answer = Answer::kHold;
  const auto start = std::chrono::steady_clock::now();
  const util::Status lost = util::Unavailable(
      "the server did not answer within 1 s (timed out); the connection was closed");
  EXPECT_EQ(client->DownloadTempId().status(), lost);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // A late answer could be taken for the next request's, so the connection is gone.
  factory_.answer = Answer::kServe;
  EXPECT_EQ(client->UploadContactLog().status(), lost);
  EXPECT_EQ(client->Logout(), lost);
}

TEST_F(ClientControllerErrorsTest, AServerThatEndsTheSessionIsSaidToHaveClosedIt) {
  LogIn();
  // The server's Error text mentions "timed out", yet the client did not time out.
  factory_.answer = Answer::kTimeout;
  const util::Status closed = util::Unavailable("the server closed the connection");
  EXPECT_EQ(client_->DownloadTempId().status(), closed);
  factory_.answer = Answer::kServe;
  EXPECT_EQ(client_->UploadContactLog().status(), closed);
  EXPECT_EQ(client_->Logout(), closed);
}

}  // namespace
}  // namespace bluetrace::net
