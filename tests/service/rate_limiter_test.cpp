#include "bluetrace/service/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace bluetrace::service {
namespace {

using std::chrono::milliseconds;

TEST(KeyedRateLimiterTest, AllowsTheBurstThenRefusesUntilRefilled) {
  util::ManualClock clock;
  KeyedRateLimiter limiter(clock, RateLimit{1.0, 3.0});
  EXPECT_TRUE(limiter.Allow("127.0.0.1"));
  EXPECT_TRUE(limiter.Allow("127.0.0.1"));
  EXPECT_TRUE(limiter.Allow("127.0.0.1"));
  EXPECT_FALSE(limiter.Allow("127.0.0.1"));
  clock.Advance(milliseconds(999));
  EXPECT_FALSE(limiter.Allow("127.0.0.1"));
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(limiter.Allow("127.0.0.1"));
  EXPECT_FALSE(limiter.Allow("127.0.0.1"));
}

TEST(KeyedRateLimiterTest, ARefusalSaysHowLongUntilTheNextToken) {
  util::ManualClock clock;
  KeyedRateLimiter limiter(clock, RateLimit{2.0, 1.0});
  milliseconds wait{0};
  EXPECT_TRUE(limiter.Allow("k", &wait));
  EXPECT_FALSE(limiter.Allow("k", &wait));
  EXPECT_EQ(wait, milliseconds(500));
  clock.Advance(milliseconds(400));
  EXPECT_FALSE(limiter.Allow("k", &wait));
  EXPECT_EQ(wait, milliseconds(100));
  clock.Advance(milliseconds(100));
  EXPECT_TRUE(limiter.Allow("k", &wait));
}

TEST(KeyedRateLimiterTest, ARefundGivesTheTokenBackUpToTheBurst) {
  util::ManualClock clock;
  KeyedRateLimiter limiter(clock, RateLimit{0.001, 1.0});
  EXPECT_TRUE(limiter.Allow("k"));
  EXPECT_FALSE(limiter.Allow("k"));
  limiter.Refund("k");
  EXPECT_TRUE(limiter.Allow("k"));
  limiter.Refund("k");
  limiter.Refund("k");  // capped at the burst
  EXPECT_TRUE(limiter.Allow("k"));
  EXPECT_FALSE(limiter.Allow("k"));
  limiter.Refund("unknown");  // nothing to refund
  EXPECT_EQ(limiter.size(), 1u);
}

TEST(KeyedRateLimiterTest, KeysAreIndependent) {
  util::ManualClock clock;
  KeyedRateLimiter limiter(clock, RateLimit{1.0, 1.0});
  EXPECT_TRUE(limiter.Allow("127.0.0.1"));
  EXPECT_FALSE(limiter.Allow("127.0.0.1"));
  EXPECT_TRUE(limiter.Allow("127.0.0.2"));
}

TEST(KeyedRateLimiterTest, RefillNeverExceedsTheBurst) {
  util::ManualClock clock;
  KeyedRateLimiter limiter(clock, RateLimit{100.0, 2.0});
  EXPECT_TRUE(limiter.Allow("k"));
  clock.AdvanceSeconds(3600);
  EXPECT_TRUE(limiter.Allow("k"));
  EXPECT_TRUE(limiter.Allow("k"));
  EXPECT_FALSE(limiter.Allow("k"));
}

TEST(KeyedRateLimiterTest, MemoryStaysBoundedUnderASprayOfKeys) {
  util::ManualClock clock;
  KeyedRateLimiter limiter(clock, RateLimit{0.001, 1.0}, 100);
  for (int i = 0; i < 100000; ++i) {
    EXPECT_TRUE(limiter.Allow("10.0." + std::to_string(i)));  // every new key starts full
  }
  EXPECT_LE(limiter.size(), 100u);
}

TEST(KeyedRateLimiterTest, EvictionPrefersRefilledBucketsOverDrainingOnes) {
  util::ManualClock clock;
  KeyedRateLimiter limiter(clock, RateLimit{1.0, 1.0}, 2);
  EXPECT_TRUE(limiter.Allow("old"));  // drained, refills in 1 s
  clock.AdvanceSeconds(5);            // "old" is full again
  EXPECT_TRUE(limiter.Allow("attacker"));
  EXPECT_FALSE(limiter.Allow("attacker"));
  EXPECT_TRUE(limiter.Allow("new"));  // room is made by dropping the full "old" bucket
  // "attacker" kept its drained bucket: still refused.
  EXPECT_FALSE(limiter.Allow("attacker"));
}

}  // namespace
}  // namespace bluetrace::service
