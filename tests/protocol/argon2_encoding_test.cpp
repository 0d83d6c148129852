#include "bluetrace/protocol/argon2_encoding.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bluetrace::protocol {
namespace {

std::string ErrorOf(std::string_view encoded) {
  auto r = ParseArgon2Encoding(encoded);
  if (r.ok()) return "accepted";
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ParseArgon2EncodingTest, ReturnsTheParamsSaltAndHash) {
  auto e = ParseArgon2Encoding(
      "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzYWx0$"
      "oJjXTh1WvSFKAHjBNDkkd9zC7bJtVpfhBwxAeUiJsSY");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->params, (Argon2Params{.memory_kib = 65536, .iterations = 3, .parallelism = 4}));
  EXPECT_EQ(std::string(e->salt.begin(), e->salt.end()), "somesaltsalt");
  ASSERT_EQ(e->hash.size(), 32u);
  EXPECT_EQ(e->hash.front(), 0xa0);
  EXPECT_EQ(e->hash.back(), 0x26);
}

TEST(ParseArgon2EncodingTest, DecodesEveryTailLength) {
  // 16 bytes (tail 2), 17 bytes (tail 3), 18 bytes (no tail) of 0xff.
  const std::string salt = "c29tZXNhbHQ";
  for (const auto& [text, bytes] :
       std::vector<std::pair<std::string, std::size_t>>{{"/////////////////////w", 16},
                                                        {"//////////////////////8", 17},
                                                        {"////////////////////////", 18}}) {
    auto e = ParseArgon2Encoding("$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + text);
    ASSERT_TRUE(e.ok()) << text << ": " << e.status().ToString();
    EXPECT_EQ(e->hash, std::vector<std::uint8_t>(bytes, 0xff)) << text;
  }
}

TEST(ParseArgon2EncodingTest, AppliesTheLoginBounds) {
  const std::string p = "password hash is not a valid Argon2id encoding: ";
  const std::string salt = "c29tZXNhbHQ";
  const std::string hash = "RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
  EXPECT_EQ(ErrorOf("$argon2id$v=19$m=99999999,t=2,p=1$" + salt + "$" + hash),
            p + "argon2 memory_kib must be 8-1048576, got 99999999");
  EXPECT_EQ(ErrorOf("$argon2id$v=19$m=8,t=65,p=1$" + salt + "$" + hash),
            p + "argon2 iterations must be 1-64, got 65");
  EXPECT_EQ(ErrorOf("$argon2id$v=19$m=8192,t=1,p=65$" + salt + "$" + hash),
            p + "argon2 parallelism must be 1-64, got 65");
  EXPECT_EQ(ErrorOf("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g"),
            p + "hash is shorter than 16 bytes");
  EXPECT_EQ(ErrorOf("$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + std::string(87, 'A')),
            p + "hash is longer than 64 bytes");
  EXPECT_EQ(ErrorOf("$argon2id$v=19$m=8,t=1,p=1$" + std::string(87, 'A') + "$" + hash),
            p + "salt is longer than 64 bytes");
  EXPECT_EQ(ErrorOf("$argon2id$v=19$m=1048576,t=64,p=64$" + salt + "$" + hash), "accepted");
}

}  // namespace
}  // namespace bluetrace::protocol
