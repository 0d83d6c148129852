// The client's rules (service/client_rules.hpp) on simulated time: TempID renewal around
// its expiry, what the background thread does next, the retry schedule of Busy and
// RateLimited answers and when it gives up, and what an Error reply means.
#include "bluetrace/service/client_rules.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "support/fake_random.hpp"

namespace bluetrace::service {
namespace {

using namespace std::chrono_literals;
using protocol::Message;

constexpr std::int64_t kStart = 1'600'000'000;

// A TempID of the server's default lifetime: expiry = start + 15 min - 1 s.
protocol::TempIdRecord Issued(std::int64_t start = kStart, std::int64_t lifetime = 900) {
  return {"+61410888888", *protocol::TempId::Parse("12345678901234567890"), start,
          start + lifetime - 1};
}

TEST(TempIdRenewalTest, DueOnlyWithinTheMarginBeforeTheExpiry) {
  const auto r = Issued();  // expiry kStart + 899
  EXPECT_FALSE(TempIdNeedsRenewal(r, kStart, 60));
  EXPECT_FALSE(TempIdNeedsRenewal(r, r.expiry - 60, 60));  // exactly the margin: not yet
  EXPECT_TRUE(TempIdNeedsRenewal(r, r.expiry - 59, 60));
  EXPECT_TRUE(TempIdNeedsRenewal(r, r.expiry, 60));
  EXPECT_TRUE(TempIdNeedsRenewal(r, r.expiry + 1, 60));  // expired: due, of course
  EXPECT_FALSE(TempIdNeedsRenewal(r, r.expiry, 0));      // no margin: due once expired
  EXPECT_TRUE(TempIdNeedsRenewal(r, r.expiry + 1, 0));
}

TEST(TempIdRenewalTest, TheMarginIsAtMostHalfTheLifetime) {
  const auto r = Issued(kStart, 60);                 // expiry kStart + 59; half the lifetime: 30 s
  EXPECT_FALSE(TempIdNeedsRenewal(r, kStart, 600));  // a margin of 600 s would make it due now
  EXPECT_FALSE(TempIdNeedsRenewal(r, r.expiry - 30, 600));
  EXPECT_TRUE(TempIdNeedsRenewal(r, r.expiry - 29, 600));
}

TEST(TempIdRenewalTest, AnUnrenewedTempIdStandsInForABeaconUntilItExpires) {
  const auto r = Issued();
  EXPECT_TRUE(TempIdUsableForBeacon(r, r.expiry - 10));
  EXPECT_TRUE(TempIdUsableForBeacon(r, r.expiry));  // inclusive, as a receiver checks it
  EXPECT_FALSE(TempIdUsableForBeacon(r, r.expiry + 1));
}

class BackgroundStepTest : public ::testing::Test {
 protected:
  BackgroundStepTest() {
    state_.current = &record_;
    state_.now_unix = kStart;
    state_.now = std::chrono::steady_clock::time_point(100s);
    state_.last_request = state_.now;
    state_.renew_margin_seconds = 60;
    state_.ping_interval = 60s;
  }
  // Moves both readings, as util::ManualClock does.
  void Advance(std::chrono::seconds d) {
    state_.now_unix += d.count();
    state_.now += d;
  }
  protocol::TempIdRecord record_ = Issued();
  BackgroundState state_;
};

TEST_F(BackgroundStepTest, PingsOnceTheIntervalPassedWithoutARequest) {
  EXPECT_EQ(NextBackgroundStep(state_), BackgroundStep::kCheckIdle);
  Advance(59s);
  EXPECT_EQ(NextBackgroundStep(state_), BackgroundStep::kCheckIdle);
  Advance(1s);
  EXPECT_EQ(NextBackgroundStep(state_), BackgroundStep::kPing);
  state_.last_request = state_.now;  // the ping went out
  EXPECT_EQ(NextBackgroundStep(state_), BackgroundStep::kCheckIdle);
}

TEST_F(BackgroundStepTest, RenewsADueTempIdFirstAndWaitsAfterAFailure) {
  Advance(std::chrono::seconds(record_.expiry - 60 - kStart));
  state_.last_request = state_.now;
  EXPECT_EQ(NextBackgroundStep(state_), BackgroundStep::kCheckIdle);  // not due yet
  Advance(1s);
  EXPECT_EQ(NextBackgroundStep(state_), BackgroundStep::kRenewTempId);
  // The renewal failed: no new try before kTempIdRenewRetry has passed.
  state_.last_request = state_.now;
  state_.renew_not_before = state_.now + kTempIdRenewRetry;
  Advance(kTempIdRenewRetry - 1s);
  EXPECT_EQ(NextBackgroundStep(state_), BackgroundStep::kCheckIdle);
  Advance(1s);
  EXPECT_EQ(NextBackgroundStep(state_), BackgroundStep::kRenewTempId);
  // A renewal due and a ping due: the renewal is the request that keeps the session alive.
  Advance(120s);
  EXPECT_EQ(NextBackgroundStep(state_), BackgroundStep::kRenewTempId);
}

TEST_F(BackgroundStepTest, NoTempIdIsFetchedInTheBackground) {
  state_.current = nullptr;
  Advance(2000s);
  EXPECT_EQ(NextBackgroundStep(state_), BackgroundStep::kPing);
}

TEST(RetryPolicyTest, BusyWaitsGrowWithEachRetryWithJitterAndThenGiveUp) {
  const RetryPolicy policy;
  test::SeededRandom random(7);
  for (int attempt = 0; attempt < policy.max_retries; ++attempt) {
    const std::chrono::milliseconds base = 200ms * (attempt + 1);
    for (int draw = 0; draw < 50; ++draw) {
      auto wait = BusyRetryWait(policy, 200, attempt, random);
      ASSERT_TRUE(wait.has_value()) << attempt;
      EXPECT_GE(*wait, base / 2) << attempt;
      EXPECT_LE(*wait, base + base / 2) << attempt;
    }
  }
  EXPECT_FALSE(BusyRetryWait(policy, 200, policy.max_retries, random).has_value());
}

TEST(RetryPolicyTest, TheServersBusyRetryTimeIsClampedAndABrokenGeneratorMeansNoJitter) {
  const RetryPolicy policy;
  test::ScriptedRandom broken({});  // fails at once
  EXPECT_EQ(BusyRetryWait(policy, 0, 0, broken), 50ms);
  EXPECT_EQ(BusyRetryWait(policy, 400, 0, broken), 400ms);
  EXPECT_EQ(BusyRetryWait(policy, 60'000, 0, broken), 1000ms);
  EXPECT_EQ(BusyRetryWait(policy, 60'000, 2, broken), 3000ms);
}

TEST(RetryPolicyTest, ARateLimitIsWaitedForWhenShortAndReportedWhenLong) {
  const RetryPolicy policy;
  test::SeededRandom random(7);
  EXPECT_EQ(RetryWait(policy, Message(protocol::RateLimited{30, "x"}), 0, random), 50ms);
  EXPECT_EQ(RetryWait(policy, Message(protocol::RateLimited{5000, "x"}), 2, random), 5020ms);
  EXPECT_FALSE(RetryWait(policy, Message(protocol::RateLimited{5001, "x"}), 0, random));
  // Busy and RateLimited share the retries.
  EXPECT_FALSE(RetryWait(policy, Message(protocol::RateLimited{30, "x"}), 3, random));
  EXPECT_FALSE(RetryWait(policy, Message(protocol::Busy{50}), 3, random));
  EXPECT_TRUE(RetryWait(policy, Message(protocol::Busy{50}), 2, random));
}

TEST(RetryPolicyTest, OtherAnswersAreNotRetried) {
  const RetryPolicy policy;
  test::SeededRandom random(7);
  EXPECT_FALSE(RetryWait(policy, Message(protocol::Error{protocol::ErrorCode::kRateLimited, "x"}),
                         0, random));
  EXPECT_FALSE(RetryWait(policy, Message(protocol::Pong{1}), 0, random));
}

TEST(RetryPolicyTest, APolicyOfNoRetriesGivesUpAtOnce) {
  RetryPolicy policy;
  policy.max_retries = 0;
  test::SeededRandom random(7);
  EXPECT_FALSE(RetryWait(policy, Message(protocol::Busy{50}), 0, random));
}

TEST(LoginBusyWaitTest, TheFrontEndTriesFiveMoreTimesWaitingTheHintWithinOneToFiveSeconds) {
  EXPECT_EQ(LoginBusyWait(1, 0), std::chrono::seconds(1));
  EXPECT_EQ(LoginBusyWait(2, 3), std::chrono::seconds(3));
  EXPECT_EQ(LoginBusyWait(kLoginBusyRetries, 60), std::chrono::seconds(5));
  EXPECT_FALSE(LoginBusyWait(kLoginBusyRetries + 1, 1).has_value());
}

TEST(ErrorToStatusTest, ARequestTurnedAwayIsNeverALostConnection) {
  using protocol::ErrorCode;
  EXPECT_EQ(ErrorToStatus({ErrorCode::kAlreadyExists, "taken"}), util::AlreadyExists("taken"));
  EXPECT_EQ(ErrorToStatus({ErrorCode::kInvalidArgument, "bad"}), util::InvalidArgument("bad"));
  EXPECT_EQ(ErrorToStatus({ErrorCode::kRegistrationDisabled, "off"}),
            util::FailedPrecondition("off"));
  EXPECT_EQ(ErrorToStatus({ErrorCode::kRateLimited, "slow"}), util::ResourceExhausted("slow"));
  EXPECT_EQ(ErrorToStatus({ErrorCode::kTooLarge, "big"}), util::ResourceExhausted("big"));
  EXPECT_EQ(ErrorToStatus({ErrorCode::kInternal, "oops"}),
            util::Internal("the server reported an error: oops"));
  EXPECT_EQ(ServerBusy(), util::ResourceExhausted("the server is busy; retry later"));
}

}  // namespace
}  // namespace bluetrace::service
