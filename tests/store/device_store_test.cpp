#include "bluetrace/store/device_store.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bluetrace/util/digest.hpp"
#include "support/fake_random.hpp"

namespace bluetrace::store {
namespace {

TEST(DeviceTokenTest, NewTokenIsTheRandomBytesInHexWithItsDigest) {
  std::vector<std::uint8_t> bytes(DeviceStore::kTokenBytes);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 9);
  test::ScriptedRandom random(bytes);
  auto t = NewDeviceToken(random);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->token, "0009121b242d363f48515a636c757e879099a2abb4bdc6cfd8e1eaf3fc050e17");
  EXPECT_EQ(t->digest, util::Sha256Hex(t->token));
  EXPECT_EQ(t->id(), t->digest.substr(0, 16));
  EXPECT_EQ(random.consumed(), DeviceStore::kTokenBytes);
  EXPECT_EQ(DigestOfDeviceToken(t->token), t->digest);
  EXPECT_TRUE(IsDeviceTokenDigest(t->digest));
}

TEST(DeviceTokenTest, TwoTokensDiffer) {
  test::SeededRandom random(3);
  auto a = NewDeviceToken(random);
  auto b = NewDeviceToken(random);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->token, b->token);
  EXPECT_NE(a->digest, b->digest);
}

TEST(DeviceTokenTest, GeneratorFailureIsReported) {
  test::ScriptedRandom random({1, 2, 3});
  EXPECT_EQ(NewDeviceToken(random).status().code(), util::StatusCode::kUnavailable);
}

TEST(DeviceTokenTest, OnlyTokensOfTheIssuedFormHaveADigest) {
  const std::string good(64, 'a');
  EXPECT_TRUE(DigestOfDeviceToken(good).has_value());
  EXPECT_FALSE(DigestOfDeviceToken("").has_value());
  EXPECT_FALSE(DigestOfDeviceToken(std::string(63, 'a')).has_value());
  EXPECT_FALSE(DigestOfDeviceToken(std::string(65, 'a')).has_value());
  EXPECT_FALSE(DigestOfDeviceToken(std::string(64, 'A')).has_value());
  EXPECT_FALSE(DigestOfDeviceToken(std::string(63, 'a') + "g").has_value());
  EXPECT_FALSE(IsDeviceTokenDigest(std::string(63, '0')));
  EXPECT_FALSE(IsDeviceTokenDigest(std::string(63, '0') + "F"));
}

TEST(DeviceTokenTest, DeviceUsersArePrintableFieldsOfAtMost256Bytes) {
  EXPECT_TRUE(IsDeviceUser("+61410666666"));
  EXPECT_TRUE(IsDeviceUser(std::string(256, 'u')));
  EXPECT_FALSE(IsDeviceUser(""));
  EXPECT_FALSE(IsDeviceUser(std::string(257, 'u')));
  EXPECT_FALSE(IsDeviceUser("a b"));
  EXPECT_FALSE(IsDeviceUser("a\tb"));
  EXPECT_FALSE(IsDeviceUser("a\x7f"));
  EXPECT_FALSE(IsDeviceUser("caf\xc3\xa9"));
}

}  // namespace
}  // namespace bluetrace::store
