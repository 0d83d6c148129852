#include "bluetrace/util/digest.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bluetrace::util {
namespace {

TEST(DigestTest, Sha256OfKnownVectors) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto raw = Sha256("abc");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ((*raw)[0], 0xba);
  EXPECT_EQ((*raw)[31], 0xad);
  const std::uint8_t bytes[] = {'a', 'b', 'c'};
  EXPECT_EQ(*Sha256(std::span<const std::uint8_t>(bytes)), *raw);
}

TEST(DigestTest, FingerprintIsUpperCaseColonSeparatedAndRecognised) {
  const std::string fp = Sha256Fingerprint(*Sha256("abc"));
  EXPECT_EQ(fp,
            "SHA256:BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:"
            "FF:61:F2:00:15:AD");
  EXPECT_TRUE(IsSha256Fingerprint(fp));
  EXPECT_FALSE(IsSha256Fingerprint(fp.substr(0, fp.size() - 3)));
  EXPECT_FALSE(IsSha256Fingerprint(fp + ":00"));
  EXPECT_FALSE(IsSha256Fingerprint("sha256" + fp.substr(6)));
  std::string lower = fp;
  lower.back() = 'd';
  EXPECT_FALSE(IsSha256Fingerprint(lower));
  std::string no_colon = fp;
  no_colon[9] = '-';
  EXPECT_FALSE(IsSha256Fingerprint(no_colon));
}

}  // namespace
}  // namespace bluetrace::util
