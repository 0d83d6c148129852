#include "bluetrace/store/known_servers.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using util::StatusCode;

// A well-formed fingerprint whose hex pairs are all `c c`.
std::string Fingerprint(char c) {
  std::string fp = "SHA256:";
  for (int i = 0; i < 32; ++i) {
    if (i > 0) fp += ':';
    fp += std::string(2, c);
  }
  return fp;
}

class KnownServersTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.File("state/bluetrace/known_servers"); }
  test::TempDir dir_;
  PosixFileSystem& fs_ = PosixFileSystem::Instance();
};

TEST_F(KnownServersTest, NothingIsKnownWithoutAFile) {
  KnownServers known(fs_, Path());
  auto fp = known.Lookup("127.0.0.1:4000");
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  EXPECT_FALSE(fp->has_value());
}

TEST_F(KnownServersTest, RememberCreatesAPrivateFileAndLookupFindsIt) {
  KnownServers known(fs_, Path());
  ASSERT_TRUE(known.Remember("127.0.0.1:4000", Fingerprint('A')).ok());
  EXPECT_EQ(test::ReadFileForTest(Path()), "127.0.0.1:4000 " + Fingerprint('A') + "\n");
  EXPECT_EQ(*fs_.FileMode(Path()), 0600u);
  EXPECT_EQ(*fs_.FileMode(dir_.File("state/bluetrace")), 0700u);
  auto fp = known.Lookup("127.0.0.1:4000");
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(fp->value_or(""), Fingerprint('A'));
  EXPECT_FALSE(known.Lookup("127.0.0.1:4001")->has_value());  // the port is part of the key
}

TEST_F(KnownServersTest, RememberReplacesOnlyItsOwnLineAndKeepsComments) {
  ASSERT_TRUE(fs_.CreateDirs(dir_.File("state/bluetrace")).ok());
  test::WriteFileForTest(Path(), "# my servers\r\nhost.example:4000 " + Fingerprint('B') +
                                     "\r\n\n127.0.0.1:4000 " + Fingerprint('A') + "\n");
  KnownServers known(fs_, Path());
  ASSERT_TRUE(known.Remember("127.0.0.1:4000", Fingerprint('C')).ok());
  EXPECT_EQ(test::ReadFileForTest(Path()), "# my servers\nhost.example:4000 " + Fingerprint('B') +
                                               "\n\n127.0.0.1:4000 " + Fingerprint('C') + "\n");
  ASSERT_TRUE(known.Remember("[::1]:4000", Fingerprint('D')).ok());
  EXPECT_EQ(known.Lookup("[::1]:4000")->value_or(""), Fingerprint('D'));
  EXPECT_EQ(known.Lookup("host.example:4000")->value_or(""), Fingerprint('B'));
  EXPECT_FALSE(known.Lookup("")->has_value());  // a comment or blank line is no entry
}

TEST_F(KnownServersTest, AMalformedLineIsCorruptionNamingTheLineAndIsNotOverwritten) {
  ASSERT_TRUE(fs_.CreateDirs(dir_.File("state/bluetrace")).ok());
  const std::string text = "127.0.0.1:4000 " + Fingerprint('A') + "\n127.0.0.1:4001 md5:00\n";
  test::WriteFileForTest(Path(), text);
  KnownServers known(fs_, Path());
  auto fp = known.Lookup("127.0.0.1:4000");
  ASSERT_FALSE(fp.ok());
  EXPECT_EQ(fp.status().code(), StatusCode::kCorruption);
  EXPECT_NE(fp.status().message().find(Path() + " line 2"), std::string::npos)
      << fp.status().message();
  EXPECT_FALSE(known.Remember("127.0.0.1:4002", Fingerprint('B')).ok());
  EXPECT_EQ(test::ReadFileForTest(Path()), text);
}

TEST_F(KnownServersTest, RememberRefusesMalformedInput) {
  KnownServers known(fs_, Path());
  EXPECT_EQ(known.Remember("127.0.0.1", Fingerprint('A')).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(known.Remember("127.0.0.1:0", Fingerprint('A')).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(known.Remember("127.0.0.1:4000", "SHA256:ab").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(known.Remember("127.0.0.1:4000", Fingerprint('a')).code(),
            StatusCode::kInvalidArgument);  // lower case is not the format
}

TEST(KnownServerKeyTest, BracketsIpv6) {
  EXPECT_EQ(KnownServerKey("127.0.0.1", 4000), "127.0.0.1:4000");
  EXPECT_EQ(KnownServerKey("::1", 4000), "[::1]:4000");
  EXPECT_EQ(KnownServerKey("server.example", 443), "server.example:443");
}

TEST(KnownServerKeyTest, FingerprintFormat) {
  EXPECT_TRUE(IsSha256Fingerprint(Fingerprint('0')));
  EXPECT_TRUE(IsSha256Fingerprint(Fingerprint('F')));
  EXPECT_FALSE(IsSha256Fingerprint(Fingerprint('G')));
  EXPECT_FALSE(IsSha256Fingerprint(Fingerprint('0') + ":00"));
  EXPECT_FALSE(IsSha256Fingerprint("sha256" + Fingerprint('0').substr(6)));
}

TEST(DefaultKnownServersPathTest, FollowsTheXdgStateDirectory) {
  EXPECT_EQ(*KnownServersPathFrom("/x/state", "/home/u"), "/x/state/bluetrace/known_servers");
  EXPECT_EQ(*KnownServersPathFrom(nullptr, "/home/u"),
            "/home/u/.local/state/bluetrace/known_servers");
  // The XDG spec: a relative or empty value is ignored.
  EXPECT_EQ(*KnownServersPathFrom("relative", "/home/u"),
            "/home/u/.local/state/bluetrace/known_servers");
  EXPECT_EQ(*KnownServersPathFrom("", "/home/u"), "/home/u/.local/state/bluetrace/known_servers");
  auto none = KnownServersPathFrom(nullptr, nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("--ca-file"), std::string::npos);
}

}  // namespace
}  // namespace bluetrace::store
