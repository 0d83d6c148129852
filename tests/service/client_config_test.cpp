#include "bluetrace/service/client_config.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

TEST(ClientConfigTest, TheShippedFileHoldsExactlyTheDefaults) {
  const ClientOptions defaults;
  ClientOptions c;
  c.data_dir = "changed";  // proves the file sets every key back
  c.time_mode = protocol::TimeZoneMode::kLocal;
  c.udp_bind_address = "::";
  c.ca_file = "x.pem";
  c.known_servers_file = "k";
  c.contact_retention_seconds = 1;
  c.max_contact_log_entries = 1;
  c.tempid_renew_margin_seconds = 1;
  c.ping_interval_seconds = 1;
  c.timeout_seconds = 1;
  auto st = ParseClientConfig(test::ReadFileForTest(test::SourcePath("config/client.toml")),
                              "client.toml", c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(FormatClientConfig(c), FormatClientConfig(defaults));
  EXPECT_EQ(c.contact_retention_seconds, 21 * 24 * 3600);
  EXPECT_EQ(c.time_mode, protocol::TimeZoneMode::kUtc);
  EXPECT_TRUE(ValidateClientOptions(c).ok());
}

TEST(ClientConfigTest, FormattedConfigParsesBackToTheSameOptions) {
  ClientOptions c;
  c.data_dir = "/var/lib/my \"client\"";
  c.time_mode = protocol::TimeZoneMode::kLocal;
  c.contact_retention_seconds = 180;
  c.timeout_seconds = 3;
  ClientOptions back;
  ASSERT_TRUE(ParseClientConfig(FormatClientConfig(c), "x", back).ok());
  EXPECT_EQ(FormatClientConfig(back), FormatClientConfig(c));
  EXPECT_EQ(back.data_dir, c.data_dir);
}

TEST(ClientConfigTest, NonUtf8BytesFromFlagsPrintAsReplacementCharacters) {
  // --print-config prints flag values too, which need not be UTF-8; the output must parse.
  ClientOptions c;
  c.data_dir = std::string("dir\xff\xc3(\x7f", 7);
  ClientOptions back;
  const std::string printed = FormatClientConfig(c);
  auto st = ParseClientConfig(printed, "x", back);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << printed;
  EXPECT_EQ(back.data_dir, "dir\xef\xbf\xbd\xef\xbf\xbd(\x7f");
}

TEST(ClientConfigTest, TheOriginalsRetentionIsOneValueAway) {
  ClientOptions c;
  ASSERT_TRUE(ParseClientConfig("[contact_log]\nretention = 180\n", "x", c).ok());
  EXPECT_EQ(c.contact_retention_seconds, 180);
  EXPECT_EQ(c.timeout_seconds, 10u);  // untouched
}

TEST(ClientConfigTest, UnknownKeysNameTheKey) {
  ClientOptions c;
  auto st = ParseClientConfig("[tls]\nca_fille = \"x\"\n", "client.toml", c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("tls.ca_fille"), std::string::npos) << st.message();
  st = ParseClientConfig("[server]\nport = 1\n", "client.toml", c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("server.port"), std::string::npos) << st.message();
}

TEST(ClientConfigTest, RangesAndTypesNameTheKeyAndTheValue) {
  ClientOptions c;
  auto st = ParseClientConfig("[contact_log]\nretention = 0\n", "client.toml", c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("client.toml"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("contact_log.retention"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("got 0"), std::string::npos) << st.message();
  st = ParseClientConfig("[timeouts]\nrequest = \"10\"\n", "client.toml", c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("timeouts.request"), std::string::npos) << st.message();
  st = ParseClientConfig("[client]\ntime_zone = \"CET\"\n", "client.toml", c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("client.time_zone"), std::string::npos) << st.message();
}

TEST(ClientConfigTest, ValidationChecksTheBindAddress) {
  ClientOptions c;
  EXPECT_TRUE(ValidateClientOptions(c).ok());
  c.udp_bind_address = "::1";
  EXPECT_TRUE(ValidateClientOptions(c).ok());
  c.udp_bind_address = "localhost";
  auto st = ValidateClientOptions(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("client.udp_bind_address"), std::string::npos);
  c.udp_bind_address = "127.0.0.1";
  c.data_dir.clear();
  EXPECT_FALSE(ValidateClientOptions(c).ok());
}

}  // namespace
}  // namespace bluetrace::service
