// The defences of the login path (docs/SECURITY.md): concurrent guesses cannot race the
// lockout, device tokens keep a known device out of an attacker's block, and audited
// events fail closed when their record cannot be written.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "bluetrace/service/auth_service.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/store/files/file_audit_trail.hpp"
#include "service_harness.hpp"
#include "support/fault_injection_fs.hpp"

namespace bluetrace::service {
namespace {

using namespace bluetrace::protocol;  // NOLINT: message types read best unqualified
using test::Call;
using test::LoginMsg;
using test::Only;

constexpr char kUser[] = "+61410555555";
constexpr char kPassword[] = "right-password";

class LoginDefenceTest : public ::testing::Test {
 protected:
  // A real Argon2 cost (OWASP's minimum), so that a verification takes long enough for
  // every concurrent guess to arrive while the first ones are being checked.
  void OpenWithRealCost() {
    h_.config.argon2_memory_kib = 19456;
    h_.config.argon2_iterations = 2;
    ASSERT_TRUE(h_.Open().ok());
    auto s = Greeted("127.0.0.1", 1);
    EXPECT_EQ(Only<RegisterOk>(Call(*s, Register{kUser, util::SecretString(kPassword)})).user,
              kUser);
  }

  std::unique_ptr<Session> Greeted(const std::string& peer, std::uint16_t version) {
    auto s = h_.NewSession(peer);
    EXPECT_EQ(Only<HelloOk>(Call(*s, Hello{1, version, "test"})).version, version);
    return s;
  }

  // Sends one login per session, all before any answer, and collects the answers.
  std::vector<SessionReply> Concurrently(std::vector<std::unique_ptr<Session>>& sessions,
                                         const std::vector<std::string>& passwords) {
    std::vector<std::future<SessionReply>> futures;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      auto promise = std::make_shared<std::promise<SessionReply>>();
      futures.push_back(promise->get_future());
      sessions[i]->Handle(LoginMsg(kUser, passwords[i]),
                          [promise](SessionReply r) { promise->set_value(std::move(r)); });
    }
    std::vector<SessionReply> replies;
    for (auto& f : futures) {
      EXPECT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
      replies.push_back(f.get());
    }
    return replies;
  }

  // N concurrent guesses, the right one at `right`, from the given addresses in turn.
  void RaceGuesses(const std::vector<std::string>& peers) {
    constexpr std::size_t kGuesses = 40;
    constexpr std::size_t kRight = 10;
    std::vector<std::unique_ptr<Session>> sessions;
    std::vector<std::string> passwords;
    for (std::size_t i = 0; i < kGuesses; ++i) {
      sessions.push_back(Greeted(peers[i % peers.size()], 1));
      passwords.push_back(i == kRight ? kPassword : "wrong-" + std::to_string(i));
    }
    const std::uint64_t verified_before = h_.service->auth_stats().verifications.load();
    auto replies = Concurrently(sessions, passwords);

    std::map<std::string, int> answers;
    for (const auto& r : replies) {
      ASSERT_EQ(r.messages.size(), 1u);
      answers[std::string(MessageName(TypeOf(r.messages[0])))]++;
    }
    // Exactly the three failures that cause the block were verified; nothing after it.
    EXPECT_EQ(h_.service->auth_stats().verifications.load() - verified_before, 3u);
    EXPECT_EQ(answers["WrongPassword"], 2);
    EXPECT_EQ(answers["Blocked"], 1);
    EXPECT_EQ(answers["Welcome"], 0);
    // Every other guess, the right one included, got what any guess during a block gets
    // (or Busy, which never looks at the password either).
    EXPECT_EQ(answers["StillBlocked"] + answers["Busy"], static_cast<int>(kGuesses) - 3);
    const auto& right = replies[kRight].messages[0];
    const auto& neighbour = replies[kRight + 1].messages[0];
    EXPECT_EQ(TypeOf(right), TypeOf(neighbour));
    EXPECT_TRUE(std::holds_alternative<StillBlocked>(right) || std::holds_alternative<Busy>(right))
        << MessageName(TypeOf(right));
  }

  test::ServiceHarness h_;
};

TEST_F(LoginDefenceTest, ConcurrentGuessesFromOneAddressVerifyAtMostThree) {
  OpenWithRealCost();
  RaceGuesses({"127.0.0.1"});
}

TEST_F(LoginDefenceTest, ConcurrentGuessesFromTwoAddressesVerifyAtMostThree) {
  OpenWithRealCost();
  RaceGuesses({"127.0.0.1", "10.9.8.7"});
}

TEST_F(LoginDefenceTest, AfterTheBlockRunsOutTheRightPasswordWorksAgain) {
  OpenWithRealCost();
  RaceGuesses({"127.0.0.1"});
  h_.clock().AdvanceSeconds(h_.config.block_duration_seconds);
  auto s = Greeted("127.0.0.1", 1);
  EXPECT_EQ(Only<Welcome>(Call(*s, LoginMsg(kUser, kPassword))).user, kUser);
}

// --- device tokens

class DeviceLockoutTest : public LoginDefenceTest {
 protected:
  void OpenCheap(bool device_lockout) {
    h_.config.device_lockout = device_lockout;
    ASSERT_TRUE(h_.Open().ok());
    auto s = Greeted("127.0.0.1", 1);
    Only<RegisterOk>(Call(*s, Register{kUser, util::SecretString(kPassword)}));
  }

  SessionReply DeviceLoginAs(const std::string& password, const std::string& token,
                             const std::string& peer = "127.0.0.1") {
    auto s = Greeted(peer, 2);
    return Call(*s, DeviceLogin{kUser, util::SecretString(password), util::SecretString(token)});
  }

  // The device's first login: it gets a token.
  std::string EnrolDevice() {
    auto w = Only<DeviceWelcome>(DeviceLoginAs(kPassword, ""));
    EXPECT_EQ(w.user, kUser);
    EXPECT_EQ(w.text, "Welcome to the BlueTrace Simulator!");
    EXPECT_EQ(w.device_token.size(), 64u);
    return std::string(w.device_token.view());
  }

  void AttackerBlocksTheUser() {
    auto s = Greeted("192.0.2.66", 1);
    Only<WrongPassword>(Call(*s, LoginMsg(kUser, "guess-1")));
    Only<WrongPassword>(Call(*s, LoginMsg(kUser, "guess-2")));
    Only<Blocked>(Call(*s, LoginMsg(kUser, "guess-3")));
  }
};

TEST_F(DeviceLockoutTest, AKnownDeviceIsNotBlockedByFailuresFromElsewhere) {
  OpenCheap(true);
  const std::string token = EnrolDevice();
  AttackerBlocksTheUser();
  // Without the token (a new device, the attacker): blocked.
  Only<StillBlocked>(DeviceLoginAs(kPassword, ""));
  Only<StillBlocked>(Call(*Greeted("127.0.0.1", 1), LoginMsg(kUser, kPassword)));
  // With it: in, and the token stays (nothing new is issued).
  auto w = Only<DeviceWelcome>(DeviceLoginAs(kPassword, token));
  EXPECT_TRUE(w.device_token.empty());
}

TEST_F(DeviceLockoutTest, FailuresWithTheTokenStillBlockThatDevice) {
  OpenCheap(true);
  const std::string token = EnrolDevice();
  Only<WrongPassword>(DeviceLoginAs("wrong-1", token));
  Only<WrongPassword>(DeviceLoginAs("wrong-2", token));
  Only<Blocked>(DeviceLoginAs("wrong-3", token));
  Only<StillBlocked>(DeviceLoginAs(kPassword, token));
  // The device's block is its own: the user can still log in from elsewhere.
  Only<DeviceWelcome>(DeviceLoginAs(kPassword, ""));
  h_.clock().AdvanceSeconds(h_.config.block_duration_seconds);
  Only<DeviceWelcome>(DeviceLoginAs(kPassword, token));
}

TEST_F(DeviceLockoutTest, WithTheDefenceOffTheOriginalRuleBlocksEveryDevice) {
  OpenCheap(false);
  const std::string token = EnrolDevice();
  AttackerBlocksTheUser();
  Only<StillBlocked>(DeviceLoginAs(kPassword, token));
}

TEST_F(DeviceLockoutTest, ATokenOfAnotherUserOrAMadeUpOneCountsAsNone) {
  OpenCheap(true);
  const std::string token = EnrolDevice();
  auto s = Greeted("127.0.0.1", 1);
  Only<RegisterOk>(Call(*s, Register{"+61410444444", util::SecretString("other-password")}));
  AttackerBlocksTheUser();
  Only<StillBlocked>(DeviceLoginAs(kPassword, std::string(64, 'a')));
  // The other user's login with this user's token is an untrusted login of that user.
  auto other = Greeted("127.0.0.1", 2);
  auto w = Only<DeviceWelcome>(
      Call(*other, DeviceLogin{"+61410444444", util::SecretString("other-password"),
                               util::SecretString(token)}));
  EXPECT_EQ(w.device_token.size(), 64u);  // a token of its own
}

TEST_F(DeviceLockoutTest, TokensSurviveARestart) {
  OpenCheap(true);
  const std::string token = EnrolDevice();
  ASSERT_TRUE(h_.Open().ok());
  AttackerBlocksTheUser();
  Only<DeviceWelcome>(DeviceLoginAs(kPassword, token));
}

TEST_F(DeviceLockoutTest, VersionOneSessionsKeepTheOriginalMessages) {
  OpenCheap(true);
  auto s = Greeted("127.0.0.1", 1);
  auto r = Call(*s, DeviceLogin{kUser, util::SecretString(kPassword), util::SecretString("")});
  EXPECT_EQ(Only<Error>(r).code, ErrorCode::kUnexpectedMessage);
  EXPECT_EQ(Only<Welcome>(Call(*s, LoginMsg(kUser, kPassword))).user, kUser);
}

// --- a class behind one NAT address

TEST(ClassroomTest, SixtyClientsBehindOneAddressLogInAtOnceWithTheDefaultLimits) {
  test::ServiceHarness h;
  constexpr int kClass = 60;
  std::string credentials;
  for (int i = 0; i < kClass; ++i) {
    credentials += "+614100100" + std::to_string(10 + i) + " student" + std::to_string(i) + "\n";
  }
  ASSERT_TRUE(store::PosixFileSystem::Instance()
                  .ReplaceFileAtomically(h.dir.File("credentials.txt"), credentials, 0600)
                  .ok());
  h.config.login_rate = ServerConfig{}.login_rate;  // the defaults, not the harness's
  ASSERT_TRUE(h.Open().ok());
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < kClass; ++i) {
    sessions.push_back(h.NewSession("198.51.100.7"));
    Only<HelloOk>(Call(*sessions.back(), Hello{1, 2, "student"}));
  }
  // Everyone logs in at once; those answered Busy (the address's share of the Argon2
  // queue is full) try again, as bluetrace-client does. Nobody is rate-limited.
  std::vector<std::size_t> waiting(kClass);
  for (std::size_t i = 0; i < waiting.size(); ++i) waiting[i] = i;
  int welcomed = 0;
  for (int round = 0; round < 20 && !waiting.empty(); ++round) {
    std::vector<std::future<SessionReply>> replies;
    for (std::size_t i : waiting) {
      auto promise = std::make_shared<std::promise<SessionReply>>();
      replies.push_back(promise->get_future());
      sessions[i]->Handle(
          LoginMsg("+614100100" + std::to_string(10 + i), "student" + std::to_string(i)),
          [promise](SessionReply r) { promise->set_value(std::move(r)); });
    }
    std::vector<std::size_t> busy;
    for (std::size_t k = 0; k < replies.size(); ++k) {
      ASSERT_EQ(replies[k].wait_for(std::chrono::seconds(60)), std::future_status::ready);
      SessionReply r = replies[k].get();
      if (r.messages.size() == 1 && std::holds_alternative<Welcome>(r.messages[0])) {
        ++welcomed;
      } else if (r.messages.size() == 1 && std::holds_alternative<Busy>(r.messages[0])) {
        busy.push_back(waiting[k]);
      } else {
        ADD_FAILURE() << "a student got "
                      << (r.messages.empty() ? "nothing" : MessageName(TypeOf(r.messages[0])));
      }
    }
    waiting = busy;
  }
  EXPECT_EQ(welcomed, kClass);

  // The 61st attempt is refused, and told when to retry: in version 2 as RateLimited...
  auto late = h.NewSession("198.51.100.7");
  Only<HelloOk>(Call(*late, Hello{1, 2, "late"}));
  auto limited = Only<RateLimited>(Call(*late, LoginMsg("+61410010010", "student0")));
  EXPECT_EQ(limited.retry_after_ms, 500u);  // a token every 0.5 s at 2 per second
  EXPECT_EQ(limited.message, "too many login attempts from this address; retry in 1 s");
  // ...and in version 1 as the Error it always was, with the time in its text.
  auto old = h.NewSession("198.51.100.7");
  Only<HelloOk>(Call(*old, Hello{1, 1, "old"}));
  auto error = Only<Error>(Call(*old, LoginMsg("+61410010010", "student0")));
  EXPECT_EQ(error.code, ErrorCode::kRateLimited);
  EXPECT_EQ(error.message, "too many login attempts from this address; retry in 1 s");
  h.clock().AdvanceSeconds(1);
  Only<Welcome>(Call(*old, LoginMsg("+61410010010", "student0")));
}

// --- audit: fail closed

class AuditFailClosedTest : public ::testing::Test {
 protected:
  AuditFailClosedTest() : faulty_(store::PosixFileSystem::Instance()) {}
  void SetUp() override {
    h_.UseOriginal("credentials.txt");
    h_.UseOriginal("tempIDs.txt");
    h_.fs = &faulty_;
    ASSERT_TRUE(h_.Open().ok());
  }
  test::FaultInjectingFileSystem faulty_;
  test::ServiceHarness h_;
};

TEST_F(AuditFailClosedTest, ALoginWhoseRecordCannotBeWrittenIsNotWelcomed) {
  auto s = h_.NewSession();
  Only<HelloOk>(Call(*s, Hello{1, 1, "test"}));
  faulty_.SetDiskFull(true);
  auto r = Call(*s, LoginMsg("+61410888888", "comp3331"));
  EXPECT_EQ(Only<Error>(r).code, ErrorCode::kInternal);
  EXPECT_FALSE(s->logged_in());
  EXPECT_FALSE(h_.service->audit_healthy());
  // While the log is down nothing is verified: a wrong password is not even looked at.
  const auto verified = h_.service->auth_stats().verifications.load();
  EXPECT_EQ(Only<Error>(Call(*s, LoginMsg("+61410888888", "wrong"))).code, ErrorCode::kInternal);
  EXPECT_EQ(h_.service->auth_stats().verifications.load(), verified);

  // The disk comes back: after the reopen interval the log is reopened and logins work.
  faulty_.SetDiskFull(false);
  h_.clock().AdvanceSeconds(store::FileAuditTrail::kReopenInterval);
  EXPECT_TRUE(h_.service->audit_healthy());
  Only<Welcome>(Call(*s, LoginMsg("+61410888888", "comp3331")));
  auto audit = store::PosixFileSystem::Instance().ReadFile(h_.dir.path() + "/audit.log");
  ASSERT_TRUE(audit.ok());
  EXPECT_NE(audit->find(" login_ok user=+61410888888"), std::string::npos);
  auto verify =
      store::AuditLog::Verify(store::PosixFileSystem::Instance(), h_.dir.path() + "/audit.log");
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok()) << verify->problem;
}

TEST_F(AuditFailClosedTest, AFailedLoginWhoseRecordCannotBeWrittenIsAnError) {
  auto s = h_.NewSession();
  Only<HelloOk>(Call(*s, Hello{1, 1, "test"}));
  // lockouts.txt's replace syncs first, then the audit append.
  faulty_.FailSync(2);
  EXPECT_EQ(Only<Error>(Call(*s, LoginMsg("+61410888888", "wrong"))).code, ErrorCode::kInternal);
  EXPECT_FALSE(h_.service->audit_healthy());
}

TEST_F(AuditFailClosedTest, AnUploadWhoseRecordCannotBeWrittenIsNotAcknowledged) {
  auto s = h_.NewSession();
  Only<HelloOk>(Call(*s, Hello{1, 1, "test"}));
  Only<Welcome>(Call(*s, LoginMsg("+61410888888", "comp3331")));
  const std::string log = "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\n";
  Call(*s, UploadBegin{log.size()});
  Call(*s, UploadChunk{log});
  // The report is written (a replace, whose fsync succeeds); the audit append's sync fails.
  faulty_.FailSync(2);
  EXPECT_EQ(Only<Error>(Call(*s, UploadEnd{})).code, ErrorCode::kInternal);
}

TEST_F(AuditFailClosedTest, ARegistrationWhoseRecordCannotBeWrittenIsAnError) {
  auto s = h_.NewSession();
  Only<HelloOk>(Call(*s, Hello{1, 1, "test"}));
  // credentials.txt's replace syncs first, then the audit append.
  faulty_.FailSync(2);
  auto r = Call(*s, Register{"+61410222222", util::SecretString("long-enough")});
  EXPECT_EQ(Only<Error>(r).code, ErrorCode::kInternal);
}

// --- the hash workers only hash

// One hash worker; the write of lockouts.txt hangs until the test lets it go. The failed
// login whose count waits for that write must not hold the worker: the next user is
// verified, recorded and welcomed meanwhile (docs/BENCHMARKS.md, "Logins against the
// Argon2 bound"). The audit record's fsync runs in the same place after the hash.
TEST(HashWorkerTest, AWriteAfterAHashDoesNotHoldTheHashWorker) {
  // Declared before the service, which may still call the hook and the callbacks while
  // it shuts down.
  std::atomic<bool> armed{false};
  std::promise<void> write_waiting, release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<SessionReply> a_reply, b_reply;
  test::FaultInjectingFileSystem faulty(store::PosixFileSystem::Instance());
  test::ServiceHarness h;
  h.UseOriginal("credentials.txt");
  h.config.argon2_workers = 1;
  faulty.SetBeforeWriteHook([&](std::string_view op, const std::string& path) {
    if (op == "replace" && path.ends_with("lockouts.txt") && armed.exchange(false)) {
      write_waiting.set_value();
      gate.wait();
    }
  });
  h.fs = &faulty;
  ASSERT_TRUE(h.Open().ok());
  auto a = h.NewSession();
  auto b = h.NewSession();
  Only<HelloOk>(Call(*a, Hello{1, 1, "test"}));
  Only<HelloOk>(Call(*b, Hello{1, 1, "test"}));

  armed = true;
  a->Handle(LoginMsg("+61410777777", "wrong"),
            [&](SessionReply r) { a_reply.set_value(std::move(r)); });
  if (write_waiting.get_future().wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    release.set_value();
    FAIL() << "the failed login's count was never written";
  }
  b->Handle(LoginMsg("+61410888888", "comp3331"),
            [&](SessionReply r) { b_reply.set_value(std::move(r)); });
  auto b_future = b_reply.get_future();
  const bool welcomed = b_future.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  release.set_value();
  EXPECT_TRUE(welcomed) << "the only hash worker waited for another login's write";
  auto a_future = a_reply.get_future();
  ASSERT_EQ(a_future.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  ASSERT_EQ(b_future.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_EQ(Only<WrongPassword>(a_future.get()).attempts_left, 2);
  EXPECT_EQ(Only<Welcome>(b_future.get()).user, "+61410888888");
}

}  // namespace
}  // namespace bluetrace::service
