#include "bluetrace/util/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "support/fake_random.hpp"

namespace bluetrace::util {
namespace {

TEST(OpenSslRandomTest, FillsDistinctBuffers) {
  std::array<std::uint8_t, 32> a{}, b{};
  ASSERT_TRUE(OpenSslRandom::Instance().Fill(a).ok());
  ASSERT_TRUE(OpenSslRandom::Instance().Fill(b).ok());
  EXPECT_NE(a, b);  // 2^-256 chance of a false failure
}

TEST(UniformBelowTest, RejectsZeroBound) {
  EXPECT_FALSE(UniformBelow(OpenSslRandom::Instance(), 0).ok());
}

TEST(UniformBelowTest, StaysInRangeAndCoversIt) {
  std::vector<int> seen(10, 0);
  for (int i = 0; i < 10000; ++i) {
    auto v = UniformBelow(OpenSslRandom::Instance(), 10);
    ASSERT_TRUE(v.ok());
    ASSERT_LT(*v, 10u);
    ++seen[*v];
  }
  // Each bucket expects 1000; 700 is > 9 standard deviations away.
  for (int c : seen) EXPECT_GT(c, 700);
}

TEST(UniformBelowTest, RejectsDrawsAboveTheLastFullMultiple) {
  // bound 3: UINT64_MAX % 3 == 0, so the limit is UINT64_MAX - 1 and UINT64_MAX itself must
  // be rejected. Script the draws: first all-ones (rejected), then 5 -> 5 % 3 == 2.
  test::ScriptedRandom r({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  //
                          0, 0, 0, 0, 0, 0, 0, 5});
  auto v = UniformBelow(r, 3);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 2u);
  EXPECT_EQ(r.consumed(), 16u);
}

TEST(UniformBelowTest, PropagatesGeneratorFailure) {
  test::ScriptedRandom r({});  // exhausted at once: Fill fails
  EXPECT_EQ(UniformBelow(r, 10).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace bluetrace::util
