#include "bluetrace/protocol/timestamp.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>

#include "support/fake_random.hpp"

namespace bluetrace::protocol {
namespace {

std::string ErrorOf(std::string_view text) {
  auto r = ParseTimestamp(text);
  if (r.ok()) return "parsed as " + std::to_string(*r);
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ParseTimestampTest, ReadsTheSampleTimesAsUtc) {
  // 13/05/2020 17:45:06 UTC is 1589391906 (checked with `date -u -d @1589391906`).
  auto t = ParseTimestamp("13/05/2020 17:45:06");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, 1'589'391'906);
  auto expiry = ParseTimestamp("13/05/2020 18:00:05");
  ASSERT_TRUE(expiry.ok());
  EXPECT_EQ(*expiry - *t, 14 * 60 + 59);  // every sample's lifetime
}

TEST(ParseTimestampTest, ReadsTheRangeEnds) {
  EXPECT_EQ(*ParseTimestamp("01/01/1970 00:00:00"), 0);
  EXPECT_EQ(*ParseTimestamp("31/12/9999 23:59:59"), 253'402'300'799);
  EXPECT_EQ(*ParseTimestamp("01/03/2000 00:00:00"), 951'868'800);
  EXPECT_EQ(*ParseTimestamp("19/01/2038 03:14:08"), 2'147'483'648);  // past 32-bit time_t
}

TEST(ParseTimestampTest, KnowsLeapYears) {
  EXPECT_TRUE(ParseTimestamp("29/02/2020 12:00:00").ok());
  EXPECT_TRUE(ParseTimestamp("29/02/2000 12:00:00").ok());  // divisible by 400
  EXPECT_EQ(ErrorOf("29/02/2021 12:00:00"), "day 29 does not exist in month 02 of 2021");
  EXPECT_EQ(ErrorOf("29/02/2100 12:00:00"), "day 29 does not exist in month 02 of 2100");
  EXPECT_EQ(ErrorOf("29/02/1900 12:00:00"), "timestamp year 1900 is outside 1970-9999");
  EXPECT_EQ(*ParseTimestamp("01/03/2020 00:00:00") - *ParseTimestamp("28/02/2020 00:00:00"),
            2 * 86'400);
}

TEST(ParseTimestampTest, RejectsDaysMissingFromTheirMonth) {
  EXPECT_EQ(ErrorOf("31/04/2020 00:00:00"), "day 31 does not exist in month 04 of 2020");
  EXPECT_EQ(ErrorOf("31/06/2020 00:00:00"), "day 31 does not exist in month 06 of 2020");
  EXPECT_EQ(ErrorOf("32/01/2020 00:00:00"), "day 32 does not exist in month 01 of 2020");
  EXPECT_EQ(ErrorOf("00/01/2020 00:00:00"), "day 00 does not exist in month 01 of 2020");
  EXPECT_TRUE(ParseTimestamp("31/12/2020 00:00:00").ok());
}

TEST(ParseTimestampTest, RejectsOutOfRangeFields) {
  EXPECT_EQ(ErrorOf("01/13/2020 00:00:00"), "timestamp month 13 is not 01-12");
  EXPECT_EQ(ErrorOf("01/00/2020 00:00:00"), "timestamp month 00 is not 01-12");
  EXPECT_EQ(ErrorOf("01/01/1969 23:59:59"), "timestamp year 1969 is outside 1970-9999");
  EXPECT_EQ(ErrorOf("01/01/0000 00:00:00"), "timestamp year 0 is outside 1970-9999");
  EXPECT_EQ(ErrorOf("01/01/2020 24:00:00"), "timestamp hour 24 is not 00-23");
  EXPECT_EQ(ErrorOf("01/01/2020 00:60:00"), "timestamp minute 60 is not 00-59");
  EXPECT_EQ(ErrorOf("01/01/2020 00:00:60"), "timestamp second 60 is not 00-59");  // leap
  EXPECT_EQ(ErrorOf("99/99/2020 99:99:99"), "timestamp month 99 is not 01-12");
}

TEST(ParseTimestampTest, RejectsWrongLengths) {
  EXPECT_EQ(ErrorOf(""), "timestamp must be 19 bytes \"DD/MM/YYYY HH:MM:SS\", got 0");
  EXPECT_EQ(ErrorOf("1/05/2020 17:45:06"),
            "timestamp must be 19 bytes \"DD/MM/YYYY HH:MM:SS\", got 18");
  EXPECT_EQ(ErrorOf("13/05/2020 17:45:06 "),
            "timestamp must be 19 bytes \"DD/MM/YYYY HH:MM:SS\", got 20");
  EXPECT_FALSE(ParseTimestamp("13/05/2020 17:45").ok());
  EXPECT_FALSE(ParseTimestamp("13/05/2020").ok());
}

TEST(ParseTimestampTest, RejectsWrongSeparators) {
  EXPECT_EQ(ErrorOf("13-05/2020 17:45:06"), "timestamp needs '/' between day and month (byte 3)");
  EXPECT_EQ(ErrorOf("13/05-2020 17:45:06"), "timestamp needs '/' between month and year (byte 6)");
  EXPECT_EQ(ErrorOf("13/05/2020T17:45:06"), "timestamp needs ' ' between date and time (byte 11)");
  EXPECT_EQ(ErrorOf("13/05/2020\t17:45:06"), "timestamp needs ' ' between date and time (byte 11)");
  EXPECT_EQ(ErrorOf("13/05/2020 17.45:06"),
            "timestamp needs ':' between hour and minute (byte 14)");
  EXPECT_EQ(ErrorOf("13/05/2020 17:45 06"),
            "timestamp needs ':' between minute and second (byte 17)");
}

TEST(ParseTimestampTest, RejectsNonDigitsWhereDigitsGo) {
  EXPECT_EQ(ErrorOf(" 3/05/2020 17:45:06"), "timestamp day must be 2 digits");
  EXPECT_EQ(ErrorOf("13/+5/2020 17:45:06"), "timestamp month must be 2 digits");
  EXPECT_EQ(ErrorOf("13/05/202a 17:45:06"), "timestamp year must be 4 digits");
  EXPECT_EQ(ErrorOf("13/05/-020 17:45:06"), "timestamp year must be 4 digits");
  EXPECT_EQ(ErrorOf("13/05/2020 1 :45:06"), "timestamp hour must be 2 digits");
  EXPECT_EQ(ErrorOf("13/05/2020 17:4x:06"), "timestamp minute must be 2 digits");
  EXPECT_EQ(ErrorOf("13/05/2020 17:45:0\n"), "timestamp second must be 2 digits");
  EXPECT_EQ(ErrorOf(std::string("13/05/2020 17:45:0\0", 19)), "timestamp second must be 2 digits");
  // Bytes that sscanf("%d") would take: signs, spaces, and non-ASCII.
  EXPECT_FALSE(ParseTimestamp("+1/05/2020 17:45:06").ok());
  EXPECT_FALSE(ParseTimestamp("13/05/2020 17:45:\xd9\xa0").ok());
}

TEST(FormatTimestampTest, WritesUtc) {
  EXPECT_EQ(FormatTimestamp(1'589'391'906), "13/05/2020 17:45:06");
  EXPECT_EQ(FormatTimestamp(0), "01/01/1970 00:00:00");
  EXPECT_EQ(FormatTimestamp(951'782'400), "29/02/2000 00:00:00");
  EXPECT_EQ(FormatTimestamp(253'402'300'799), "31/12/9999 23:59:59");
}

TEST(FormatTimestampTest, ClampsOutsideTheAcceptedYears) {
  EXPECT_EQ(FormatTimestamp(-1), "01/01/1970 00:00:00");
  EXPECT_EQ(FormatTimestamp(INT64_MIN), "01/01/1970 00:00:00");
  EXPECT_EQ(FormatTimestamp(253'402'300'800), "31/12/9999 23:59:59");
  EXPECT_EQ(FormatTimestamp(INT64_MAX), "31/12/9999 23:59:59");
  EXPECT_EQ(FormatTimestamp(INT64_MIN, TimeZoneMode::kLocal), "01/01/1970 00:00:00");
  EXPECT_EQ(FormatTimestamp(INT64_MAX, TimeZoneMode::kLocal), "31/12/9999 23:59:59");
}

TEST(TimestampRoundTripTest, FormatThenParseGivesTheSameSecond) {
  test::SeededRandom random(99);
  for (int i = 0; i < 100'000; ++i) {
    std::uint64_t r = 0;
    std::array<std::uint8_t, 8> b{};
    ASSERT_TRUE(random.Fill(b).ok());
    for (auto x : b) r = (r << 8) | x;
    const auto t = static_cast<std::int64_t>(r % 253'402'300'800ull);
    const std::string text = FormatTimestamp(t);
    auto back = ParseTimestamp(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
    ASSERT_EQ(*back, t) << text;
  }
}

TEST(TimestampRoundTripTest, EveryDayOfFourHundredYearsMatchesGmtime) {
  // One timestamp per day from 1970 to 2370, checked against the C library's calendar.
  for (std::int64_t day = 0; day < 146'097; ++day) {
    const std::int64_t t = day * 86'400 + 45'296;  // 12:34:56
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char expected[32];
    ASSERT_EQ(std::strftime(expected, sizeof expected, "%d/%m/%Y %H:%M:%S", &tm), 19u);
    ASSERT_EQ(FormatTimestamp(t), expected);
    ASSERT_EQ(*ParseTimestamp(expected), t);
  }
}

// Sets TZ for one test and restores it afterwards.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* tz) {
    if (const char* old = std::getenv("TZ")) {
      had_old_ = true;
      old_ = old;
    }
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTimeZone() {
    if (had_old_) {
      setenv("TZ", old_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  bool had_old_ = false;
  std::string old_;
};

TEST(LocalTimestampTest, UsesTheLocalZone) {
  // A POSIX TZ string needs no zone database: 10 hours east of UTC, no DST.
  ScopedTimeZone tz("AEST-10");
  auto t = ParseTimestamp("14/05/2020 03:45:06", TimeZoneMode::kLocal);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, 1'589'391'906);
  EXPECT_EQ(FormatTimestamp(1'589'391'906, TimeZoneMode::kLocal), "14/05/2020 03:45:06");
  // UTC mode ignores TZ entirely.
  EXPECT_EQ(*ParseTimestamp("13/05/2020 17:45:06"), 1'589'391'906);
  EXPECT_EQ(FormatTimestamp(1'589'391'906), "13/05/2020 17:45:06");
}

TEST(LocalTimestampTest, ClampsInLocalTerms) {
  ScopedTimeZone tz("XXX+05");  // 5 hours west of UTC
  EXPECT_EQ(FormatTimestamp(0, TimeZoneMode::kLocal), "01/01/1970 00:00:00");
  EXPECT_EQ(FormatTimestamp(5 * 3600, TimeZoneMode::kLocal), "01/01/1970 00:00:00");
  EXPECT_EQ(FormatTimestamp(5 * 3600 + 1, TimeZoneMode::kLocal), "01/01/1970 00:00:01");
  EXPECT_EQ(*ParseTimestamp("01/01/1970 00:00:00", TimeZoneMode::kLocal), 5 * 3600);
}

TEST(LocalTimestampTest, ParsesTheSecondBeforeTheEpochInAZoneEastOfUtc) {
  // mktime returns -1 here, which is a valid time and not an error.
  ScopedTimeZone tz("XXX-10");
  auto t = ParseTimestamp("01/01/1970 09:59:59", TimeZoneMode::kLocal);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, -1);
}

TEST(LocalTimestampTest, StillValidatesTheText) {
  ScopedTimeZone tz("AEST-10");
  EXPECT_FALSE(ParseTimestamp("29/02/2021 00:00:00", TimeZoneMode::kLocal).ok());
  EXPECT_FALSE(ParseTimestamp("13/05/2020 17:45", TimeZoneMode::kLocal).ok());
}

}  // namespace
}  // namespace bluetrace::protocol
