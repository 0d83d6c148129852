// End-to-end tests of the real bluetrace-server program: command lines, configuration and
// state-file errors, TLS with the self-signed certificate it creates, signals, and state
// that survives a restart. Loopback only; every wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/store/file_system.hpp"
#include "support/console_client.hpp"
#include "support/run_command.hpp"
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
                     "[server]\nbind_address = \"127.0.0.1\"\n" +
                         extra_toml_);
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
  std::string extra_toml_;  // appended to fast.toml
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

// The console serves the protocol port's certificate, and SIGHUP reloads it there too.
TEST_F(ServerProgramTest, SighupReloadsTheConsolesCertificateToo) {
  extra_toml_ = "[console]\nenabled = true\naddress = \"127.0.0.1\"\nport = 0\n";
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  std::uint16_t console_port = 0;
  ASSERT_TRUE(test::WaitFor([&] {
    const std::string err = server->Stderr();
    const std::string mark = "console on https://127.0.0.1:";
    const auto at = err.find(mark);
    if (at == std::string::npos) return false;
    console_port = static_cast<std::uint16_t>(std::stoi(err.substr(at + mark.size())));
    return true;
  })) << server->Stderr();
  auto protocol = Connect();
  ASSERT_NE(protocol, nullptr);
  const std::string old_fp = protocol->peer_fingerprint();
  auto before = test::ConsoleSend(console_port, boost::beast::http::verb::get, "/login");
  EXPECT_EQ(before.status, 200);
  EXPECT_EQ(before.peer_fingerprint, old_fp);

  auto fresh = net::GenerateSelfSigned({});
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(net::WriteCertificateFiles(store::PosixFileSystem::Instance(),
                                         dir_.File("server.crt"), dir_.File("server.key"), *fresh)
                  .ok());
  server->Signal(SIGHUP);
  ASSERT_TRUE(test::WaitFor(
      [&] { return server->Stderr().find("certificate reloaded") != std::string::npos; }));
  auto new_fp = net::CertificateFingerprintSha256(ReadFileForTest(dir_.File("server.crt")));
  ASSERT_TRUE(new_fp.ok());
  ASSERT_NE(*new_fp, old_fp);
  auto after = test::ConsoleSend(console_port, boost::beast::http::verb::get, "/login");
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.peer_fingerprint, *new_fp);
  EXPECT_EQ(server->Stop(kWait), 0) << server->Stderr();
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

// A port already taken: start-up stops with the system's reason, and the self-signed
// certificate it would create in a fresh state directory is not left behind.
TEST_F(ServerProgramTest, APortInUseStopsStartUpWithTheRealErrorAndWritesNoCertificate) {
  const int taken = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(taken, 1), 0);
  ASSERT_EQ(getsockname(taken, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));

  const std::string state = dir_.File("fresh");
  ASSERT_EQ(mkdir(state.c_str(), 0750), 0);  // an empty state directory: no certificate yet
  WriteFileForTest(dir_.File("taken.toml"), "[server]\nbind_address = \"127.0.0.1\"\n");
  test::ServerProcess server(test::ProgramPath("bluetrace-server"), dir_.path(),
                             {port, "5", "--config", "taken.toml", "--state-dir", state});
  EXPECT_EQ(server.WaitExit(kWait), 1);
  const std::string err = server.Stderr();
  EXPECT_NE(err.find("cannot bind 127.0.0.1:" + port + ": Address already in use"),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find("Success"), std::string::npos) << err;
  EXPECT_EQ(access((state + "/server.crt").c_str(), F_OK), -1);
  EXPECT_EQ(access((state + "/server.key").c_str(), F_OK), -1);
  close(taken);
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
  // (--state-dir: /var/lib/bluetrace exists only where the package is installed.)
  EXPECT_EQ(Run({"--check-config", "--config", packaged, "--state-dir", dir_.path(),
                 "--tls-certificate", "c.crt", "--tls-key", "c.key"}),
            0)
      << err_;

  // A certificate without its key, or a key that is not one, is refused.
  EXPECT_EQ(Run({"--check-config", "--config", packaged, "--state-dir", dir_.path(),
                 "--tls-certificate", "c.crt"}),
            2);
  EXPECT_NE(err_.find("tls.private_key"), std::string::npos) << err_;
  EXPECT_EQ(Run({"--check-config", "--config", packaged, "--state-dir", dir_.path(),
                 "--tls-certificate", "c.crt", "--tls-key", "c.crt"}),
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

namespace bluetrace {
namespace {

// A mistyped state directory is an error, never a new empty one served with no users.
TEST_F(ServerCommandLineTest, AMissingStateDirectoryIsAnErrorNotCreated) {
  const std::string missing = dir_.File("no/such/dir");
  EXPECT_EQ(Run({"--state-dir", missing, "--port", "0", "--bind", "127.0.0.1"}), 1);
  EXPECT_NE(err_.find("the state directory " + missing + " does not exist"), std::string::npos)
      << err_;
  EXPECT_FALSE(*store::PosixFileSystem::Instance().Exists(dir_.File("no")));

  WriteFileForTest(dir_.File("missing.toml"), "[server]\nstate_dir = \"" + missing + "\"\n");
  EXPECT_EQ(Run({"--check-config", "--config", "missing.toml"}), 2);
  EXPECT_NE(err_.find("does not exist"), std::string::npos) << err_;
  EXPECT_EQ(out_.find("configuration OK"), std::string::npos) << out_;
  EXPECT_FALSE(*store::PosixFileSystem::Instance().Exists(dir_.File("no")));
}

// The original's command line is the simulator: its sample tempIDs.txt (TempIDs of 2020)
// is kept byte for byte, so the original's sample contact logs still match.
TEST_F(ServerProgramTest, TheOriginalsTempIdsAreKeptAsTheyAre) {
  const std::string before = ReadFileForTest(dir_.File("tempIDs.txt"));
  ASSERT_FALSE(before.empty());
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  EXPECT_EQ(server->Stop(kWait), 0);
  EXPECT_EQ(ReadFileForTest(dir_.File("tempIDs.txt")), before);
  EXPECT_EQ(server->Stderr().find("dropped"), std::string::npos) << server->Stderr();
}

}  // namespace
}  // namespace bluetrace

namespace bluetrace {
namespace {

// SIGHUP reads server.toml again: a live key (the log level) takes effect, every other
// changed key is named as needing a restart, and a broken file leaves the running one.
TEST_F(ServerProgramTest, SighupRereadsTheConfigurationAndNamesWhatNeedsARestart) {
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  WriteFileForTest(dir_.File("fast.toml"),
                   "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n"
                   "[server]\nbind_address = \"127.0.0.1\"\nlog_level = \"debug\"\n"
                   "[limits]\nmax_connections = 100\n");
  server->Signal(SIGHUP);
  ASSERT_TRUE(test::WaitFor([&] {
    return server->Stderr().find("SIGHUP: log level is now debug") != std::string::npos;
  })) << server->Stderr();
  EXPECT_NE(server->Stderr().find(
                "SIGHUP: limits.max_connections changed; it takes effect at the next restart"),
            std::string::npos)
      << server->Stderr();

  WriteFileForTest(dir_.File("fast.toml"), "[limits]\nmax_connections = -5\n");
  server->Signal(SIGHUP);
  ASSERT_TRUE(test::WaitFor([&] {
    return server->Stderr().find("configuration not re-read, the running one stays") !=
           std::string::npos;
  })) << server->Stderr();
  EXPECT_EQ(server->Stop(kWait), 0);
}

// Off a terminal, every log line carries the time; the listening and stopped lines come
// once each.
TEST_F(ServerProgramTest, LogLinesCarryTheTimeAndSayThingsOnce) {
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  EXPECT_EQ(server->Stop(kWait), 0);
  const std::string err = server->Stderr();
  std::size_t lines = 0;
  for (std::size_t pos = 0; pos < err.size();) {
    const std::size_t nl = err.find('\n', pos);
    const std::string line = err.substr(pos, nl - pos);
    pos = nl == std::string::npos ? err.size() : nl + 1;
    ++lines;
    // 2026-12-06T18:40:01.123+0000 info ...
    ASSERT_GE(line.size(), 29u) << line;
    EXPECT_TRUE(line[4] == '-' && line[10] == 'T' && line[19] == '.') << line;
  }
  EXPECT_GT(lines, 3u);
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (auto p = err.find(what); p != std::string::npos; p = err.find(what, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("listening on"), 1u) << err;
  EXPECT_EQ(count(" stopped"), 1u) << err;
}

// Under systemd's journal (JOURNAL_STREAM names stderr), each line starts with its syslog
// priority so that journald files errors as errors, and carries no time of its own.
TEST_F(ServerProgramTest, UnderTheJournalLinesCarryTheirPriority) {
  WriteFileForTest(dir_.File("fast.toml"), "[server]\nbind_address = \"127.0.0.1\"\n");
  const std::string script =
      "cd " + test::ShellQuoteForTest(dir_.path()) +
      " && exec 2>journal.log && export JOURNAL_STREAM=$(stat -c %d:%i journal.log) && "
      "{ " +
      test::ShellQuoteForTest(test::ProgramPath("bluetrace-server")) +
      " 0 5 --config fast.toml --ready-file ready & pid=$!; "
      "for i in $(seq 200); do [ -s ready ] && break; sleep 0.05; done; "
      "kill -TERM $pid; wait $pid; }";
  // In a subshell: RunCommandForTest appends 2>&1, which must not undo the exec above.
  const auto result = test::RunCommandForTest("(" + script + ")");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  const std::string log = ReadFileForTest(dir_.File("journal.log"));
  EXPECT_NE(log.find("<6>info bluetrace-server "), std::string::npos) << log;
  EXPECT_NE(log.find("<6>info stopped"), std::string::npos) << log;
  EXPECT_EQ(log.find("\n20"), std::string::npos) << log;  // no time: journald adds it
}

}  // namespace
}  // namespace bluetrace

namespace bluetrace {
namespace {

// Under systemd (Type=notify) the server says READY=1 once it accepts connections, and
// STOPPING=1 at SIGTERM, on the socket NOTIFY_SOCKET names.
TEST_F(ServerProgramTest, SystemdIsToldWhenTheServerIsReadyAndWhenItStops) {
  const std::string path = dir_.File("notify");
  const int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{10, 0};
  ASSERT_EQ(setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  auto receive = [&] {
    char buf[512];
    const ssize_t n = recv(sock, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  };

  setenv("NOTIFY_SOCKET", path.c_str(), 1);  // inherited by the server only
  auto server = Start();
  unsetenv("NOTIFY_SOCKET");
  ASSERT_NE(port_, 0) << server->Stderr();
  const std::string ready = receive();
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready;
  EXPECT_NE(ready.find("STATUS=listening on 127.0.0.1 port " + std::to_string(port_)),
            std::string::npos)
      << ready;
  server->Signal(SIGTERM);
  EXPECT_EQ(receive(), "STOPPING=1");
  EXPECT_EQ(server->WaitExit(kWait), 0);
  close(sock);
}

}  // namespace
}  // namespace bluetrace
