#include "bluetrace/protocol/beacon.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/fake_random.hpp"

namespace bluetrace::protocol {
namespace {

constexpr std::int64_t kSampleStart = 1'589'391'906;  // 13/05/2020 17:45:06 UTC
const std::string kSample =
    "12345678901234567890"
    "13/05/2020 17:45:06"
    "13/05/2020 18:00:05"
    "1";

std::span<const std::uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string ErrorOf(std::string_view datagram) {
  auto r = ParseBeacon(Bytes(datagram));
  if (r.ok()) return "accepted";
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(BeaconTest, ParsesTheFiftyNineBytesOfTheOriginal) {
  ASSERT_EQ(kSample.size(), kBeaconSize);
  auto b = ParseBeacon(Bytes(kSample));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->id.view(), "12345678901234567890");
  EXPECT_EQ(b->start, kSampleStart);
  EXPECT_EQ(b->expiry, kSampleStart + 899);
  EXPECT_EQ(b->version, 1);
  EXPECT_EQ(EncodeBeacon(*b), kSample);
}

TEST(BeaconTest, AcceptsTheRawVersionByteAndWritesTheDigit) {
  std::string raw = kSample;
  raw.back() = '\x01';
  auto b = ParseBeacon(Bytes(raw));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->version, kBeaconVersion);
  EXPECT_EQ(*b, *ParseBeacon(Bytes(kSample)));
  EXPECT_EQ(EncodeBeacon(*b), kSample);
}

TEST(BeaconTest, RejectsUnknownVersions) {
  for (char v : {'0', '2', '\0', '\x02', 'v', '\xff'}) {
    std::string d = kSample;
    d.back() = v;
    EXPECT_NE(ErrorOf(d).find("unknown beacon version"), std::string::npos) << int{v};
  }
  std::string two = kSample;
  two.back() = '2';
  EXPECT_EQ(ErrorOf(two), "unknown beacon version '2'");
  two.back() = '\0';
  EXPECT_EQ(ErrorOf(two), "unknown beacon version byte 0x00");
}

TEST(BeaconTest, RejectsWrongSizes) {
  EXPECT_EQ(ErrorOf(""), "beacon must be 59 bytes, got 0");
  EXPECT_EQ(ErrorOf(kSample.substr(0, 58)), "beacon must be 59 bytes, got 58");
  EXPECT_EQ(ErrorOf(kSample + "\n"), "beacon must be 59 bytes, got 60");
  EXPECT_EQ(ErrorOf(std::string(65'507, '1')), "beacon must be 59 bytes, got 65507");
}

TEST(BeaconTest, NamesTheBadPart) {
  std::string d = kSample;
  d[5] = 'x';
  EXPECT_EQ(ErrorOf(d), "beacon: TempID must be 20 digits, byte 6 is not a digit");
  d = kSample;
  d[20] = '3';  // day 33
  EXPECT_EQ(ErrorOf(d), "beacon start: day 33 does not exist in month 05 of 2020");
  d = kSample;
  d[20 + 19 + 10] = ',';
  EXPECT_EQ(ErrorOf(d), "beacon expiry: timestamp needs ' ' between date and time (byte 11)");
  // The original's separators would shift every field: a comma-separated beacon is 62 bytes.
  EXPECT_EQ(ErrorOf("12345678901234567890,13/05/2020 17:45:06,13/05/2020 18:00:05,1"),
            "beacon must be 59 bytes, got 62");
}

TEST(BeaconTest, ParsesAnExpiryBeforeTheStartButNeverValidatesIt) {
  const std::string d =
      "12345678901234567890"
      "13/05/2020 18:00:05"
      "13/05/2020 17:45:06"
      "1";
  auto b = ParseBeacon(Bytes(d));
  ASSERT_TRUE(b.ok());
  for (std::int64_t now = kSampleStart - 2; now < kSampleStart + 902; ++now) {
    ASSERT_FALSE(IsBeaconValidAt(*b, now));
  }
}

TEST(BeaconTest, IsValidFromStartToExpiryInclusive) {
  auto b = ParseBeacon(Bytes(kSample));
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(IsBeaconValidAt(*b, kSampleStart - 1));
  EXPECT_TRUE(IsBeaconValidAt(*b, kSampleStart));
  EXPECT_TRUE(IsBeaconValidAt(*b, kSampleStart + 450));
  EXPECT_TRUE(IsBeaconValidAt(*b, kSampleStart + 899));
  EXPECT_FALSE(IsBeaconValidAt(*b, kSampleStart + 900));
}

TEST(BeaconTest, SaysWhyABeaconIsInvalid) {
  auto b = ParseBeacon(Bytes(kSample));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(BeaconTimingAt(*b, kSampleStart - 500), BeaconTiming::kNotYetValid);
  EXPECT_EQ(DescribeBeaconTiming(*b, kSampleStart - 500), "not yet valid: it starts in 500 s");
  EXPECT_EQ(BeaconTimingAt(*b, kSampleStart), BeaconTiming::kValid);
  EXPECT_EQ(DescribeBeaconTiming(*b, kSampleStart + 899), "valid");
  EXPECT_EQ(BeaconTimingAt(*b, kSampleStart + 1000), BeaconTiming::kExpired);
  EXPECT_EQ(DescribeBeaconTiming(*b, kSampleStart + 1000), "expired 101 s ago");
  const Beacon backwards{b->id, b->expiry, b->start, b->version};
  EXPECT_EQ(DescribeBeaconTiming(backwards, kSampleStart - 1), "not yet valid: it starts in 900 s");
  EXPECT_EQ(DescribeBeaconTiming(backwards, kSampleStart + 899), "it expires before it starts");
}

TEST(BeaconTest, RoundTripsRandomBeacons) {
  test::SeededRandom random(5);
  for (int i = 0; i < 5000; ++i) {
    Beacon b;
    b.id = *TempId::Generate(random);
    b.start = static_cast<std::int64_t>(*util::UniformBelow(random, 253'402'300'800ull));
    b.expiry = static_cast<std::int64_t>(*util::UniformBelow(random, 253'402'300'800ull));
    const std::string wire = EncodeBeacon(b);
    ASSERT_EQ(wire.size(), kBeaconSize);
    ASSERT_EQ(wire.back(), '1');
    auto back = ParseBeacon(Bytes(wire));
    ASSERT_TRUE(back.ok()) << wire << ": " << back.status().ToString();
    ASSERT_EQ(*back, b);
    ASSERT_EQ(EncodeBeacon(*back), wire);
  }
}

TEST(BeaconTest, ReadsLocalTimeWhenAsked) {
  setenv("TZ", "AEST-10", 1);
  tzset();
  const std::string d =
      "12345678901234567890"
      "14/05/2020 03:45:06"
      "14/05/2020 04:00:05"
      "1";
  auto b = ParseBeacon(Bytes(d), TimeZoneMode::kLocal);
  const std::string encoded = b.ok() ? EncodeBeacon(*b, TimeZoneMode::kLocal) : "";
  unsetenv("TZ");
  tzset();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->start, kSampleStart);
  EXPECT_EQ(encoded, d);
}

}  // namespace
}  // namespace bluetrace::protocol
