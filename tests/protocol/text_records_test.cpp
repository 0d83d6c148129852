#include "bluetrace/protocol/text_records.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bluetrace/protocol/text_lines.hpp"
#include "support/fake_random.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::protocol {
namespace {

constexpr std::int64_t kSampleStart = 1'589'391'906;  // 13/05/2020 17:45:06 UTC

TempId Id(std::string_view digits) { return *TempId::Parse(digits); }

std::string TempIdError(std::string_view line) {
  auto r = ParseTempIdLine(line);
  if (r.ok()) return "accepted";
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  return r.status().message();
}

std::string ContactError(std::string_view line) {
  auto r = ParseContactLogLine(line);
  if (r.ok()) return "accepted";
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  return r.status().message();
}

std::vector<TempIdRecord> ParseTempIdFile(std::string_view content, util::Status* status) {
  std::vector<TempIdRecord> records;
  *status = ForEachLine(content, "tempIDs.txt", [&](const TextLine& line) {
    auto r = ParseTempIdLine(line.text);
    if (!r.ok()) return r.status();
    records.push_back(*r);
    return util::Status::Ok();
  });
  return records;
}

TEST(TempIdLineTest, ReadsBothOriginalSamples) {
  const std::vector<TempIdRecord> expected = {
      {"+61410999999", Id("12345678901234567890"), kSampleStart, kSampleStart + 899},
      {"+61410888888", Id("12345678901234567891"), kSampleStart + 540, kSampleStart + 540 + 899},
      {"+61410777777", Id("12345678901234567892"), kSampleStart + 86'400,
       kSampleStart + 86'400 + 899}};
  for (const char* name : {"tempIDs.txt", "tempIDs-final-newline.txt"}) {
    const std::string content =
        test::ReadFileForTest(test::SourcePath(std::string("tests/data/original/") + name));
    ASSERT_NE(content.find("\r\n"), std::string::npos) << name;
    util::Status st;
    EXPECT_EQ(ParseTempIdFile(content, &st), expected) << name;
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
}

TEST(TempIdLineTest, WritesTheOriginalFormat) {
  const TempIdRecord r{"+61410999999", Id("12345678901234567890"), kSampleStart,
                       kSampleStart + 899};
  EXPECT_EQ(FormatTempIdLine(r),
            "+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05");
}

TEST(TempIdLineTest, CanonicalisesTheUser) {
  auto r = ParseTempIdLine(
      "+61-410-999-999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 "
      "18:00:05");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->user, "+61410999999");
}

TEST(TempIdLineTest, AcceptsExpiryEqualToStart) {
  auto r =
      ParseTempIdLine("+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 17:45:06");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->start, r->expiry);
}

TEST(TempIdLineTest, RejectsAnExpiryBeforeTheStart) {
  EXPECT_EQ(
      TempIdError("+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 17:45:05"),
      "expiry 13/05/2020 17:45:05 precedes start 13/05/2020 17:45:06");
}

TEST(TempIdLineTest, NamesTheBadField) {
  const std::string times = " 13/05/2020 17:45:06 13/05/2020 18:00:05";
  EXPECT_EQ(TempIdError("+61410999999 1234567890123456789" + times),
            "TempID must be 20 digits, got 19 bytes");
  EXPECT_EQ(TempIdError("+61410999999 123456789012345678901" + times),
            "TempID must be 20 digits, got 21 bytes");
  EXPECT_EQ(TempIdError("+61410999999 1234567890123456789O" + times),
            "TempID must be 20 digits, byte 20 is not a digit");
  EXPECT_EQ(TempIdError("61410999999 12345678901234567890" + times),
            "UserID: phone number must start with '+' and the country code");
  EXPECT_EQ(TempIdError("+61 410 999 999 12345678901234567890" + times),
            "UserID: a space ends the UserID here; write the number without spaces, e.g. "
            "+61410888888 or +61-410-888-888");
  EXPECT_EQ(
      TempIdError("+61410999999 12345678901234567890 13/05/2020 17:45:06 31/04/2020 18:00:05"),
      "expiry: day 31 does not exist in month 04 of 2020");
  EXPECT_EQ(
      TempIdError("+61410999999 12345678901234567890 13/05/2020 25:45:06 13/05/2020 18:00:05"),
      "start: timestamp hour 25 is not 00-23");
  EXPECT_EQ(TempIdError("+61410999999 12345678901234567890 13/05/2020 13/05/2020 18:00:05"),
            "start: timestamp needs ':' between hour and minute (byte 14)");
  EXPECT_EQ(
      TempIdError("+61410999999 12345678901234567890 2020-05-13T17:45:06Z 13/05/2020 18:00:05"),
      "start: timestamp needs '/' between day and month (byte 3)");
}

TEST(TempIdLineTest, RejectsMissingAndExtraFields) {
  EXPECT_EQ(TempIdError("+61410999999"), "missing TempID, start and expiry after the UserID");
  EXPECT_EQ(TempIdError("+61410999999 12345678901234567890"),
            "missing start and expiry timestamps after the TempID");
  EXPECT_EQ(TempIdError("+61410999999 12345678901234567890 13/05/2020 17:45:06"),
            "missing expiry timestamp after the start");
  EXPECT_EQ(TempIdError("+61410999999 12345678901234567890 13/05/2020"),
            "start: timestamp must be 19 bytes \"DD/MM/YYYY HH:MM:SS\", got 10");
  EXPECT_EQ(TempIdError("+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020"),
            "expiry: timestamp must be 19 bytes \"DD/MM/YYYY HH:MM:SS\", got 10");
  EXPECT_EQ(TempIdError("+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 "
                        "18:00:05 extra"),
            "unexpected text after the expiry timestamp");
  EXPECT_EQ(TempIdError("+61410999999 12345678901234567890 13/05/2020 17:45:06x13/05/2020 "
                        "18:00:05"),
            "expected a space after the start timestamp, found 'x'");
  EXPECT_EQ(TempIdError(""), "line is empty");
}

TEST(TempIdLineTest, RejectsAnyWhitespaceButSingleSpaces) {
  const std::string good =
      "+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05";
  ASSERT_EQ(TempIdError(good), "accepted");
  EXPECT_EQ(TempIdError(" " + good), "line starts with a space");
  EXPECT_EQ(TempIdError(good + " "), "line ends with a space");
  EXPECT_EQ(TempIdError("\t" + good), "tab at byte 1; fields are separated by a single space");
  EXPECT_EQ(
      TempIdError("+61410999999\t12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05"),
      "tab at byte 13; fields are separated by a single space");
  EXPECT_EQ(
      TempIdError("+61410999999  12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05"),
      "two spaces at byte 13; fields are separated by a single space");
  EXPECT_EQ(
      TempIdError("+61410999999 12345678901234567890 13/05/2020  17:45:06 13/05/2020 18:00:05"),
      "two spaces at byte 45; fields are separated by a single space");
}

TEST(TempIdLineTest, ReadsAndWritesLocalTime) {
  setenv("TZ", "AEST-10", 1);
  tzset();
  const std::string line =
      "+61410999999 12345678901234567890 14/05/2020 03:45:06 14/05/2020 03:59:05";
  auto r = ParseTempIdLine(line, TimeZoneMode::kLocal);
  unsetenv("TZ");
  tzset();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->start, kSampleStart);
  EXPECT_EQ(r->expiry, kSampleStart + 839);
}

TEST(ContactLogLineTest, ReadsAndWritesAnEntry) {
  auto e = ParseContactLogLine("12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(*e, (ContactLogEntry{Id("12345678901234567891"), kSampleStart + 540,
                                 kSampleStart + 540 + 899}));
  EXPECT_EQ(FormatContactLogLine(*e),
            "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05");
}

TEST(ContactLogLineTest, RejectsMalformedLines) {
  EXPECT_EQ(ContactError("12345678901234567891 13/05/2020 17:54:06 13/05/2020 17:54:05"),
            "expiry 13/05/2020 17:54:05 precedes start 13/05/2020 17:54:06");
  EXPECT_EQ(ContactError("1234567890123456789 13/05/2020 17:54:06 13/05/2020 18:09:05"),
            "TempID must be 20 digits, got 19 bytes");
  EXPECT_EQ(
      ContactError("+61410999999 12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05"),
      "TempID must be 20 digits, got 12 bytes");  // a tempIDs.txt line is not a log line
  EXPECT_EQ(ContactError("12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05 "),
            "line ends with a space");
  EXPECT_EQ(ContactError("12345678901234567891\t13/05/2020 17:54:06 13/05/2020 18:09:05"),
            "tab at byte 21; fields are separated by a single space");
  EXPECT_EQ(ContactError("12345678901234567891 29/02/2021 17:54:06 13/05/2021 18:09:05"),
            "start: day 29 does not exist in month 02 of 2021");
  EXPECT_EQ(ContactError("12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05,"),
            "unexpected text after the expiry timestamp");
  EXPECT_EQ(ContactError("12345678901234567891"),
            "missing start and expiry timestamps after the TempID");
}

TEST(ParseContactLogTest, ReadsTheOriginalSample) {
  const std::string content =
      test::ReadFileForTest(test::SourcePath("tests/data/original/contactlog.txt"));
  ASSERT_NE(content.find("\r\n"), std::string::npos);
  ASSERT_NE(content.back(), '\n');
  auto entries = ParseContactLog(content, "contactlog.txt", TimeZoneMode::kUtc, 100);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(*entries,
            (std::vector<ContactLogEntry>{
                {Id("12345678901234567890"), kSampleStart, kSampleStart + 899},
                {Id("12345678901234567891"), kSampleStart + 540, kSampleStart + 540 + 899}}));
}

TEST(ParseContactLogTest, AcceptsLfMixedEndsAndBlankLines) {
  const std::string content =
      "\n12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n \r\n"
      "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\r\n\n";
  auto entries = ParseContactLog(content, "log", TimeZoneMode::kUtc, 2);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(entries->size(), 2u);
  auto empty = ParseContactLog("\r\n\r\n", "log", TimeZoneMode::kUtc, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseContactLogTest, EnforcesTheEntryLimit) {
  const std::string content =
      "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n\n"
      "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\n";
  auto r = ParseContactLog(content, "upload", TimeZoneMode::kUtc, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), util::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "upload line 3: contact log has more than 1 entries");
  EXPECT_EQ(ParseContactLog(content, "upload", TimeZoneMode::kUtc, 0).status().code(),
            util::StatusCode::kResourceExhausted);
}

TEST(ParseContactLogTest, NamesTheFileAndLine) {
  auto r = ParseContactLog(
      "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\r\n\r\n"
      "12345678901234567891  13/05/2020 17:54:06 13/05/2020 18:09:05",
      "contactlog.txt", TimeZoneMode::kUtc, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "contactlog.txt line 3: two spaces at byte 21; fields are separated by a single space");
}

TEST(ParseContactLogTest, RejectsAnOverlongLine) {
  const std::string content =
      "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05" + std::string(10'000, '5');
  auto r = ParseContactLog(content, "log", TimeZoneMode::kUtc, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "log line 1: unexpected text after the expiry timestamp");
}

// Random records within the accepted years, expiry >= start.
class RecordGenerator {
 public:
  explicit RecordGenerator(std::uint64_t seed) : random_(seed) {}
  std::uint64_t Below(std::uint64_t n) { return *util::UniformBelow(random_, n); }
  static constexpr std::int64_t kLastSecond = 253'402'300'799;  // 31/12/9999 23:59:59
  std::int64_t Time() { return static_cast<std::int64_t>(Below(kLastSecond + 1)); }
  ContactLogEntry Entry() {
    ContactLogEntry e{*TempId::Generate(random_), Time(), 0};
    // Half the time a 15-minute lifetime (clipped at the last second), else any later time.
    const std::int64_t room = kLastSecond - e.start;
    e.expiry =
        e.start + (Below(2) == 0
                       ? std::min<std::int64_t>(899, room)
                       : static_cast<std::int64_t>(Below(static_cast<std::uint64_t>(room) + 1)));
    return e;
  }
  std::string User() {
    std::string u = "+" + std::to_string(1 + Below(9));
    const std::uint64_t digits = 7 + Below(8);
    for (std::uint64_t i = 0; i < digits; ++i) u += std::to_string(Below(10));
    return u;
  }

 private:
  test::SeededRandom random_;
};

TEST(RecordRoundTripTest, TempIdLines) {
  RecordGenerator gen(11);
  for (int i = 0; i < 5000; ++i) {
    const ContactLogEntry e = gen.Entry();
    const TempIdRecord r{gen.User(), e.id, e.start, e.expiry};
    const std::string line = FormatTempIdLine(r);
    auto back = ParseTempIdLine(line);
    ASSERT_TRUE(back.ok()) << line << ": " << back.status().ToString();
    ASSERT_EQ(*back, r) << line;
  }
}

TEST(RecordRoundTripTest, ContactLogLinesAndFiles) {
  RecordGenerator gen(12);
  std::vector<ContactLogEntry> entries;
  std::string file;
  for (int i = 0; i < 5000; ++i) {
    const ContactLogEntry e = gen.Entry();
    const std::string line = FormatContactLogLine(e);
    auto back = ParseContactLogLine(line);
    ASSERT_TRUE(back.ok()) << line << ": " << back.status().ToString();
    ASSERT_EQ(*back, e) << line;
    entries.push_back(e);
    file += line + (i % 2 ? "\r\n" : "\n");
  }
  auto parsed = ParseContactLog(file, "log", TimeZoneMode::kUtc, entries.size());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, entries);
}

}  // namespace
}  // namespace bluetrace::protocol
