// End-to-end tests of the real bluetrace-server program: command lines, configuration and
// state-file errors, TLS with the self-signed certificate it creates, signals, and state
// that survives a restart. Loopback only; every wait is bounded.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/store/file_system.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace {
namespace {

using namespace std::chrono_literals;
using namespace protocol;  // NOLINT
using test::ReadFileForTest;
using test::WriteFileForTest;

constexpr auto kWait = 20s;

class ServerProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::CopyOriginalSample(dir_.path(), "credentials.txt");
    test::CopyOriginalSample(dir_.path(), "tempIDs.txt");
  }

  // The original's command line, plus a ready file and fast hashes.
  std::unique_ptr<test::ServerProcess> Start(std::vector<std::string> extra = {}) {
    std::remove(dir_.File("ready").c_str());
    WriteFileForTest(dir_.File("fast.toml"),
                     "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n"
                     "[server]\nbind_address = \"127.0.0.1\"\n");
    std::vector<std::string> args = {"0", "5", "--config", "fast.toml", "--ready-file", "ready"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<test::ServerProcess>(test::ProgramPath("bluetrace-server"),
                                                   dir_.path(), args);
    port_ = p->WaitReady(dir_.File("ready"), kWait);
    return p;
  }

  std::unique_ptr<net::ClientConnection> Connect(const std::string& local = "") {
    net::ClientConnectOptions o;
    o.local_address = local;
    auto c = net::ClientConnection::Connect(
        "127.0.0.1", port_, net::TlsClientOptions{dir_.File("server.crt"), "127.0.0.1", "1.3"}, o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    auto hello = (*c)->Call(Hello{1, 1, "test"}, kWait);
    EXPECT_TRUE(hello.ok() && std::holds_alternative<HelloOk>(*hello));
    return std::move(*c);
  }

  static Message Login(net::ClientConnection& c, const std::string& user,
                       const std::string& password) {
    auto r = c.Call(protocol::Login{user, util::SecretString(password)}, kWait);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : Message(Error{});
  }

  test::TempDir dir_;
  std::uint16_t port_ = 0;
};

TEST_F(ServerProgramTest, OriginalCommandLineServesOverTlsAndStopsCleanlyOnSigterm) {
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();

  // A self-signed certificate was created, its key readable by the owner only.
  auto mode = store::PosixFileSystem::Instance().FileMode(dir_.File("server.key"));
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, 0600u);
  EXPECT_NE(server->Stderr().find("SHA256:"), std::string::npos) << server->Stderr();

  auto c = Connect();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->tls_version(), "TLSv1.3");
  ASSERT_TRUE(std::holds_alternative<Welcome>(Login(*c, "+61410888888", "comp3331")));
  auto t = c->Call(TempIdRequest{}, kWait);
  ASSERT_TRUE(t.ok() && std::holds_alternative<TempIdResponse>(*t));
  const std::string id = std::get<TempIdResponse>(*t).id.ToString();
  auto bye = c->Call(Logout{}, kWait);
  ASSERT_TRUE(bye.ok() && std::holds_alternative<LogoutOk>(*bye));

  EXPECT_EQ(server->Stop(kWait), 0) << server->Stderr();
  const std::string out = server->Stdout();
  EXPECT_NE(out.find("user: +61410888888\nTempID:\n" + id + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("+61410888888 logout\n"), std::string::npos) << out;
  EXPECT_NE(ReadFileForTest(dir_.File("tempIDs.txt")).find("+61410888888 " + id),
            std::string::npos);
  // The plaintext password was replaced by its Argon2id hash; passwords never reach logs.
  EXPECT_NE(ReadFileForTest(dir_.File("credentials.txt")).find("+61410888888 $argon2id$"),
            std::string::npos);
  EXPECT_EQ(server->Stderr().find("comp3331"), std::string::npos);
}

TEST_F(ServerProgramTest, ABlockHoldsAcrossAddressesAndARestart) {
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  auto a = Connect("127.0.0.1");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(std::holds_alternative<WrongPassword>(Login(*a, "+61410999999", "x")));
  EXPECT_TRUE(std::holds_alternative<WrongPassword>(Login(*a, "+61410999999", "y")));
  auto b = Connect("127.0.0.2");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(std::holds_alternative<Blocked>(Login(*b, "+61410999999", "z")));
  ASSERT_EQ(server->Stop(kWait), 0);

  server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(std::holds_alternative<StillBlocked>(Login(*c, "+61410999999", "bada4568")));
  EXPECT_EQ(server->Stop(kWait), 0);
}

TEST_F(ServerProgramTest, SighupReloadsAGoodCertificateAndKeepsTheOldOneOnABadOne) {
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  auto first = Connect();
  ASSERT_NE(first, nullptr);
  const std::string old_fp = first->peer_fingerprint();

  // A broken certificate file: the reload is refused and the old context stays in use.
  const std::string good_cert = ReadFileForTest(dir_.File("server.crt"));
  WriteFileForTest(dir_.File("server.crt"), "garbage");
  server->Signal(SIGHUP);
  ASSERT_TRUE(test::WaitFor([&] {
    return server->Stderr().find("keeping the current certificate") != std::string::npos;
  }));
  {
    net::ClientConnectOptions o;
    auto c = net::ClientConnection::Connect("127.0.0.1", port_,
                                            net::TlsClientOptions{"", "127.0.0.1", "1.3"}, o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ((*c)->peer_fingerprint(), old_fp);
  }

  // A new valid pair: new connections see it.
  auto fresh = net::GenerateSelfSigned({});
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(net::WriteCertificateFiles(store::PosixFileSystem::Instance(),
                                         dir_.File("server.crt"), dir_.File("server.key"), *fresh)
                  .ok());
  server->Signal(SIGHUP);
  ASSERT_TRUE(test::WaitFor(
      [&] { return server->Stderr().find("certificate reloaded") != std::string::npos; }));
  auto second = Connect();
  ASSERT_NE(second, nullptr);
  EXPECT_NE(second->peer_fingerprint(), old_fp);
  // The connection made before the reload still works.
  auto pong = first->Call(Ping{5}, kWait);
  EXPECT_TRUE(pong.ok() && std::holds_alternative<Pong>(*pong));
  (void)good_cert;
  EXPECT_EQ(server->Stop(kWait), 0);
}

TEST_F(ServerProgramTest, StartUpRemovesLeftoverTemporaryFilesAndSaysSo) {
  // What crashes mid-write leave: a full copy of credentials.txt (plaintext passwords
  // included), of lockouts.txt, of a new key, half a report; and names that are not ours.
  auto& fs = store::PosixFileSystem::Instance();
  const std::string creds = ReadFileForTest(dir_.File("credentials.txt"));
  ASSERT_NE(creds.find("comp3331"), std::string::npos);
  ASSERT_TRUE(fs.CreateDirs(dir_.File("reports")).ok());
  const std::vector<std::pair<std::string, std::string>> leftovers = {
      {".credentials.txt.tmp.4242.0", creds},
      {".lockouts.txt.tmp.4242.1", "+61410999999 2 0\n"},
      {".server.key.tmp.99.0", "-----BEGIN PRIVATE KEY-----\n"},
      {"reports/.20200513T175000Z-61410888888-1.txt.tmp.99.1", "half a report"}};
  std::size_t bytes = 0;
  for (const auto& [name, text] : leftovers) {
    WriteFileForTest(dir_.File(name), text);
    bytes += text.size();
  }
  const std::vector<std::string> others = {".contactlog.txt.tmp.7.0", "notes.tmp.1.2",
                                           ".credentials.txt.tmp.1", "reports/.x.tmp.1.2"};
  for (const auto& name : others) WriteFileForTest(dir_.File(name), "not the server's");

  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  const std::string err = server->Stderr();
  EXPECT_NE(err.find("removed 4 leftover temporary files (" + std::to_string(bytes) +
                     " bytes) of writes interrupted by a crash"),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find("comp3331"), std::string::npos) << err;
  for (const auto& [name, text] : leftovers) {
    EXPECT_FALSE(*fs.Exists(dir_.File(name))) << name;
  }
  for (const auto& name : others) EXPECT_EQ(ReadFileForTest(dir_.File(name)), "not the server's");
  EXPECT_EQ(server->Stop(kWait), 0) << server->Stderr();

  // A start without leftovers says nothing about them.
  server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  EXPECT_EQ(server->Stderr().find("leftover"), std::string::npos) << server->Stderr();
  EXPECT_EQ(server->Stop(kWait), 0);
}

TEST_F(ServerProgramTest, AMalformedStateFileStopsStartUpNamingFileAndLine) {
  WriteFileForTest(dir_.File("tempIDs.txt"),
                   "+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n"
                   "+61410888888 1234 13/05/2020 17:54:06 13/05/2020 18:09:05\n"
                   "+61410777777 12345678901234567892 14/05/2020 17:45:06 14/05/2020 18:00:05\n");
  auto server = Start();
  EXPECT_EQ(port_, 0);
  EXPECT_EQ(server->WaitExit(kWait), 1);
  const std::string err = server->Stderr();
  EXPECT_NE(err.find("tempIDs.txt"), std::string::npos) << err;
  EXPECT_NE(err.find("line 2"), std::string::npos) << err;
}

TEST_F(ServerProgramTest, AKeyReadableByOthersIsRefused) {
  auto fresh = net::GenerateSelfSigned({});
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(net::WriteCertificateFiles(store::PosixFileSystem::Instance(),
                                         dir_.File("server.crt"), dir_.File("server.key"), *fresh)
                  .ok());
  ASSERT_EQ(chmod(dir_.File("server.key").c_str(), 0644), 0);
  auto server = Start();
  EXPECT_EQ(server->WaitExit(kWait), 1);
  EXPECT_NE(server->Stderr().find("server.key"), std::string::npos) << server->Stderr();
  EXPECT_NE(server->Stderr().find("0644"), std::string::npos) << server->Stderr();
}

class ServerCommandLineTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args) {
    test::ServerProcess p(test::ProgramPath("bluetrace-server"), dir_.path(), std::move(args));
    const int code = p.WaitExit(kWait);
    out_ = p.Stdout();
    err_ = p.Stderr();
    return code;
  }
  test::TempDir dir_;
  std::string out_, err_;
};

TEST_F(ServerCommandLineTest, VersionAndHelp) {
  EXPECT_EQ(Run({"--version"}), 0);
  EXPECT_NE(out_.find("bluetrace-server "), std::string::npos);
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_NE(out_.find("--check-config"), std::string::npos) << out_;
  EXPECT_NE(out_.find("block_duration"), std::string::npos) << out_;
}

TEST_F(ServerCommandLineTest, CheckConfigAcceptsTheShippedFileAndNamesBadKeys) {
  EXPECT_EQ(Run({"--check-config", "--config", test::SourcePath("config/server.toml")}), 0) << err_;
  EXPECT_NE(out_.find("configuration OK"), std::string::npos);

  WriteFileForTest(dir_.File("bad.toml"), "[limits]\nmax_connections = -1\n");
  EXPECT_EQ(Run({"--check-config", "--config", "bad.toml"}), 2);
  EXPECT_NE(err_.find("bad.toml: limits.max_connections"), std::string::npos) << err_;

  WriteFileForTest(dir_.File("typo.toml"), "[auth]\nblock_durration = 3\n");
  EXPECT_EQ(Run({"--config", "typo.toml"}), 2);
  EXPECT_NE(err_.find("auth.block_durration"), std::string::npos) << err_;

  EXPECT_EQ(Run({"--config", "missing.toml"}), 2);
  EXPECT_NE(err_.find("missing.toml"), std::string::npos) << err_;
}

// The packaged unit passes its credentials directory's files as flags (TOML cannot
// expand systemd's %d); the packaged configuration must pass with them.
TEST_F(ServerCommandLineTest, TlsFlagsNameTheCertificateAndKeyOfThePackagedConfig) {
  auto pair = net::GenerateSelfSigned({});
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(net::WriteCertificateFiles(store::PosixFileSystem::Instance(), dir_.File("c.crt"),
                                         dir_.File("c.key"), *pair)
                  .ok());
  const std::string packaged = test::SourcePath("packaging/server.toml");
  EXPECT_EQ(Run({"--config", packaged, "--tls-certificate", "c.crt", "--tls-key", "c.key",
                 "--print-config"}),
            0)
      << err_;
  EXPECT_NE(out_.find("certificate = \"c.crt\"\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("private_key = \"c.key\"\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("state_dir = \"/var/lib/bluetrace\"\n"), std::string::npos) << out_;
  EXPECT_EQ(Run({"--check-config", "--config", packaged, "--tls-certificate", "c.crt", "--tls-key",
                 "c.key"}),
            0)
      << err_;

  // A certificate without its key, or a key that is not one, is refused.
  EXPECT_EQ(Run({"--check-config", "--config", packaged, "--tls-certificate", "c.crt"}), 2);
  EXPECT_NE(err_.find("tls.private_key"), std::string::npos) << err_;
  EXPECT_EQ(Run({"--check-config", "--config", packaged, "--tls-certificate", "c.crt", "--tls-key",
                 "c.crt"}),
            2);
}

TEST_F(ServerCommandLineTest, PositionalArgumentsOverrideTheFile) {
  EXPECT_EQ(Run({"4321", "17", "--print-config"}), 0) << err_;
  EXPECT_NE(out_.find("port = 4321\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("block_duration = 17\n"), std::string::npos) << out_;
  EXPECT_EQ(Run({"4321", "0"}), 2);
  EXPECT_EQ(Run({"not-a-port", "10"}), 2);
}

// A bad positional argument is named, with its valid range, by the program: not CLI11's
// "Could not convert: server_port = 99999".
TEST_F(ServerCommandLineTest, ABadPositionalArgumentNamesItselfAndItsRange) {
  // Were a bad value taken, the server would listen on a free loopback port only.
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"99999", "30"}, "bluetrace-server: server_port must be 0 to 65535, got 99999\n"},
      {{"-1", "30"}, "bluetrace-server: server_port must be 0 to 65535, got -1\n"},
      {{"40x0", "30"}, "bluetrace-server: server_port must be 0 to 65535, got 40x0\n"},
      {{"0", "0"}, "bluetrace-server: block_duration must be 1 to 2592000 seconds, got 0\n"},
      {{"0", "2592001"},
       "bluetrace-server: block_duration must be 1 to 2592000 seconds, got 2592001\n"},
      {{"0", "ten"}, "bluetrace-server: block_duration must be 1 to 2592000 seconds, got ten\n"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> line = args;
    line.insert(line.end(), {"--bind", "127.0.0.1", "--no-console"});
    EXPECT_EQ(Run(line), 2) << args[0] << " " << args[1];
    EXPECT_EQ(err_, message);
    EXPECT_EQ(out_, "");
  }
  EXPECT_EQ(Run({"65535", "2592000", "--print-config"}), 0) << err_;
  EXPECT_NE(out_.find("port = 65535\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("block_duration = 2592000\n"), std::string::npos) << out_;
}

}  // namespace
}  // namespace bluetrace
