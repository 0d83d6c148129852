// bluetrace-admin's output and input formats (admin_format.hpp).
#include "admin_format.hpp"

#include <gtest/gtest.h>

namespace bluetrace::admin {
namespace {

TEST(JsonStringTest, EscapesWhatJsonRequires) {
  EXPECT_EQ(JsonString("+61410888888"), "\"+61410888888\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("line\nnext\r\tend"), "\"line\\nnext\\r\\tend\"");
  EXPECT_EQ(JsonString(std::string_view("\0\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(JsonString(""), "\"\"");
}

TEST(JsonStringTest, KeepsUtf8AndReplacesWhatIsNot) {
  EXPECT_EQ(JsonString("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(JsonString("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(JsonString("\xc3"), "\"\\ufffd\"");                        // cut short
  EXPECT_EQ(JsonString("\xc0\xaf"), "\"\\ufffd\\ufffd\"");             // overlong '/'
  EXPECT_EQ(JsonString("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
}

TEST(CsvRecordTest, QuotesOnlyWhenNeededAndDoublesQuotes) {
  EXPECT_EQ(CsvRecord({"a", "b", ""}), "a,b,\r\n");
  EXPECT_EQ(CsvRecord({"a,b", "say \"hi\"", "two\nlines", "cr\r"}),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\"\r\n");
  EXPECT_EQ(CsvRecord({}), "\r\n");
}

TEST(IsoUtcTest, FormatsSecondsSinceTheEpoch) {
  EXPECT_EQ(IsoUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(IsoUtc(1589392206), "2020-05-13T17:50:06Z");
}

TEST(ParseSinceTest, DatesAndTimesAreUtc) {
  EXPECT_EQ(*ParseSince("2020-05-13", 0), 1589328000);
  EXPECT_EQ(*ParseSince("2020-05-13T17:50", 0), 1589392200);
  EXPECT_EQ(*ParseSince("2020-05-13T17:50:06", 0), 1589392206);
  EXPECT_EQ(*ParseSince("2020-05-13T17:50:06Z", 0), 1589392206);
  EXPECT_EQ(*ParseSince("2020-05-13 17:50:06", 0), 1589392206);
}

TEST(ParseSinceTest, AgesCountBackFromNow) {
  EXPECT_EQ(*ParseSince("30s", 1000000), 1000000 - 30);
  EXPECT_EQ(*ParseSince("15m", 1000000), 1000000 - 900);
  EXPECT_EQ(*ParseSince("2h", 1000000), 1000000 - 7200);
  EXPECT_EQ(*ParseSince("7d", 1000000), 1000000 - 7 * 86400);
}

TEST(ParseSinceTest, AnythingElseIsRefusedWithTheFormsAccepted) {
  for (const char* bad :
       {"", "yesterday", "7", "7w", "-7d", "2020-13-01", "2020-02-30", "2020-05-13T25:00",
        "2020-05-13T17:5", "2020/05/13", "20-05-13", "2020-05-13T17:50:06+02:00"}) {
    auto t = ParseSince(bad, 1000000);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.status().message().find("--since: expected"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace bluetrace::admin
