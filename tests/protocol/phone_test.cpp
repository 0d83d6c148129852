#include "bluetrace/protocol/phone.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bluetrace::protocol {
namespace {

std::string ErrorOf(std::string_view text) {
  auto r = CanonicalPhone(text);
  if (r.ok()) return "accepted as " + *r;
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(CanonicalPhoneTest, AcceptsTheThreeInternationalForms) {
  for (const char* form : {"+61410888888", "+61-410-888-888", "+61 410 888 888"}) {
    auto r = CanonicalPhone(form);
    ASSERT_TRUE(r.ok()) << form << ": " << r.status().ToString();
    EXPECT_EQ(*r, "+61410888888") << form;
  }
}

TEST(CanonicalPhoneTest, AcceptsAnyGrouping) {
  EXPECT_EQ(*CanonicalPhone("+6-1-4-1-0-8-8-8"), "+61410888");
  EXPECT_EQ(*CanonicalPhone("+1 212 555 0100"), "+12125550100");
  EXPECT_EQ(*CanonicalPhone("+44-7911123456"), "+447911123456");
}

TEST(CanonicalPhoneTest, AcceptsTheDigitCountLimits) {
  EXPECT_EQ(*CanonicalPhone("+12345678"), "+12345678");                // 8 digits
  EXPECT_EQ(*CanonicalPhone("+123456789012345"), "+123456789012345");  // 15 digits
  EXPECT_EQ(*CanonicalPhone("+123-456-789-012-345"), "+123456789012345");
}

TEST(CanonicalPhoneTest, RejectsAMissingPlus) {
  EXPECT_EQ(ErrorOf("61410888888"), "phone number must start with '+' and the country code");
  EXPECT_EQ(ErrorOf("0410888888"), "phone number must start with '+' and the country code");
  EXPECT_EQ(ErrorOf(" +61410888888"), "phone number must start with '+' and the country code");
  EXPECT_EQ(ErrorOf(""), "phone number is empty");
}

TEST(CanonicalPhoneTest, RejectsLettersAndOtherBytes) {
  EXPECT_EQ(ErrorOf("+61410888a88"),
            "phone number contains 'a' at byte 10; only digits, '-' and ' ' may follow '+'");
  EXPECT_EQ(ErrorOf("+61(410)888888"),
            "phone number contains '(' at byte 4; only digits, '-' and ' ' may follow '+'");
  EXPECT_EQ(ErrorOf("+61410888888\t"),
            "phone number contains byte 0x09 at byte 13; only digits, '-' and ' ' may follow '+'");
  EXPECT_EQ(ErrorOf("++61410888888"),
            "phone number contains '+' at byte 2; only digits, '-' and ' ' may follow '+'");
  EXPECT_FALSE(CanonicalPhone("+61.410.888.888").ok());
  EXPECT_FALSE(CanonicalPhone("+61410888888\r").ok());
  EXPECT_FALSE(CanonicalPhone(std::string("+6141088\0"
                                          "8888",
                                          13))
                   .ok());
  EXPECT_FALSE(CanonicalPhone("+\xd9\xa6\xd9\xa1\xd9\xa4\xd9\xa1\xd9\xa0\xd9\xa8\xd9\xa8\xd9\xa8")
                   .ok());  // Arabic-Indic digits
}

TEST(CanonicalPhoneTest, RejectsMisplacedSeparators) {
  EXPECT_EQ(ErrorOf("+61--410-888-888"), "phone number has two separators in a row");
  EXPECT_EQ(ErrorOf("+61  410 888 888"), "phone number has two separators in a row");
  EXPECT_EQ(ErrorOf("+-61-410-888-888"), "phone number has a separator right after '+'");
  EXPECT_EQ(ErrorOf("+ 61410888888"), "phone number has a separator right after '+'");
  EXPECT_EQ(ErrorOf("+61-410-888-888-"), "phone number ends with a separator");
  EXPECT_EQ(ErrorOf("+61 410 888 888 "), "phone number ends with a separator");
}

TEST(CanonicalPhoneTest, RejectsMixedSeparators) {
  EXPECT_EQ(ErrorOf("+61-410 888 888"), "phone number mixes '-' and ' ' separators");
  EXPECT_EQ(ErrorOf("+61 410-888-888"), "phone number mixes '-' and ' ' separators");
  EXPECT_EQ(ErrorOf("+61 -410888888"), "phone number has two separators in a row");
}

TEST(CanonicalPhoneTest, RejectsWrongDigitCounts) {
  EXPECT_EQ(ErrorOf("+"), "phone number has 0 digits, needs 8 to 15");
  EXPECT_EQ(ErrorOf("+1234567"), "phone number has 7 digits, needs 8 to 15");
  EXPECT_EQ(ErrorOf("+12-345-67"), "phone number has 7 digits, needs 8 to 15");
  EXPECT_EQ(ErrorOf("+1234567890123456"), "phone number has more than 15 digits");
  EXPECT_EQ(ErrorOf("+" + std::string(100'000, '1')), "phone number has more than 15 digits");
}

TEST(CanonicalPhoneTest, RejectsALeadingZeroAfterThePlus) {
  EXPECT_EQ(ErrorOf("+0410888888"),
            "phone number cannot start with 0 after '+' (no country code does)");
  EXPECT_EQ(ErrorOf("+0-410-888-888"),
            "phone number cannot start with 0 after '+' (no country code does)");
  EXPECT_TRUE(CanonicalPhone("+610410888888").ok());  // a 0 later on is fine
}

TEST(IsCanonicalPhoneTest, AcceptsOnlyTheCanonicalForm) {
  EXPECT_TRUE(IsCanonicalPhone("+61410888888"));
  EXPECT_TRUE(IsCanonicalPhone("+12345678"));
  EXPECT_TRUE(IsCanonicalPhone("+123456789012345"));
  EXPECT_FALSE(IsCanonicalPhone("+61-410-888-888"));
  EXPECT_FALSE(IsCanonicalPhone("+61 410 888 888"));
  EXPECT_FALSE(IsCanonicalPhone("61410888888"));
  EXPECT_FALSE(IsCanonicalPhone("+0410888888"));
  EXPECT_FALSE(IsCanonicalPhone("+1234567"));
  EXPECT_FALSE(IsCanonicalPhone("+1234567890123456"));
  EXPECT_FALSE(IsCanonicalPhone("+6141088888a"));
  EXPECT_FALSE(IsCanonicalPhone(""));
  EXPECT_FALSE(IsCanonicalPhone("+"));
}

TEST(IsCanonicalPhoneTest, AgreesWithCanonicalPhone) {
  // Whatever CanonicalPhone returns is canonical, and a canonical text maps to itself.
  for (const char* text : {"+61410888888", "+61-410-888-888", "+61 410 888 888", "+12345678",
                           "+1 2 3 4 5 6 7 8 9 0 1 2 3 4 5"}) {
    auto r = CanonicalPhone(text);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_TRUE(IsCanonicalPhone(*r));
    EXPECT_EQ(*CanonicalPhone(*r), *r);
  }
}

TEST(RedactPhoneNumbersTest, ReplacesEveryNumberInEveryForm) {
  EXPECT_EQ(RedactPhoneNumbers("no user +61410888888"), "no user +<phone>");
  EXPECT_EQ(RedactPhoneNumbers("user +61 410 888 888 exists"), "user +<phone> exists");
  EXPECT_EQ(RedactPhoneNumbers("+61-410-888-888 is not blocked"), "+<phone> is not blocked");
  EXPECT_EQ(RedactPhoneNumbers("a +1 and a +44207: two"), "a +<phone> and a +<phone>: two");
  // A separator that ends the number stays; so does text that is no number.
  EXPECT_EQ(RedactPhoneNumbers("call +612- now"), "call +<phone>- now");
  EXPECT_EQ(RedactPhoneNumbers("a + b, c+, +x"), "a + b, c+, +x");
  EXPECT_EQ(RedactPhoneNumbers(""), "");
}

}  // namespace
}  // namespace bluetrace::protocol
