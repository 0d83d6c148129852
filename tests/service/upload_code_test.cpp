// Upload codes as values: the alphabet, the reading back of typed codes, the keyed digest
// and the key file.
#include "bluetrace/service/upload_code.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <set>

#include "support/fake_random.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

TEST(UploadCodeTest, CodesUseTheAlphabetWithoutLookAlikes) {
  for (char c : std::string_view("0O1IL2Z5S8BQUVG")) {
    EXPECT_EQ(kUploadCodeAlphabet.find(c), std::string_view::npos) << c;
  }
  test::SeededRandom random(1);
  std::set<std::string> seen;
  std::set<char> used;
  for (int i = 0; i < 200; ++i) {
    auto code = GenerateUploadCode(random);
    ASSERT_TRUE(code.ok());
    ASSERT_EQ(code->size(), kUploadCodeLength);
    for (char c : code->view()) {
      EXPECT_NE(kUploadCodeAlphabet.find(c), std::string_view::npos);
      used.insert(c);
    }
    seen.emplace(code->view());
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(used.size(), kUploadCodeAlphabet.size());  // every character drawn
}

TEST(UploadCodeTest, TypedCodesAreReadIgnoringCaseSpacesAndHyphens) {
  EXPECT_EQ(FormatUploadCode("ACDEFHJKMN"), "ACDEF-HJKMN");
  for (const char* typed : {"ACDEF-HJKMN", "acdef-hjkmn", " ACDEF HJKMN ", "AC-DE-FH-JK-MN"}) {
    auto code = NormalizeUploadCode(typed);
    ASSERT_TRUE(code.ok()) << typed;
    EXPECT_EQ(code->view(), "ACDEFHJKMN");
  }
  for (const char* typed : {"", "ACDEF-HJKM", "ACDEF-HJKMNP", "ACDEF-HJKM0", "ACDEF_HJKMN"}) {
    auto code = NormalizeUploadCode(typed);
    ASSERT_FALSE(code.ok()) << typed;
    EXPECT_EQ(code.status().message().find(typed[0] ? typed : "#"), std::string::npos);
  }
}

TEST(UploadCodeTest, TheDigestIsKeyedAndBoundToThePhoneNumber) {
  const std::string key(64, 'a');
  auto d = UploadCodeDigest(key, "+61410888888", "ACDEFHJKMN");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->size(), 64u);
  EXPECT_EQ(*d, *UploadCodeDigest(key, "+61410888888", "ACDEFHJKMN"));
  EXPECT_NE(*d, *UploadCodeDigest(key, "+61410999999", "ACDEFHJKMN"));
  EXPECT_NE(*d, *UploadCodeDigest(std::string(64, 'b'), "+61410888888", "ACDEFHJKMN"));
  EXPECT_NE(*d, *UploadCodeDigest(key, "+61410888888", "ACDEFHJKMP"));
}

TEST(UploadCodeTest, TheKeyFileIsCreatedOwnerOnlyAndRefusedWhenOthersMayReadIt) {
  test::TempDir dir;
  auto& fs = store::PosixFileSystem::Instance();
  test::SeededRandom random(3);
  const std::string path = dir.File("upload-code.key");
  EXPECT_EQ(LoadUploadCodeKey(fs, path, random, false).status().code(),
            util::StatusCode::kNotFound);
  auto key = LoadUploadCodeKey(fs, path, random, true);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->size(), 64u);
  EXPECT_EQ(*fs.FileMode(path), 0600u);
  auto again = LoadUploadCodeKey(fs, path, random, true);  // read, not replaced
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->view(), key->view());
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_EQ(LoadUploadCodeKey(fs, path, random, true).status().code(),
            util::StatusCode::kPermissionDenied);
  test::WriteFileForTest(path, "short\n");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(LoadUploadCodeKey(fs, path, random, true).status().code(),
            util::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bluetrace::service
