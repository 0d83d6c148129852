#include "bluetrace/service/server_config.hpp"

#include <gtest/gtest.h>

#include <string>

#include "bluetrace/store/file_system.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

TEST(ServerConfigTest, DefaultsAreValid) {
  ServerConfig c;
  EXPECT_TRUE(ValidateServerConfig(c).ok());
  EXPECT_EQ(c.max_failed_logins, 3u);
  EXPECT_EQ(c.tempid_lifetime_seconds, 900);
  EXPECT_EQ(c.tempid_retention_seconds, 0);  // the original keeps every TempID
  EXPECT_FALSE(c.device_lockout);            // the original's lockout rule
  EXPECT_EQ(c.max_frame_bytes, 1u << 20);
  EXPECT_EQ(c.tls_min_version, "1.3");
  EXPECT_GE(c.argon2_memory_kib, 19456u);
}

TEST(ServerConfigTest, ThePackagedConfigurationTurnsOnWhatAServiceNeeds) {
  auto text =
      store::PosixFileSystem::Instance().ReadFile(test::SourcePath("packaging/server.toml"));
  ASSERT_TRUE(text.ok());
  ServerConfig c;
  ASSERT_TRUE(ParseServerConfig(*text, "server.toml", c).ok());
  EXPECT_TRUE(c.device_lockout);
  EXPECT_EQ(c.tempid_retention_seconds, 21 * 24 * 3600);
}

TEST(ServerConfigTest, RetentionIsZeroOrAtLeastTheLifetime) {
  ServerConfig c;
  ASSERT_TRUE(ParseServerConfig("[tempid]\nretention = 0\n", "t.toml", c).ok());
  EXPECT_TRUE(ValidateServerConfig(c).ok());
  ASSERT_TRUE(ParseServerConfig("[tempid]\nretention = 100\n", "t.toml", c).ok());
  EXPECT_FALSE(ValidateServerConfig(c).ok());
}

TEST(ServerConfigTest, ChangedKeysNamesWhatDiffers) {
  ServerConfig a;
  ServerConfig b;
  EXPECT_TRUE(ChangedKeys(a, b).empty());
  b.log_level = "debug";
  b.max_connections = 10;
  b.login_rate.burst = 5;
  EXPECT_EQ(ChangedKeys(a, b),
            (std::vector<std::string>{"server.log_level", "limits.max_connections",
                                      "limits.logins_burst"}));
  EXPECT_TRUE(IsLiveKey("server.log_level"));
  EXPECT_FALSE(IsLiveKey("limits.max_connections"));
}

TEST(ServerConfigTest, FileOverridesOnlyWhatItSets) {
  ServerConfig c;
  ASSERT_TRUE(ParseServerConfig("[server]\nport = 4100\n[auth]\nblock_duration = 10\n"
                                "[limits]\nlogins_per_second = 0.5\n",
                                "test.toml", c)
                  .ok());
  EXPECT_EQ(c.port, 4100);
  EXPECT_EQ(c.block_duration_seconds, 10);
  EXPECT_DOUBLE_EQ(c.login_rate.per_second, 0.5);
  EXPECT_DOUBLE_EQ(c.login_rate.burst, 60.0);  // untouched default
  EXPECT_EQ(c.state_dir, ".");
}

TEST(ServerConfigTest, OutOfRangeNamesTheKeyAndTheValue) {
  ServerConfig c;
  auto st = ParseServerConfig("[limits]\nmax_frame_bytes = 12\n", "server.toml", c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("server.toml"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("limits.max_frame_bytes"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("got 12"), std::string::npos) << st.message();
}

TEST(ServerConfigTest, WrongTypeNamesTheKey) {
  ServerConfig c;
  auto st = ParseServerConfig("[server]\nport = \"4000\"\n", "server.toml", c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("server.port: must be an integer"), std::string::npos)
      << st.message();
}

TEST(ServerConfigTest, UnknownKeysAreErrors) {
  ServerConfig c;
  auto st = ParseServerConfig("[auth]\nblock_durration = 10\n", "server.toml", c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("auth.block_durration"), std::string::npos) << st.message();
}

TEST(ServerConfigTest, SyntaxErrorNamesTheLine) {
  ServerConfig c;
  auto st = ParseServerConfig("[server]\nport = 4000\nstate_dir = \n", "server.toml", c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("server.toml: line 3"), std::string::npos) << st.message();
}

TEST(ServerConfigTest, RejectsNonAsciiAndNestedTablesAndArrays) {
  ServerConfig c;
  EXPECT_FALSE(ParseServerConfig("[server]\nstate_dir = \"\xc3\xa9\"\n", "x", c).ok());
  EXPECT_FALSE(ParseServerConfig("[server.sub]\nport = 1\n", "x", c).ok());
  EXPECT_FALSE(ParseServerConfig("[server]\nport = [1, 2]\n", "x", c).ok());
  EXPECT_FALSE(ParseServerConfig("port = 1\n", "x", c).ok());
  // toml++ 3.3 asserts on "[[[" in debug builds; ours must return an error instead.
  EXPECT_FALSE(ParseServerConfig("[[[\n", "x", c).ok());
}

TEST(ServerConfigTest, TimeZoneAndTlsVersionAreChecked) {
  ServerConfig c;
  ASSERT_TRUE(ParseServerConfig("[server]\ntime_zone = \"local\"\n", "x", c).ok());
  EXPECT_EQ(c.time_mode, protocol::TimeZoneMode::kLocal);
  EXPECT_FALSE(ParseServerConfig("[server]\ntime_zone = \"AEST\"\n", "x", c).ok());
  c.tls_min_version = "1.1";
  EXPECT_FALSE(ValidateServerConfig(c).ok());
}

TEST(ServerConfigTest, CrossFieldChecks) {
  ServerConfig c;
  c.certificate_file = "/etc/bluetrace/server.crt";
  EXPECT_FALSE(ValidateServerConfig(c).ok());  // key missing
  c.private_key_file = "/etc/bluetrace/server.key";
  EXPECT_TRUE(ValidateServerConfig(c).ok());
  c.bind_address = "localhost";
  EXPECT_FALSE(ValidateServerConfig(c).ok());  // must be a literal address
  c.bind_address = "::1";
  c.tempid_retention_seconds = 60;
  EXPECT_FALSE(ValidateServerConfig(c).ok());  // shorter than the lifetime
}

TEST(ServerConfigTest, MetricsAddressIsHostAndPort) {
  ServerConfig c;
  EXPECT_TRUE(ValidateServerConfig(c).ok());  // empty: the ops listener is off
  for (const char* good : {"127.0.0.1:9464", "0.0.0.0:0", "[::1]:9464"}) {
    c.metrics_address = good;
    EXPECT_TRUE(ValidateServerConfig(c).ok()) << good;
  }
  std::string host;
  std::uint16_t port = 1;
  ASSERT_TRUE(ParseMetricsAddress("[::1]:8080", host, port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
  for (const char* bad : {"127.0.0.1", "localhost:9464", "127.0.0.1:65536", "127.0.0.1:",
                          "::1:9464", "[127.0.0.1]:9464", "127.0.0.1:94a4", ":9464"}) {
    c.metrics_address = bad;
    const util::Status st = ValidateServerConfig(c);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("ops.metrics_address"), std::string::npos) << st.ToString();
  }
}

TEST(ServerConfigTest, FormattedConfigParsesBackToTheSameValues) {
  ServerConfig a;
  a.port = 5555;
  a.registration_enabled = false;
  a.login_rate = {2.5, 7.0};
  a.state_dir = "/var/lib/bluetrace";
  ServerConfig b;
  ASSERT_TRUE(ParseServerConfig(FormatServerConfig(a), "formatted", b).ok());
  EXPECT_EQ(FormatServerConfig(a), FormatServerConfig(b));
}

TEST(ServerConfigTest, FormattedRatesAndEscapedStringsParseBackExactly) {
  // Found by the server_config fuzz target: rates were printed to six digits, and strings
  // holding control or non-ASCII characters (written as escapes) printed unparsably.
  ServerConfig a;
  ASSERT_TRUE(ParseServerConfig("[limits]\nlogins_per_second = 0.0012345678\n"
                                "[server]\nstate_dir = \"a\\nb\\u0001\\u00e9\\U0001F600\\t\"\n",
                                "test.toml", a)
                  .ok());
  ServerConfig b;
  const std::string printed = FormatServerConfig(a);
  auto st = ParseServerConfig(printed, "printed", b);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << printed;
  EXPECT_EQ(b.login_rate.per_second, 0.0012345678);
  EXPECT_EQ(b.state_dir, "a\nb\x01\xc3\xa9\xf0\x9f\x98\x80\t");
  EXPECT_NE(printed.find("state_dir = \"a\\u000Ab\\u0001\\u00E9\\U0001F600\t\"\n"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("logins_per_second = 0.0012345678\n"), std::string::npos) << printed;
}

TEST(ServerConfigTest, ShippedConfigFileParsesAndMatchesTheDefaults) {
  ServerConfig shipped;
  const std::string text = test::ReadFileForTest(test::SourcePath("config/server.toml"));
  auto st = ParseServerConfig(text, "config/server.toml", shipped);
  ASSERT_TRUE(st.ok()) << st.ToString();
  // The shipped file documents every key with its default value.
  EXPECT_EQ(FormatServerConfig(shipped), FormatServerConfig(ServerConfig{}));
}

}  // namespace
}  // namespace bluetrace::service
