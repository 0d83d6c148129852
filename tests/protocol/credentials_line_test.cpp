#include <argon2.h>
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "bluetrace/protocol/text_records.hpp"
#include "support/fake_random.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::protocol {
namespace {

std::string ErrorOf(std::string_view line) {
  auto r = ParseCredentialsLine(line);
  if (r.ok()) return "accepted";
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  return r.status().message();
}

// A real encoding from libargon2 at its cheapest settings.
std::string RealArgon2idHash(std::string_view password) {
  const std::array<std::uint8_t, 16> salt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  std::string out(argon2_encodedlen(1, 8, 1, salt.size(), 32, Argon2_id), '\0');
  EXPECT_EQ(argon2id_hash_encoded(1, 8, 1, password.data(), password.size(), salt.data(),
                                  salt.size(), 32, out.data(), out.size()),
            ARGON2_OK);
  out.resize(out.find('\0'));
  return out;
}

TEST(ParseCredentialsLineTest, ReadsAPlaintextLine) {
  auto e = ParseCredentialsLine("+61410666666 kara1234");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->user, "+61410666666");
  EXPECT_EQ(e->secret.view(), "kara1234");
  EXPECT_FALSE(e->hashed);
}

TEST(ParseCredentialsLineTest, CanonicalisesTheUser) {
  auto e = ParseCredentialsLine("+61-410-666-666 kara1234");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->user, "+61410666666");
  // The spaced form cannot appear here: the first space ends the UserID.
  const std::string hint =
      "UserID: a space ends the UserID here; write the number without spaces, e.g. "
      "+61410888888 or +61-410-888-888";
  EXPECT_EQ(ErrorOf("+61 410 666 666 kara1234"), hint);
  EXPECT_EQ(ErrorOf("+61 410 666 666"), hint);
  EXPECT_EQ(ErrorOf("+61 kara1234"), "UserID: phone number has 2 digits, needs 8 to 15");
}

TEST(ParseCredentialsLineTest, AcceptsEveryPrintableByteAndInnerSpaces) {
  std::string printable;
  for (char c = 0x21; c < 0x7f; ++c) printable += c;
  auto e = ParseCredentialsLine("+61410666666 " + printable);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->secret.view(), printable);
  auto spaced = ParseCredentialsLine("+61410666666 correct horse  battery");
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(spaced->secret.view(), "correct horse  battery");
}

TEST(ParseCredentialsLineTest, RejectsBadWhitespace) {
  EXPECT_EQ(ErrorOf(" +61410666666 kara1234"), "line starts with a space");
  EXPECT_EQ(ErrorOf("+61410666666  kara1234"),
            "password starts with a space (one space separates the fields)");
  EXPECT_EQ(ErrorOf("+61410666666 kara1234 "), "password ends with a space");
  EXPECT_EQ(ErrorOf("+61410666666\tkara1234"), "fields are separated by a tab; use a single space");
  EXPECT_EQ(ErrorOf("+61410666666 kara\t1234"), "password byte 5 is not printable ASCII");
  EXPECT_EQ(ErrorOf("+61410666666 kara1234\t"), "password byte 9 is not printable ASCII");
}

TEST(ParseCredentialsLineTest, RejectsMissingParts) {
  EXPECT_EQ(ErrorOf("+61410666666"), "missing password; expected \"<UserID> <password>\"");
  EXPECT_EQ(ErrorOf("+61410666666 "), "password is empty");
  EXPECT_EQ(ErrorOf(""), "missing password; expected \"<UserID> <password>\"");
  EXPECT_EQ(ErrorOf("kara1234"), "missing password; expected \"<UserID> <password>\"");
  EXPECT_EQ(ErrorOf("61410666666 kara1234"),
            "UserID: phone number must start with '+' and the country code");
}

TEST(ParseCredentialsLineTest, RejectsNonAsciiPasswordsWithoutQuotingThem) {
  const std::string message = ErrorOf("+61410666666 s\xc3\xa9same");
  EXPECT_EQ(message, "password byte 2 is not printable ASCII");
  EXPECT_EQ(message.find("same"), std::string::npos);
}

TEST(ParseCredentialsLineTest, AcceptsARealArgon2idEncoding) {
  const std::string hash = RealArgon2idHash("kara1234");
  ASSERT_EQ(hash.substr(0, 24), "$argon2id$v=19$m=8,t=1,p");
  auto e = ParseCredentialsLine("+61410666666 " + hash);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->hashed);
  EXPECT_EQ(e->secret.view(), hash);
  // The libargon2 default cost settings, as the store writes them.
  EXPECT_TRUE(ParseCredentialsLine("+61410666666 $argon2id$v=19$m=65536,t=3,p=4$"
                                   "c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG")
                  .ok());
}

TEST(ParseCredentialsLineTest, RejectsMalformedArgon2Encodings) {
  const std::string salt = "c29tZXNhbHQ";  // "somesalt", 8 bytes
  const std::string hash = "RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
  auto error = [&](const std::string& secret) { return ErrorOf("+61410666666 " + secret); };
  const std::string p = "password hash is not a valid Argon2id encoding: ";
  EXPECT_EQ(error("$argon2i$v=19$m=8,t=1,p=1$" + salt + "$" + hash),
            p + "only Argon2id (\"$argon2id$\") is accepted");
  EXPECT_EQ(error("$argon2d$v=19$m=8,t=1,p=1$" + salt + "$" + hash),
            p + "only Argon2id (\"$argon2id$\") is accepted");
  EXPECT_EQ(error("$argon2"), p + "only Argon2id (\"$argon2id$\") is accepted");
  EXPECT_EQ(error("$argon2id$v=16$m=8,t=1,p=1$" + salt + "$" + hash),
            p + "expected version \"v=19\" after \"$argon2id$\"");
  EXPECT_EQ(error("$argon2id$m=8,t=1,p=1$" + salt + "$" + hash),
            p + "expected version \"v=19\" after \"$argon2id$\"");
  const std::string params = p + "expected \"m=<KiB>,t=<passes>,p=<lanes>\" in decimal";
  for (const char* bad : {"m=08,t=1,p=1", "m=8,p=1,t=1", "m=8,t=1", "m=,t=1,p=1", "m=8,t=+1,p=1",
                          "m=4294967296,t=1,p=1", "M=8,t=1,p=1", "m=8, t=1,p=1"}) {
    EXPECT_EQ(error(std::string("$argon2id$v=19$") + bad + "$" + salt + "$" + hash), params) << bad;
  }
  EXPECT_EQ(error("$argon2id$v=19$m=8,t=1,p=0$" + salt + "$" + hash),
            p + "argon2 parallelism must be 1-64, got 0");
  EXPECT_EQ(error("$argon2id$v=19$m=8,t=0,p=1$" + salt + "$" + hash),
            p + "argon2 iterations must be 1-64, got 0");
  EXPECT_EQ(error("$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + hash),
            p + "argon2 memory_kib must be 16-1048576, got 15");
  // Costs that login would refuse are refused here too (argon2_encoding.hpp).
  EXPECT_EQ(error("$argon2id$v=19$m=4294967295,t=4294967295,p=1$" + salt + "$" + hash),
            p + "argon2 iterations must be 1-64, got 4294967295");
}

TEST(ParseCredentialsLineTest, RejectsMalformedArgon2Base64) {
  const std::string head = "+61410666666 $argon2id$v=19$m=8,t=1,p=1$";
  const std::string salt = "c29tZXNhbHQ";
  const std::string hash = "RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
  const std::string p = "password hash is not a valid Argon2id encoding: ";
  EXPECT_EQ(ErrorOf(head + salt), p + "expected '$' between salt and hash");
  EXPECT_EQ(ErrorOf("+61410666666 $argon2id$v=19$m=8,t=1,p=1" + salt),
            p + "expected '$' before the salt");
  EXPECT_EQ(ErrorOf(head + "$" + hash), p + "salt is empty");
  EXPECT_EQ(ErrorOf(head + salt + "$"), p + "hash is empty");
  EXPECT_EQ(ErrorOf(head + salt + "=$" + hash),
            p + "salt contains '=', which is not unpadded base64");
  EXPECT_EQ(ErrorOf(head + salt + "$" + hash + "$x"),
            p + "hash contains '$', which is not unpadded base64");
  EXPECT_EQ(ErrorOf(head + salt + "$" + hash + "-"),
            p + "hash contains '-', which is not unpadded base64");  // URL-safe alphabet
  EXPECT_EQ(ErrorOf(head + salt + "$" + hash + "A"), p + "hash has an impossible base64 length");
  // "c29tZXNhbHR" ends in 'R' = 010001: its low 2 bits should be zero.
  EXPECT_EQ(ErrorOf(head + "c29tZXNhbHR$" + hash), p + "salt has non-zero padding bits");
  EXPECT_EQ(ErrorOf(head + "c29tZXNhbA$" + hash), p + "salt is shorter than 8 bytes");
  EXPECT_EQ(ErrorOf(head + salt + "$AAAAAAAAAAAAAAAAAAAA"), p + "hash is shorter than 16 bytes");
  EXPECT_TRUE(ParseCredentialsLine(head + salt + "$AAAAAAAAAAAAAAAAAAAAAA").ok());  // 16 bytes
}

TEST(ParseCredentialsFileTest, ReadsTheOriginalSampleByteForByte) {
  const std::string content =
      test::ReadFileForTest(test::SourcePath("tests/data/original/credentials.txt"));
  ASSERT_NE(content.find("\r\n"), std::string::npos);
  ASSERT_NE(content.back(), '\n');
  auto entries = ParseCredentialsFile(content, "credentials.txt");
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 4u);
  const char* users[] = {"+61410666666", "+61410777777", "+61410888888", "+61410999999"};
  const char* passwords[] = {"kara1234", "datha457", "comp3331", "bada4568"};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*entries)[i].user, users[i]);
    EXPECT_EQ((*entries)[i].secret.view(), passwords[i]);
    EXPECT_FALSE((*entries)[i].hashed);
  }
}

TEST(ParseCredentialsFileTest, AcceptsLfBlankLinesAndAFinalNewline) {
  auto entries = ParseCredentialsFile(
      "\n+61410666666 kara1234\n\n  \t\n+61-410-777-777 datha457\r\n\n", "credentials.txt");
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].user, "+61410777777");
  auto empty = ParseCredentialsFile("", "credentials.txt");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseCredentialsFileTest, NamesTheFileAndLineOfADefect) {
  auto r = ParseCredentialsFile("+61410666666 kara1234\r\n\r\n+61410777777\r\n", "creds.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "creds.txt line 3: missing password; expected \"<UserID> <password>\"");
  auto stray = ParseCredentialsFile("+61410666666 kara\r1234\n", "creds.txt");
  EXPECT_EQ(stray.status().message(),
            "creds.txt line 1: stray carriage return (CR) at byte 18; lines end in LF or CRLF");
}

TEST(ParseCredentialsFileTest, RejectsDuplicateUsersNamingBothLines) {
  auto r =
      ParseCredentialsFile("+61410666666 a\n+61410777777 b\n\n+61-410-666-666 c\n", "creds.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "creds.txt line 4: user +61410666666 is already defined on line 1");
}

TEST(CredentialsRoundTripTest, FormatThenParseGivesTheSameEntry) {
  test::SeededRandom random(2024);
  auto below = [&](std::uint64_t n) {
    return static_cast<std::size_t>(*util::UniformBelow(random, n));
  };
  const std::string hash = RealArgon2idHash("pw");
  for (int i = 0; i < 2000; ++i) {
    std::string user = "+" + std::string(1, static_cast<char>('1' + below(9)));
    const std::size_t digits = 7 + below(8);  // 8 to 15 in all
    for (std::size_t d = 0; d < digits; ++d) user += static_cast<char>('0' + below(10));
    std::string secret;
    if (i % 10 == 0) {
      secret = hash;
    } else {
      const std::size_t len = 1 + below(40);
      for (std::size_t k = 0; k < len; ++k) secret += static_cast<char>(0x20 + below(0x5f));
      if (secret.front() == ' ') secret.front() = 'x';
      if (secret.back() == ' ') secret.back() = 'y';
      if (secret.rfind("$argon2", 0) == 0) secret[0] = 'z';
    }
    const std::string line = FormatCredentialsLine(user, secret);
    auto e = ParseCredentialsLine(line);
    ASSERT_TRUE(e.ok()) << line << ": " << e.status().ToString();
    CredentialsEntry expected{user, util::SecretString(secret), i % 10 == 0};
    ASSERT_EQ(*e, expected) << line;
    ASSERT_EQ(FormatCredentialsLine(e->user, e->secret.view()), line);
  }
}

}  // namespace
}  // namespace bluetrace::protocol
