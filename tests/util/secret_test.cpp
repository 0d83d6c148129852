#include "bluetrace/util/secret.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bluetrace::util {
namespace {

TEST(SecretStringTest, HoldsAndComparesBytes) {
  SecretString a("comp3331");
  EXPECT_EQ(a.view(), "comp3331");
  EXPECT_EQ(a.size(), 8u);
  EXPECT_TRUE(a == SecretString("comp3331"));
}

TEST(SecretStringTest, TakingAStringWipesTheSource) {
  std::string s = "kara1234";
  SecretString secret(std::move(s));
  EXPECT_EQ(secret.view(), "kara1234");
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): wiped, by contract
}

TEST(SecretStringTest, MoveLeavesSourceEmpty) {
  SecretString a("datha457");
  SecretString b(std::move(a));
  EXPECT_EQ(b.view(), "datha457");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move)
  b.clear();
  EXPECT_TRUE(b.empty());
}

TEST(WipeStringTest, ZeroesTheWholeCapacity) {
  std::string s(100, 'x');
  s.resize(10);
  const char* data = s.data();
  WipeString(s);
  EXPECT_TRUE(s.empty());
  // The buffer is still owned by `s` (clear keeps capacity); every byte is now zero.
  for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(data[i], '\0') << i;
}

}  // namespace
}  // namespace bluetrace::util
