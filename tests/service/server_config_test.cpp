#include "bluetrace/service/server_config.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

// "section.key" -> value text of every key line (not comments) of a TOML file, failing
// the test on a key written twice.
std::map<std::string, std::string> KeysOfTomlFile(const std::string& relative_path) {
  std::map<std::string, std::string> keys;
  const std::string text = test::ReadFileForTest(test::SourcePath(relative_path));
  std::string section;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
    } else if (const auto eq = line.find(" = "); eq != std::string::npos) {
      const std::string name = section + "." + line.substr(0, eq);
      EXPECT_TRUE(keys.emplace(name, line.substr(eq + 3)).second)
          << relative_path << ": " << name << " twice";
    } else {
      ADD_FAILURE() << relative_path << ": cannot read the line: " << line;
    }
  }
  return keys;
}

std::set<std::string> TableKeyNames() {
  std::set<std::string> names;
  for (const ServerConfigKey& key : ServerConfigKeys()) names.emplace(key.name);
  return names;
}

// Fails naming every table key `where` lacks, and every key of `where` the table lacks.
void ExpectTheTablesKeys(const std::map<std::string, std::string>& keys, const char* where) {
  const std::set<std::string> table = TableKeyNames();
  for (const std::string& name : table) {
    EXPECT_TRUE(keys.count(name) != 0) << where << " lacks " << name;
  }
  for (const auto& [name, value] : keys) {
    EXPECT_TRUE(table.count(name) != 0) << where << " has " << name << ", not in the table";
  }
}

TEST(ServerConfigKeysTest, NamesAndFlagsAreUniqueAndRangesHoldTheirDefaults) {
  std::set<std::string_view> names;
  std::set<std::string_view> flags;
  const ServerConfig defaults;
  for (const ServerConfigKey& key : ServerConfigKeys()) {
    EXPECT_TRUE(names.insert(key.name).second) << key.name;
    EXPECT_NE(key.name.find('.'), std::string_view::npos) << key.name;
    EXPECT_FALSE(key.help.empty()) << key.name;
    if (!key.flag.empty()) {
      EXPECT_TRUE(flags.insert(key.flag).second) << key.flag;
      EXPECT_EQ(key.flag.substr(0, 2), "--") << key.flag;
    }
    EXPECT_LE(key.min, key.max) << key.name;
    EXPECT_EQ(FindServerConfigKey(key.name), &key);
  }
  EXPECT_EQ(FindServerConfigKey("server.nonsense"), nullptr);
  // Every default passes its own range: the defaults, printed, parse back.
  ServerConfig parsed;
  EXPECT_TRUE(ParseServerConfig(FormatServerConfig(defaults), "defaults", parsed).ok());
}

TEST(ServerConfigKeysTest, EveryNumericKeyRefusesOneBeyondItsRange) {
  for (const ServerConfigKey& key : ServerConfigKeys()) {
    if (key.min == 0 && key.max == 0) continue;  // not a number
    const std::string_view name = key.name;
    const std::string section(name.substr(0, name.find('.')));
    const std::string leaf(name.substr(name.find('.') + 1));
    const bool is_float = std::holds_alternative<RateField>(key.field);
    const std::string above = is_float ? std::to_string(key.max * 2)
                                       : std::to_string(static_cast<std::int64_t>(key.max) + 1);
    ServerConfig c;
    const util::Status st =
        ParseServerConfig("[" + section + "]\n" + leaf + " = " + above + "\n", "t.toml", c);
    EXPECT_FALSE(st.ok()) << key.name;
    EXPECT_NE(st.message().find(std::string(key.name) + ": must be between"), std::string::npos)
        << st.message();
  }
}

// config/server.toml documents every key of the table with its default, and nothing else.
TEST(ServerConfigKeysTest, TheExampleFileDocumentsEveryKeyWithItsDefault) {
  const auto documented = KeysOfTomlFile("config/server.toml");
  ExpectTheTablesKeys(documented, "config/server.toml");
  const ServerConfig defaults;
  for (const ServerConfigKey& key : ServerConfigKeys()) {
    auto it = documented.find(std::string(key.name));
    if (it == documented.end()) continue;  // reported above
    EXPECT_EQ(it->second, FormatServerConfigValue(key, defaults)) << key.name;
  }
}

// The packaged file shows every key too (its values differ where a service needs it).
TEST(ServerConfigKeysTest, ThePackagedFileNamesEveryKey) {
  ExpectTheTablesKeys(KeysOfTomlFile("packaging/server.toml"), "packaging/server.toml");
}

// bluetrace-server.toml(5) lists every key, under its section, with its default:
// `.TP` then `.BR key " = value"` (two keys of a rate on one line).
TEST(ServerConfigKeysTest, TheManPageListsEveryKeyWithItsDefault) {
  const std::string text =
      test::ReadFileForTest(test::SourcePath("packaging/man/bluetrace-server.toml.5"));
  std::map<std::string, std::string> listed;
  const std::regex section_line(R"(^\.SH \[([a-z]+)\]$)");
  const std::regex key_value(R"re(([a-z0-9_]+) " = ([^"]*)")re");
  std::string section;
  std::string previous;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    std::smatch m;
    if (std::regex_match(line, m, section_line)) {
      section = m[1];
    } else if (line.rfind(".SH ", 0) == 0) {
      section.clear();
    } else if (!section.empty() && previous == ".TP" && line.rfind(".BR ", 0) == 0) {
      for (auto it = std::sregex_iterator(line.begin(), line.end(), key_value);
           it != std::sregex_iterator(); ++it) {
        std::string value = (*it)[2];
        for (std::size_t q; (q = value.find("\\(dq")) != std::string::npos;) {
          value.replace(q, 4, "\"");
        }
        EXPECT_TRUE(listed.emplace(section + "." + std::string((*it)[1]), value).second) << line;
      }
    }
    previous = line;
  }
  ExpectTheTablesKeys(listed, "bluetrace-server.toml.5");
  const ServerConfig defaults;
  for (const auto& [name, value] : listed) {
    const ServerConfigKey* key = FindServerConfigKey(name);
    if (key == nullptr) continue;  // reported above
    EXPECT_EQ(value, FormatServerConfigValue(*key, defaults)) << name;
  }
}

TEST(ServerConfigKeysTest, FlagsMeetTheChecksOfTheFile) {
  ServerConfig c;
  const ServerConfigKey& port = *FindServerConfigKey("server.port");
  ASSERT_EQ(port.flag, "--port");
  EXPECT_TRUE(ApplyServerConfigFlag(port, "4100", c).ok());
  EXPECT_EQ(c.port, 4100);
  util::Status st = ApplyServerConfigFlag(port, "70000", c);
  EXPECT_EQ(st.message(), "--port: server.port: must be between 0 and 65535, got 70000");
  st = ApplyServerConfigFlag(port, "40a", c);
  EXPECT_EQ(st.message(), "--port: server.port: must be an integer, got 40a");
  EXPECT_EQ(c.port, 4100);

  const ServerConfigKey& zone = *FindServerConfigKey("server.time_zone");
  EXPECT_TRUE(ApplyServerConfigFlag(zone, "local", c).ok());
  EXPECT_EQ(c.time_mode, protocol::TimeZoneMode::kLocal);
  EXPECT_FALSE(ApplyServerConfigFlag(zone, "AEST\"\n[x]", c).ok());

  // A string is taken byte for byte: quotes, newlines and bytes that are not UTF-8.
  const ServerConfigKey& dir = *FindServerConfigKey("server.state_dir");
  EXPECT_TRUE(ApplyServerConfigFlag(dir, "/tmp/a \"b\"\n\xe9", c).ok());
  EXPECT_EQ(c.state_dir, "/tmp/a \"b\"\n\xe9");

  const ServerConfigKey& console = *FindServerConfigKey("server.console_output");
  EXPECT_EQ(console.flag, "--no-console");
  EXPECT_TRUE(ApplyServerConfigFlag(console, "false", c).ok());
  EXPECT_FALSE(c.console_output);

  const ServerConfigKey& block = *FindServerConfigKey("auth.block_duration");
  EXPECT_FALSE(ApplyServerConfigFlag(block, "0", c).ok());  // the file's range
}

TEST(ServerConfigKeysTest, OnlyTheLogLevelIsLive) {
  for (const ServerConfigKey& key : ServerConfigKeys()) {
    EXPECT_EQ(IsLiveKey(key.name), key.name == "server.log_level") << key.name;
  }
  EXPECT_FALSE(IsLiveKey("server.nonsense"));
}

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
  EXPECT_EQ(c.audit_retention_seconds, 2 * 365 * 24 * 3600);
  EXPECT_TRUE(ValidateServerConfig(c).ok());
}

// A typo in audit.retention (seconds for days) must not empty the audit trail.
TEST(ServerConfigTest, AuditRetentionIsZeroOrAtLeastADay) {
  ServerConfig c;
  ASSERT_TRUE(ParseServerConfig("[audit]\nretention = 0\n", "t.toml", c).ok());
  EXPECT_TRUE(ValidateServerConfig(c).ok());
  ASSERT_TRUE(ParseServerConfig("[audit]\nretention = 86400\n", "t.toml", c).ok());
  EXPECT_TRUE(ValidateServerConfig(c).ok());
  ASSERT_TRUE(ParseServerConfig("[audit]\nretention = 730\n", "t.toml", c).ok());
  const util::Status st = ValidateServerConfig(c);
  EXPECT_EQ(st.message(),
            "audit.retention: must be 0 (keep every record) or at least 86400 (one day), got "
            "730; a shorter one would empty the audit trail");
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
