#include "bluetrace/service/password_rules.hpp"

#include <gtest/gtest.h>

#include "bluetrace/service/server_config.hpp"

namespace bluetrace::service {
namespace {

TEST(PasswordRulesTest, TheDefaultBoundsAreInclusiveAndTheMessageIsTheServers) {
  EXPECT_TRUE(CheckPasswordLength(8).ok());
  EXPECT_TRUE(CheckPasswordLength(1024).ok());
  for (std::size_t bytes : {0u, 7u, 1025u}) {
    const util::Status st = CheckPasswordLength(bytes);
    EXPECT_EQ(st.code(), util::StatusCode::kInvalidArgument) << bytes;
    EXPECT_EQ(st.message(), "the password must be 8 to 1024 bytes long") << bytes;
  }
  EXPECT_EQ(CheckPasswordLength(11, 12, 64).message(), "the password must be 12 to 64 bytes long");
}

TEST(PasswordRulesTest, TheServersDefaultsAreTheseBounds) {
  const ServerConfig config;
  EXPECT_EQ(config.min_password_length, kDefaultMinPasswordBytes);
  EXPECT_EQ(config.max_password_length, kDefaultMaxPasswordBytes);
}

}  // namespace
}  // namespace bluetrace::service
