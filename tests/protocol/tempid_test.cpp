#include "bluetrace/protocol/tempid.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <unordered_set>
#include <vector>

#include "support/fake_random.hpp"

namespace bluetrace::protocol {
namespace {

TEST(TempIdParseTest, AcceptsTwentyDigits) {
  auto id = TempId::Parse("12345678901234567890");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->view(), "12345678901234567890");
  EXPECT_EQ(id->ToString(), "12345678901234567890");
}

TEST(TempIdParseTest, KeepsLeadingZeros) {
  auto id = TempId::Parse("00000000000000000042");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->view(), "00000000000000000042");
}

TEST(TempIdParseTest, RejectsWrongLengths) {
  for (const char* bad : {"", "1234567890123456789", "123456789012345678901"}) {
    auto id = TempId::Parse(bad);
    ASSERT_FALSE(id.ok()) << bad;
    EXPECT_EQ(id.status().code(), util::StatusCode::kInvalidArgument);
    EXPECT_NE(id.status().message().find("TempID must be 20 digits"), std::string::npos);
  }
}

TEST(TempIdParseTest, RejectsNonDigitsAndNamesThePosition) {
  std::string with_nul = "12345678901234567890";
  with_nul[10] = '\0';
  // "+1" and " 1" are what strtoull-style parsers would let through; the last is 20 bytes of
  // UTF-8 fullwidth digits and a space-padded tail.
  const std::vector<std::string> bad = {"1234567890123456789a",
                                        " 2345678901234567890",
                                        "+2345678901234567890",
                                        "12345678901234567-89",
                                        with_nul,
                                        "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93"
                                        "12345678901"};
  for (const std::string& text : bad) {
    ASSERT_EQ(text.size(), 20u);
    auto id = TempId::Parse(text);
    EXPECT_FALSE(id.ok()) << text;
  }
  auto id = TempId::Parse("1234567890123456789x");
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("byte 20"), std::string::npos) << id.status().message();
}

TEST(TempIdTest, OrdersAndHashesByDigits) {
  auto a = TempId::Parse("00000000000000000001");
  auto b = TempId::Parse("00000000000000000002");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(*a, *b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(std::hash<TempId>()(*a), std::hash<TempId>()(*TempId::Parse("00000000000000000001")));
}

TEST(TempIdIntegerTest, RoundTripsTheExtremes) {
  auto zero = TempId::Parse("00000000000000000000");
  auto max = TempId::Parse("99999999999999999999");
  ASSERT_TRUE(zero.ok() && max.ok());
  EXPECT_EQ(zero->ToInteger(), 0u);
  TempIdInteger ten_pow_20 = 1;
  for (int i = 0; i < 20; ++i) ten_pow_20 *= 10;
  EXPECT_EQ(max->ToInteger(), ten_pow_20 - 1);
  EXPECT_EQ(TempId::FromInteger(0), *zero);
  EXPECT_EQ(TempId::FromInteger(ten_pow_20 - 1), *max);
}

TEST(TempIdIntegerTest, RoundTripsRandomIds) {
  test::SeededRandom random(7);
  for (int i = 0; i < 1000; ++i) {
    auto id = TempId::Generate(random);
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(TempId::FromInteger(id->ToInteger()), *id);
    // The integer is the decimal value of the digits.
    EXPECT_EQ(static_cast<unsigned long long>(id->ToInteger() % 1'000'000'000'000ull),
              std::stoull(std::string(id->view().substr(8))));
  }
}

TEST(TempIdIntegerTest, FromIntegerKeepsTheLowTwentyDigits) {
  TempIdInteger ten_pow_20 = 1;
  for (int i = 0; i < 20; ++i) ten_pow_20 *= 10;
  EXPECT_EQ(TempId::FromInteger(ten_pow_20 + 5).view(), "00000000000000000005");
  EXPECT_EQ(TempId::FromInteger(1234).view(), "00000000000000001234");
}

TEST(TempIdGenerateTest, MapsBytesToDigitsModuloTen) {
  std::vector<std::uint8_t> bytes;
  for (int i = 0; i < 20; ++i) bytes.push_back(static_cast<std::uint8_t>(i * 12));  // 0..228
  test::ScriptedRandom random(bytes);
  auto id = TempId::Generate(random);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->view(), "02468024680246802468");
  EXPECT_EQ(random.consumed(), 20u);
}

TEST(TempIdGenerateTest, RedrawsBytesFrom250Up) {
  // Bytes 250-255 are rejected; the three replacements come in a second, shorter draw.
  std::vector<std::uint8_t> bytes(20, 249);  // 249 % 10 == 9
  bytes[0] = 250;
  bytes[7] = 255;
  bytes[19] = 253;
  // push_back, not insert of a list: g++ 12 -O2 warns falsely (-Warray-bounds) on that.
  bytes.push_back(1);
  bytes.push_back(2);
  bytes.push_back(3);
  test::ScriptedRandom random(bytes);
  auto id = TempId::Generate(random);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->view(), "99999999999999999123");
  EXPECT_EQ(random.consumed(), 23u);
}

TEST(TempIdGenerateTest, AcceptsByte249AndRejectsEveryByteAbove) {
  for (int first_bad = 250; first_bad < 256; ++first_bad) {
    std::vector<std::uint8_t> bytes(20, 0);
    bytes[0] = static_cast<std::uint8_t>(first_bad);
    bytes.push_back(249);
    test::ScriptedRandom random(bytes);
    auto id = TempId::Generate(random);
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->view(), "00000000000000000009") << first_bad;
  }
}

TEST(TempIdGenerateTest, PropagatesGeneratorFailure) {
  test::ScriptedRandom random(std::vector<std::uint8_t>(10, 1));  // too few bytes
  auto id = TempId::Generate(random);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), util::StatusCode::kUnavailable);
}

TEST(TempIdGenerateTest, GivesUpOnAGeneratorStuckAboveTheLimit) {
  test::ScriptedRandom random(std::vector<std::uint8_t>(100'000, 0xff));
  auto id = TempId::Generate(random);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), util::StatusCode::kInternal);
}

TEST(TempIdGenerateTest, DigitsAreUniformAtEveryPosition) {
  // 20,000 ids: each digit value expects 2,000 hits per position and 40,000 overall.
  // Chi-square with 9 degrees of freedom: 99.99th percentile ~33.7; a modulo-biased
  // generator (digits 0-5 at 26/256 instead of 25/256) scores ~150 over all 400,000 digits.
  test::SeededRandom random(12345);
  constexpr int kIds = 20'000;
  std::array<std::array<int, 10>, TempId::kSize> per_position{};
  std::array<int, 10> overall{};
  std::unordered_set<TempId> seen;
  for (int i = 0; i < kIds; ++i) {
    auto id = TempId::Generate(random);
    ASSERT_TRUE(id.ok());
    seen.insert(*id);
    for (std::size_t p = 0; p < TempId::kSize; ++p) {
      const int d = id->view()[p] - '0';
      ASSERT_GE(d, 0);
      ASSERT_LE(d, 9);
      ++per_position[p][static_cast<std::size_t>(d)];
      ++overall[static_cast<std::size_t>(d)];
    }
  }
  auto chi_square = [](const std::array<int, 10>& counts, double expected) {
    double sum = 0;
    for (int c : counts) sum += (c - expected) * (c - expected) / expected;
    return sum;
  };
  EXPECT_LT(chi_square(overall, kIds * 2.0), 33.7);
  for (std::size_t p = 0; p < TempId::kSize; ++p) {
    // Over 20 positions a looser bound (99.9999th percentile ~45) avoids flukes.
    EXPECT_LT(chi_square(per_position[p], kIds / 10.0), 45.0) << "position " << p;
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kIds));  // 10^20 values: no collisions
}

}  // namespace
}  // namespace bluetrace::protocol
