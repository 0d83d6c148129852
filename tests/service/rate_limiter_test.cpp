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
