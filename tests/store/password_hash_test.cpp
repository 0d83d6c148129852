#include "bluetrace/store/password_hash.hpp"

#include <gtest/gtest.h>

#include <string>

#include "bluetrace/protocol/text_records.hpp"
#include "support/fake_random.hpp"

namespace bluetrace::store {
namespace {

// Small costs keep the suite fast; the defaults are exercised once below.
constexpr Argon2Params kFast{.memory_kib = 8, .iterations = 1, .parallelism = 1};

TEST(PasswordHashTest, HashHasTheStandardEncodingAndVerifies) {
  test::SeededRandom random(1);
  auto hash = HashPassword("comp3331", kFast, random);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << *hash;
  // 16-byte salt and 32-byte hash: 22 and 43 base64 characters.
  const std::size_t salt_at = hash->rfind('$', hash->rfind('$') - 1) + 1;
  const std::size_t hash_at = hash->rfind('$') + 1;
  EXPECT_EQ(hash_at - 1 - salt_at, 22u);
  EXPECT_EQ(hash->size() - hash_at, 43u);

  EXPECT_TRUE(*VerifyPassword(*hash, "comp3331"));
  EXPECT_FALSE(*VerifyPassword(*hash, "comp3332"));
  EXPECT_FALSE(*VerifyPassword(*hash, "comp333"));
  EXPECT_FALSE(*VerifyPassword(*hash, ""));
}

TEST(PasswordHashTest, DefaultParamsProduceTheDocumentedEncoding) {
  auto hash = HashPassword("kara1234", Argon2Params{}, util::OpenSslRandom::Instance());
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *hash;
  EXPECT_TRUE(*VerifyPassword(*hash, "kara1234"));
  EXPECT_FALSE(*VerifyPassword(*hash, "kara1235"));
  EXPECT_EQ(protocol::ParseArgon2Encoding(*hash)->params, Argon2Params{});
}

TEST(PasswordHashTest, SaltsDifferSoHashesDiffer) {
  test::SeededRandom random(7);
  auto a = HashPassword("datha457", kFast, random);
  auto b = HashPassword("datha457", kFast, random);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(*VerifyPassword(*b, "datha457"));
}

TEST(PasswordHashTest, VerifiesTheReferenceTestVector) {
  // A published test vector of the Argon2 reference implementation: password "password",
  // salt "somesalt", m=256 KiB, t=2, p=1. Proves the encoding interoperates.
  const std::string known =
      "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
  auto ok = VerifyPassword(known, "password");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(*ok);
  EXPECT_FALSE(*VerifyPassword(known, "Password"));
}

TEST(PasswordHashTest, MalformedEncodingIsAnErrorNotFalse) {
  test::SeededRandom random(3);
  const std::string good = *HashPassword("bada4568", kFast, random);
  const std::string bad[] = {
      "",
      "bada4568",
      "$argon2i$v=19$m=8,t=1,p=1$c29tZXNhbHRzYWx0$" + good.substr(good.rfind('$') + 1),
      "$argon2id$v=16$m=8,t=1,p=1$c29tZXNhbHRzYWx0$" + good.substr(good.rfind('$') + 1),
      good.substr(0, good.rfind('$')),                           // no hash
      good.substr(0, good.size() - 1) + "*",                     // not base64
      "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHRzYWx0$" +  // 4 TiB: refused unrun
          good.substr(good.rfind('$') + 1),
      "$argon2id$v=19$m=8,t=1000,p=1$c29tZXNhbHRzYWx0$" + good.substr(good.rfind('$') + 1),
      "$argon2id$v=19$m=08,t=1,p=1$c29tZXNhbHRzYWx0$" + good.substr(good.rfind('$') + 1),
  };
  for (const std::string& encoded : bad) {
    auto got = VerifyPassword(encoded, "bada4568");
    ASSERT_FALSE(got.ok()) << encoded;
    EXPECT_EQ(got.status().code(), util::StatusCode::kInvalidArgument) << encoded;
    EXPECT_EQ(got.status().message().rfind("password hash is not a valid Argon2id encoding: ", 0),
              0u);
  }
}

TEST(PasswordHashTest, RejectsBadParamsAndPasswords) {
  test::SeededRandom random(5);
  EXPECT_EQ(ValidateArgon2Params(Argon2Params{}), util::Status::Ok());
  EXPECT_NE(ValidateArgon2Params({.memory_kib = 7, .iterations = 1, .parallelism = 1})
                .message()
                .find("memory_kib"),
            std::string::npos);
  EXPECT_NE(ValidateArgon2Params({.memory_kib = 8, .iterations = 0, .parallelism = 1})
                .message()
                .find("iterations"),
            std::string::npos);
  EXPECT_NE(ValidateArgon2Params({.memory_kib = 64, .iterations = 1, .parallelism = 0})
                .message()
                .find("parallelism"),
            std::string::npos);
  EXPECT_FALSE(ValidateArgon2Params({.memory_kib = 15, .iterations = 1, .parallelism = 2}).ok());
  EXPECT_FALSE(ValidateArgon2Params({.memory_kib = kMaxArgon2MemoryKib + 1, .iterations = 1}).ok());
  EXPECT_FALSE(HashPassword("pw", {.memory_kib = 1}, random).ok());
  EXPECT_EQ(HashPassword("", kFast, random).status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_FALSE(HashPassword(std::string(kMaxPasswordBytes + 1, 'x'), kFast, random).ok());
  EXPECT_TRUE(HashPassword(std::string(kMaxPasswordBytes, 'x'), kFast, random).ok());
}

TEST(PasswordHashTest, RandomFailureIsReported) {
  test::ScriptedRandom random({1, 2, 3});  // fewer than the 16 salt bytes
  auto got = HashPassword("pw", kFast, random);
  EXPECT_EQ(got.status().code(), util::StatusCode::kUnavailable);
}

TEST(PasswordHashTest, DummyHashMatchesNoPasswordAndDiffersEachTime) {
  test::SeededRandom random(11);
  auto a = MakeDummyHash(kFast, random);
  auto b = MakeDummyHash(kFast, random);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << *a;
  EXPECT_NE(*a, *b);
  for (const std::string& password :
       {std::string(), std::string("password"), std::string("comp3331"), std::string(16, 'a'),
        std::string(16, 'z'), std::string(kMaxPasswordBytes, 'x')}) {
    auto match = VerifyPassword(*a, password);
    ASSERT_TRUE(match.ok()) << match.status().ToString();
    EXPECT_FALSE(*match) << password;
  }
}

TEST(PasswordHashTest, DummyHashReportsBadParamsAndRandomFailure) {
  test::SeededRandom random(13);
  EXPECT_EQ(MakeDummyHash({.memory_kib = 1}, random).status().code(),
            util::StatusCode::kInvalidArgument);
  test::ScriptedRandom short_random({1, 2, 3});  // fewer than the 16 password bytes
  EXPECT_EQ(MakeDummyHash(kFast, short_random).status().code(), util::StatusCode::kUnavailable);
}

// The credentials.txt loader and the login verifier read an encoding with one parser, so a
// file that loads never holds a hash that login then refuses as malformed.
TEST(PasswordHashTest, TheLoaderAndTheVerifierAgreeOnEveryEncoding) {
  const std::string salt = "c29tZXNhbHQ";                                  // 8 bytes
  const std::string hash = "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";  // 32 bytes
  const std::string head = "$argon2id$v=19$m=256,t=2,p=1$";
  const std::string long64 = std::string(85, 'A') + "A";  // 64 bytes
  const std::string long65 = std::string(87, 'A');        // 65 bytes
  const struct {
    std::string encoded;
    bool accepted;
  } table[] = {
      {head + salt + "$" + hash, true},
      {"$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + hash, true},
      {"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g", false},  // 8-byte hash
      {head + salt + "$AAAAAAAAAAAAAAAAAAAAAA", true},                    // 16-byte hash
      {head + salt + "$AAAAAAAAAAAAAAAAAAAA", false},                     // 15-byte hash
      {head + salt + "$" + long64, true},
      {head + salt + "$" + long65, false},
      {head + "c29tZXNhbA$" + hash, false},  // 7-byte salt
      {head + long64 + "$" + hash, true},
      {head + long65 + "$" + hash, false},
      {head + "c29tZXNhbHR$" + hash, false},  // non-zero padding bits
      {"$argon2id$v=19$m=99999999,t=2,p=1$" + salt + "$" + hash, false},
      {"$argon2id$v=19$m=1048576,t=65,p=1$" + salt + "$" + hash, false},
      {"$argon2id$v=19$m=8192,t=1,p=65$" + salt + "$" + hash, false},
      {"$argon2id$v=19$m=4294967295,t=4294967295,p=1$" + salt + "$" + hash, false},
      {"$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + hash, false},
      {"$argon2id$v=19$m=08,t=1,p=1$" + salt + "$" + hash, false},
      {"$argon2id$v=16$m=8,t=1,p=1$" + salt + "$" + hash, false},
      {"$argon2i$v=19$m=8,t=1,p=1$" + salt + "$" + hash, false},
      {head + salt + "$" + hash + "$", false},
  };
  for (const auto& row : table) {
    auto loaded = protocol::ParseCredentialsLine("+61410666666 " + row.encoded);
    auto verified = VerifyPassword(row.encoded, "password");
    EXPECT_EQ(loaded.ok(), row.accepted) << row.encoded << ": " << loaded.status().ToString();
    EXPECT_EQ(verified.ok(), row.accepted) << row.encoded << ": " << verified.status().ToString();
    if (!loaded.ok() && !verified.ok()) {
      EXPECT_EQ(verified.status().message(), loaded.status().message()) << row.encoded;
    }
  }
}

}  // namespace
}  // namespace bluetrace::store
