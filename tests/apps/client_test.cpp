// End-to-end tests of the real bluetrace-client program against the real bluetrace-server:
// scripted clients on stdin pipes the test writes step by step (so they stay alive to
// receive beacons), and the interactive path on a pseudo-terminal. Loopback only; every
// wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/protocol/beacon.hpp"
#include "bluetrace/store/file_system.hpp"
#include "support/client_process.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace {
namespace {

using namespace std::chrono_literals;
using test::ClientProcess;
using test::PtyProcess;
using test::ReadFileForTest;
using test::WriteFileForTest;

constexpr auto kWait = 20s;
constexpr const char* kWelcome = "Welcome to the BlueTrace Simulator!\n";

// A port nothing listens on right now (the kernel's choice for a socket bound to port 0).
std::uint16_t FreePort(int type) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

void SendDatagram(std::uint16_t port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  EXPECT_EQ(sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a),
            static_cast<ssize_t>(bytes.size()));
  close(fd);
}

// The line after `marker` in `text` (e.g. the TempID after "TempID:").
std::string LineAfter(const std::string& text, const std::string& marker, std::size_t from = 0) {
  const std::size_t at = text.find(marker + "\n", from);
  if (at == std::string::npos) return "";
  const std::size_t begin = at + marker.size() + 1;
  return text.substr(begin, text.find('\n', begin) - begin);
}

class ClientProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_dir_ = dir_.File("server");
    test::PrepareServerDirForTest(server_dir_, "fast.toml");
    StartServer(0);
  }

  // The original's command line (port, block duration) plus a ready file and fast hashes.
  void StartServer(std::uint16_t port) {
    std::remove((server_dir_ + "/ready").c_str());
    server_ = std::make_unique<test::ServerProcess>(
        test::ProgramPath("bluetrace-server"), server_dir_,
        std::vector<std::string>{std::to_string(port), "60", "--config", "fast.toml",
                                 "--ready-file", "ready"});
    port_ = server_->WaitReady(server_dir_ + "/ready", kWait);
    ASSERT_NE(port_, 0) << server_->Stderr();
  }

  std::string Cert() const { return server_dir_ + "/server.crt"; }

  // A client in its own directory <tmp>/<name>, receiving beacons on a free UDP port.
  // `trust` is "--ca-file <server.crt>" unless the test passes its own flags.
  std::unique_ptr<ClientProcess> Client(const std::string& name, std::vector<std::string> extra,
                                        bool with_ca = true) {
    const std::string dir = ClientDir(name);
    udp_[name] = FreePort(SOCK_DGRAM);
    std::vector<std::string> args = {
        "127.0.0.1",       std::to_string(port_), std::to_string(udp_[name]), "--data-dir", dir,
        "--known-servers", KnownServers()};
    if (with_ca) args.insert(args.end(), {"--ca-file", Cert()});
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ClientProcess>(test::ProgramPath("bluetrace-client"), dir, name, args,
                                           Env());
  }

  // A client logged in as `user`, its stdin kept open for commands.
  std::unique_ptr<ClientProcess> LoggedIn(const std::string& name, const std::string& user,
                                          const std::string& password) {
    auto c = Client(name, {});
    c->Write(user + "\n" + password + "\n");
    EXPECT_TRUE(c->WaitForOutput(kWelcome)) << c->Stdout() << c->Stderr();
    return c;
  }

  std::string ClientDir(const std::string& name) const {
    const std::string dir = dir_.File(name);
    mkdir(dir.c_str(), 0700);
    return dir;
  }
  std::string KnownServers() const { return dir_.File("known_servers"); }
  // HOME and XDG_STATE_HOME point into the test's directory: nothing of the user's is read.
  std::vector<std::string> Env() const {
    return {"HOME=" + dir_.path(), "XDG_STATE_HOME=" + dir_.File("state")};
  }

  test::TempDir dir_;
  std::string server_dir_;
  std::unique_ptr<test::ServerProcess> server_;
  std::uint16_t port_ = 0;
  std::map<std::string, std::uint16_t> udp_;
};

TEST_F(ClientProgramTest, TheIssuesScriptedSessionDownloadsATempIdAndLogsOut) {
  auto c = Client("a", {});
  c->Write("+61410888888\ncomp3331\nDownload_tempID\ndownload_tempID\nlogout\n");
  ASSERT_EQ(c->WaitExit(kWait), 0) << c->Stderr();
  const std::string out = c->Stdout();
  const std::string id = LineAfter(out, "TempID:");
  ASSERT_EQ(id.size(), 20u) << out;
  EXPECT_EQ(out,
            "Username: +61410888888\nPassword: \nWelcome to the BlueTrace Simulator!\n"
            "> Download_tempID\nTempID:\n" +
                id +
                "\n> download_tempID\nError. Invalid command\n"
                "> logout\n");
  EXPECT_EQ(c->Stderr(), "");  // no debugging output
  ASSERT_TRUE(test::WaitFor(
      [&] { return server_->Stdout().find("+61410888888 logout\n") != std::string::npos; }));
  EXPECT_NE(server_->Stdout().find("user: +61410888888\nTempID:\n" + id + "\n"), std::string::npos);
  EXPECT_NE(ReadFileForTest(server_dir_ + "/tempIDs.txt").find("+61410888888 " + id),
            std::string::npos);
}

TEST_F(ClientProgramTest, EndOfInputLogsOut) {
  auto c = Client("a", {});
  c->Write("+61410888888\ncomp3331\n");
  c->CloseStdin();
  EXPECT_EQ(c->WaitExit(kWait), 0) << c->Stderr();
  EXPECT_TRUE(test::WaitFor(
      [&] { return server_->Stdout().find("+61410888888 logout\n") != std::string::npos; }));
}

TEST_F(ClientProgramTest, ASlowTypistOutlivingTheServersLoginDeadlineStillLogsIn) {
  ASSERT_EQ(server_->Stop(kWait), 0);
  WriteFileForTest(server_dir_ + "/fast.toml",
                   ReadFileForTest(server_dir_ + "/fast.toml") + "[timeouts]\nlogin = 1\n");
  StartServer(0);
  auto c = Client("a", {});
  c->Write("+61410888888\n");
  ASSERT_TRUE(c->WaitForOutput("Password: "));
  // Past the server's deadline: the connection made at start is closed by now. Real time,
  // and a real sleep: the deadline is a timer in the server process, which no test clock
  // reaches, and 1 s is the shortest `timeouts.login`; 2 s leaves a second of slack.
  std::this_thread::sleep_for(2s);
  c->Write("comp3331\nlogout\n");
  EXPECT_EQ(c->WaitExit(kWait), 0) << c->Stderr();
  EXPECT_NE(c->Stdout().find(kWelcome), std::string::npos) << c->Stdout();
}

TEST_F(ClientProgramTest, ThreeWrongPasswordsBlockAndTheRightOneIsThenRefused) {
  auto c = Client("a", {});
  c->Write("+61410999999\nwrong-1\nwrong-2\nwrong-3\nDownload_tempID\n");
  EXPECT_EQ(c->WaitExit(kWait), 5);
  EXPECT_EQ(c->Stdout(),
            "Username: +61410999999\nPassword: \nInvalid Password. Please try again\n"
            "Password: \nInvalid Password. Please try again\n"
            "Password: \nInvalid Password. Your account has been blocked. Please try again "
            "later\n");

  auto d = Client("d", {});
  d->Write("+61410999999\nbada4568\n");
  EXPECT_EQ(d->WaitExit(kWait), 5);
  EXPECT_EQ(d->Stdout(),
            "Username: +61410999999\nPassword: \n"
            "Your account is blocked due to multiple login failures. Please try again later\n");
}

TEST_F(ClientProgramTest, ANewUserRegistersThenLogsInAgainWithAPasswordFile) {
  auto c = Client("a", {"--register"});
  c->Write("+61-410-123-456\nnew-secret-1\nnew-secret-1\nDownload_tempID\nlogout\n");
  ASSERT_EQ(c->WaitExit(kWait), 0) << c->Stdout() << c->Stderr();
  EXPECT_NE(c->Stdout().find("Registered +61-410-123-456\nWelcome to the BlueTrace Simulator!\n"),
            std::string::npos)
      << c->Stdout();
  EXPECT_NE(ReadFileForTest(server_dir_ + "/credentials.txt").find("+61410123456 $argon2id$"),
            std::string::npos);

  // Registering the same user again is refused; the run ends without a login.
  auto again = Client("b", {"--register"});
  again->Write("+61410123456\nnew-secret-2\nnew-secret-2\n");
  EXPECT_EQ(again->WaitExit(kWait), 6);
  EXPECT_NE(again->Stdout().find("Registration failed: "), std::string::npos) << again->Stdout();

  WriteFileForTest(dir_.File("password"), "new-secret-1\n");
  auto d = Client("d", {"--user", "+61410123456", "--password-file", dir_.File("password")});
  d->Write("Download_tempID\n");
  d->CloseStdin();
  EXPECT_EQ(d->WaitExit(kWait), 0) << d->Stderr();
  EXPECT_EQ(d->Stdout().find("Welcome to the BlueTrace Simulator!\n> Download_tempID\nTempID:\n"),
            0u)
      << d->Stdout();
}

// The server's rules may be stricter than the client's defaults: a password the server
// refuses is asked for again, not the user name.
TEST_F(ClientProgramTest, InATerminalRegistrationAsksAgainForWhatWasWrong) {
  ASSERT_EQ(server_->Stop(kWait), 0);
  std::string config = ReadFileForTest(server_dir_ + "/fast.toml");
  config.replace(config.find("min_password_length = 8"), 23, "min_password_length = 12");
  WriteFileForTest(server_dir_ + "/fast.toml", config);
  StartServer(0);
  PtyProcess p(test::ProgramPath("bluetrace-client"), ClientDir("a"),
               {"127.0.0.1", std::to_string(port_), std::to_string(FreePort(SOCK_DGRAM)),
                "--ca-file", Cert(), "--register"},
               Env());
  ASSERT_TRUE(p.WaitForOutput("Username: ")) << p.output();
  p.Write("0410123456\r");
  ASSERT_TRUE(p.WaitForOutput("Registration failed: phone number must start with '+'"))
      << p.output();
  ASSERT_TRUE(p.WaitForOutput("Username: ", 2)) << p.output();
  p.Write("+61410123456\r");
  ASSERT_TRUE(p.WaitForOutput("Password: ")) << p.output();
  p.Write("short\r");
  ASSERT_TRUE(p.WaitForOutput(
      "Registration failed: the password must be 8 to 1024 bytes long\r\nPassword: "))
      << p.output();
  EXPECT_EQ(p.output().find("Confirm password: "), std::string::npos) << p.output();
  p.Write("eleven-char\r");
  ASSERT_TRUE(p.WaitForOutput("Confirm password: ")) << p.output();
  p.Write("eleven-char\r");
  ASSERT_TRUE(p.WaitForOutput(
      "Registration failed: the password must be 12 to 1024 bytes long\r\nPassword: "))
      << p.output();
  p.Write("twelve-chars\r");
  ASSERT_TRUE(p.WaitForOutput("Confirm password: ", 2)) << p.output();
  p.Write("twelve-chars\r");
  ASSERT_TRUE(p.WaitForOutput("Registered +61410123456\r\n")) << p.output();
  ASSERT_TRUE(p.WaitForOutput("Welcome to the BlueTrace Simulator!\r\n> ")) << p.output();
  EXPECT_EQ(test::CountOccurrences(p.output(), "Username: "), 2) << p.output();
  p.Write("logout\r");
  EXPECT_EQ(p.WaitExit(kWait), 0) << p.output();
}

TEST_F(ClientProgramTest, InATerminalHelpListsTheCommandsAndTabCompletesThem) {
  PtyProcess p(test::ProgramPath("bluetrace-client"), ClientDir("a"),
               {"127.0.0.1", std::to_string(port_), std::to_string(FreePort(SOCK_DGRAM)),
                "--ca-file", Cert(), "--user", "+61410888888"},
               Env());
  ASSERT_TRUE(p.WaitForOutput("Password: ")) << p.output();
  p.Write("comp3331\r");
  ASSERT_TRUE(p.WaitForOutput("> ")) << p.output();
  p.Write("help\r");
  ASSERT_TRUE(p.WaitForOutput("  logout                        log out and exit\r\n"))
      << p.output();
  ASSERT_TRUE(p.WaitForOutput("> ", 2)) << p.output();
  // "Dow" + Tab completes to the one command it starts; the line then runs as typed out.
  p.Write("Dow\t");
  ASSERT_TRUE(p.WaitForOutput("Download_tempID ")) << p.output();
  p.Write("\r");
  ASSERT_TRUE(p.WaitForOutput("TempID:\r\n")) << p.output();
  ASSERT_TRUE(p.WaitForOutput("> ", 3)) << p.output();
  p.Write("Be\t127.0.0.1 port\r");
  ASSERT_TRUE(p.WaitForOutput("Usage: Beacon <dest IP> <dest port>\r\n")) << p.output();
  EXPECT_NE(p.output().find("Beacon 127.0.0.1 port"), std::string::npos) << p.output();
  p.Write("logout\r");
  EXPECT_EQ(p.WaitExit(kWait), 0) << p.output();
}

TEST_F(ClientProgramTest, BeaconsBetweenClientsAreValidStoredAndUploadedToTheServersReport) {
  auto a = LoggedIn("a", "+61410888888", "comp3331");
  auto b = LoggedIn("b", "+61410777777", "datha457");
  auto c = LoggedIn("c", "+61410666666", "kara1234");

  a->Write("Download_tempID\n");
  ASSERT_TRUE(a->WaitForOutput("TempID:\n")) << a->Stderr();
  ASSERT_TRUE(a->WaitForOutput("\n> ", 2));
  const std::string a_id = LineAfter(a->Stdout(), "TempID:");
  a->Write("Beacon 127.0.0.1 " + std::to_string(udp_["b"]) + "\n");
  ASSERT_TRUE(a->WaitForOutput(".\n> "));
  // The sender prints what it sent: its TempID, start and expiry.
  const std::string a_start = LineAfter(a->Stdout(), a_id + ",");
  ASSERT_EQ(a_start.size(), 20u) << a->Stdout();  // "DD/MM/YYYY HH:MM:SS,"
  ASSERT_TRUE(b->WaitForOutput("The beacon is valid.\n")) << b->Stdout();
  EXPECT_NE(b->Stdout().find("received beacon:\n" + a_id + ",\n" + a_start + "\n"),
            std::string::npos)
      << b->Stdout();
  EXPECT_NE(b->Stdout().find("Current time is:\n"), std::string::npos);

  // C beacons without downloading first: the client fetches a TempID itself.
  c->Write("Beacon 127.0.0.1 " + std::to_string(udp_["b"]) + "\n");
  ASSERT_TRUE(b->WaitForOutput("The beacon is valid.\n", 2)) << b->Stdout() << c->Stdout();
  const std::string c_id =
      LineAfter(b->Stdout(), "received beacon:", b->Stdout().rfind("received")).substr(0, 20);
  EXPECT_NE(ReadFileForTest(dir_.File("b") + "/contactlog.txt").find(a_id + " "),
            std::string::npos);

  b->Write("Upload_contact_log\n");
  ASSERT_TRUE(b->WaitForOutput("2 entries received by the server\n")) << b->Stdout();
  EXPECT_NE(b->Stdout().find("> Upload_contact_log\n" + a_id + ",\n" + a_start + "\n"),
            std::string::npos)
      << b->Stdout();

  // The server prints the original's lines and keeps a report naming the contacts.
  ASSERT_TRUE(test::WaitFor(
      [&] { return server_->Stdout().find("Contact log checking\n") != std::string::npos; }));
  const std::string console = server_->Stdout();
  EXPECT_NE(console.find("received contact log from +61410777777\n"), std::string::npos);
  EXPECT_NE(console.find("+61410888888,\n" + a_start + "\n" + a_id + ";\n"), std::string::npos)
      << console;
  EXPECT_NE(console.find("+61410666666,\n"), std::string::npos) << console;
  std::string report;
  for (const auto& e : std::filesystem::directory_iterator(server_dir_ + "/reports")) {
    report += ReadFileForTest(e.path().string());
  }
  EXPECT_NE(report.find("uploader: +61410777777"), std::string::npos) << report;
  EXPECT_NE(report.find("+61410888888 " + a_start.substr(0, 19) + " " + a_id), std::string::npos)
      << report;
  EXPECT_NE(report.find("+61410666666 "), std::string::npos) << report;
  EXPECT_NE(report.find(c_id), std::string::npos) << report;

  for (auto* p : {a.get(), b.get(), c.get()}) {
    p->Write("logout\n");
    EXPECT_EQ(p->WaitExit(kWait), 0) << p->Stderr();
    EXPECT_EQ(p->Stderr(), "");
  }
}

TEST_F(ClientProgramTest, AnExpiredBeaconIsShownInvalidAndNotStored) {
  auto b = LoggedIn("b", "+61410777777", "datha457");
  const std::int64_t now = std::time(nullptr);
  protocol::Beacon old{*protocol::TempId::Parse("12345678901234567890"), now - 1000, now - 101, 1};
  SendDatagram(udp_["b"], protocol::EncodeBeacon(old));
  ASSERT_TRUE(b->WaitForOutput("The beacon is invalid.\n")) << b->Stdout();
  EXPECT_NE(b->Stdout().find("received beacon:\n12345678901234567890,\n" +
                             protocol::FormatTimestamp(now - 1000) + ",\n" +
                             protocol::FormatTimestamp(now - 101) + ".\nCurrent time is:\n"),
            std::string::npos)
      << b->Stdout();
  // Garbage is dropped without a word; a valid beacon after it still arrives.
  SendDatagram(udp_["b"], "not a beacon");
  protocol::Beacon fresh{*protocol::TempId::Parse("12345678901234567891"), now - 5, now + 894, 1};
  SendDatagram(udp_["b"], protocol::EncodeBeacon(fresh));
  ASSERT_TRUE(b->WaitForOutput("The beacon is valid.\n")) << b->Stdout();
  EXPECT_EQ(b->Stdout().find("not a beacon"), std::string::npos);
  const std::string log = ReadFileForTest(dir_.File("b") + "/contactlog.txt");
  EXPECT_EQ(log.find("12345678901234567890"), std::string::npos) << log;
  EXPECT_NE(log.find("12345678901234567891"), std::string::npos) << log;
  b->Write("logout\n");
  EXPECT_EQ(b->WaitExit(kWait), 0);
}

// A user who asks for diagnostics learns why a datagram or beacon was refused; the terminal
// shows exactly what it always did.
TEST_F(ClientProgramTest, WithVerboseTheLogSaysWhyADatagramWasDroppedOrABeaconIsInvalid) {
  const std::string log_file = dir_.File("b.log");
  auto b = Client("b", {"--log-file", log_file, "--verbose"});
  b->Write("+61410777777\ndatha457\n");
  ASSERT_TRUE(b->WaitForOutput(kWelcome)) << b->Stderr();
  const std::int64_t now = std::time(nullptr);
  const auto id = *protocol::TempId::Parse("12345678901234567890");
  SendDatagram(udp_["b"], "not a beacon");
  std::string bad_id = protocol::EncodeBeacon({id, now - 5, now + 894, 1});
  bad_id[3] = 'x';
  SendDatagram(udp_["b"], bad_id);
  std::string bad_time = protocol::EncodeBeacon({id, now - 5, now + 894, 1});
  bad_time[20 + 3] = '3';  // month 39 of the start time
  bad_time[20 + 4] = '9';
  SendDatagram(udp_["b"], bad_time);
  SendDatagram(udp_["b"], protocol::EncodeBeacon({id, now - 1000, now - 101, 1}));
  ASSERT_TRUE(b->WaitForOutput("The beacon is invalid.\n")) << b->Stdout();
  SendDatagram(udp_["b"], protocol::EncodeBeacon({id, now + 500, now + 1399, 1}));
  ASSERT_TRUE(b->WaitForOutput("The beacon is invalid.\n", 2)) << b->Stdout();
  for (const char* why :
       {"12-byte datagram", "TempID", "beacon start", "expired", "not yet valid"}) {
    EXPECT_TRUE(test::WaitFor([&] {
      return ReadFileForTest(log_file).find(why) != std::string::npos;
    })) << why
        << "\n"
        << ReadFileForTest(log_file);
  }
  // The terminal shows the two beacons as ever, and nothing of the dropped datagrams.
  const std::string out = b->Stdout();
  EXPECT_EQ(test::CountOccurrences(out, "received beacon:\n"), 2) << out;
  EXPECT_EQ(out.find("dropped"), std::string::npos) << out;
  EXPECT_EQ(out.find("expired"), std::string::npos) << out;
  b->Write("logout\n");
  EXPECT_EQ(b->WaitExit(kWait), 0);
  EXPECT_EQ(b->Stderr(), "");
}

TEST_F(ClientProgramTest, WithALogFileDroppedDatagramsAreCountedInTheLog) {
  const std::string log_file = dir_.File("b.log");
  auto b = Client("b", {"--log-file", log_file});
  b->Write("+61410777777\ndatha457\n");
  ASSERT_TRUE(b->WaitForOutput(kWelcome)) << b->Stderr();
  SendDatagram(udp_["b"], "not a beacon");
  EXPECT_TRUE(test::WaitFor([&] {
    return ReadFileForTest(log_file).find("dropped 1 datagram") != std::string::npos;
  })) << ReadFileForTest(log_file);
  EXPECT_NE(ReadFileForTest(log_file).find("12-byte datagram"), std::string::npos)
      << ReadFileForTest(log_file);
  b->Write("logout\n");
  EXPECT_EQ(b->WaitExit(kWait), 0);
  EXPECT_EQ(b->Stdout().find("dropped"), std::string::npos) << b->Stdout();
  EXPECT_EQ(b->Stderr(), "");
}

TEST_F(ClientProgramTest, ContactLogEntriesAreRemovedAfterTheConfiguredRetention) {
  WriteFileForTest(dir_.File("client.toml"), "[contact_log]\nretention = 2\n");
  auto b = Client("b", {"--config", dir_.File("client.toml")});
  b->Write("+61410777777\ndatha457\n");
  ASSERT_TRUE(b->WaitForOutput(kWelcome)) << b->Stderr();
  const std::int64_t now = std::time(nullptr);
  protocol::Beacon fresh{*protocol::TempId::Parse("12345678901234567891"), now - 5, now + 894, 1};
  SendDatagram(udp_["b"], protocol::EncodeBeacon(fresh));
  ASSERT_TRUE(b->WaitForOutput("The beacon is valid.\n")) << b->Stdout();
  const std::string log = dir_.File("b") + "/contactlog.txt";
  EXPECT_NE(ReadFileForTest(log).find("12345678901234567891"), std::string::npos);
  // Gone within a few seconds, without any command: the client prunes in the background.
  // Polled, not slept: retention (2 s) is counted by the client process's real clock.
  EXPECT_TRUE(test::WaitFor(
      [&] { return ReadFileForTest(log).find("12345678901234567891") == std::string::npos; }, 10s));
  b->Write("Upload_contact_log\n");
  ASSERT_TRUE(b->WaitForOutput("> Upload_contact_log\n0 entries received by the server\n"))
      << b->Stdout();
  b->Write("logout\n");
  EXPECT_EQ(b->WaitExit(kWait), 0);
}

TEST_F(ClientProgramTest, AServerThatDisappearsMidSessionEndsTheClientWithAClearMessage) {
  auto a = LoggedIn("a", "+61410888888", "comp3331");
  server_->Signal(SIGKILL);
  ASSERT_EQ(server_->WaitExit(kWait), -1);  // killed, not exited
  a->Write("Download_tempID\n");
  EXPECT_EQ(a->WaitExit(kWait), 3) << a->Stdout();
  EXPECT_NE(a->Stderr().find("bluetrace-client: lost the connection to the server 127.0.0.1:" +
                             std::to_string(port_)),
            std::string::npos)
      << a->Stderr();
}

TEST_F(ClientProgramTest, AServerThatStopsWhileTheUserSitsAtThePromptEndsTheClientAtOnce) {
  auto a = LoggedIn("a", "+61410888888", "comp3331");
  ASSERT_TRUE(a->WaitForOutput("\n> "));
  ASSERT_EQ(server_->Stop(kWait), 0);
  // No command is typed: the client notices by itself, and stdin stays open.
  EXPECT_EQ(a->WaitExit(kWait), 3) << a->Stdout() << a->Stderr();
  EXPECT_NE(a->Stderr().find("bluetrace-client: lost the connection to the server 127.0.0.1:" +
                             std::to_string(port_) + ": the server closed the connection"),
            std::string::npos)
      << a->Stderr();
  EXPECT_EQ(a->Stdout(), std::string("Username: +61410888888\nPassword: \n") + kWelcome + "> \n");
}

TEST_F(ClientProgramTest, InATerminalAServerThatStopsEndsTheClientAndRestoresTheTerminal) {
  PtyProcess p(test::ProgramPath("bluetrace-client"), ClientDir("a"),
               {"127.0.0.1", std::to_string(port_), std::to_string(FreePort(SOCK_DGRAM)),
                "--ca-file", Cert(), "--user", "+61410888888"},
               Env());
  ASSERT_TRUE(p.WaitForOutput("Password: ")) << p.output();
  p.Write("comp3331\r");
  ASSERT_TRUE(p.WaitForOutput("> ")) << p.output();
  ASSERT_TRUE(test::WaitFor([&] { return (p.local_flags() & ICANON) == 0; }));  // libedit's mode
  p.Write("Download_");  // half a line, as a person might leave it
  ASSERT_TRUE(p.WaitForOutput("> Download_"));
  server_->Signal(SIGTERM);
  EXPECT_EQ(server_->WaitExit(kWait), 0);
  EXPECT_EQ(p.WaitExit(kWait), 3) << p.output();
  EXPECT_NE(p.output().find("lost the connection to the server 127.0.0.1:" + std::to_string(port_)),
            std::string::npos)
      << p.output();
  EXPECT_NE(p.local_flags() & ECHO, 0u);
  EXPECT_NE(p.local_flags() & ICANON, 0u);
}

TEST_F(ClientProgramTest, AnUnreachableServerFailsFast) {
  port_ = FreePort(SOCK_STREAM);
  auto a = Client("a", {});
  a->Write("+61410888888\ncomp3331\n");
  EXPECT_EQ(a->WaitExit(kWait), 3);
  EXPECT_NE(a->Stderr().find("cannot connect to 127.0.0.1:" + std::to_string(port_)),
            std::string::npos)
      << a->Stderr();
  EXPECT_EQ(a->Stdout(), "");
}

TEST_F(ClientProgramTest, ACertificateFromTheWrongCaIsRefused) {
  auto other = net::GenerateSelfSigned({});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(net::WriteCertificateFiles(store::PosixFileSystem::Instance(), dir_.File("other.crt"),
                                         dir_.File("other.key"), *other)
                  .ok());
  auto a = Client("a", {"--ca-file", dir_.File("other.crt")}, false);
  a->Write("+61410888888\ncomp3331\n");
  EXPECT_EQ(a->WaitExit(kWait), 4);
  EXPECT_NE(a->Stderr().find("not trusting the server 127.0.0.1:" + std::to_string(port_)),
            std::string::npos)
      << a->Stderr();
  EXPECT_NE(a->Stderr().find("certificate verify failed"), std::string::npos) << a->Stderr();
  EXPECT_EQ(a->Stdout(), "");
}

TEST_F(ClientProgramTest, ScriptedUseWithoutACaFileOrAKnownFingerprintSaysWhatToPass) {
  auto a = Client("a", {}, false);
  a->Write("+61410888888\ncomp3331\n");
  EXPECT_EQ(a->WaitExit(kWait), 4);
  EXPECT_NE(a->Stderr().find("--ca-file"), std::string::npos) << a->Stderr();
  EXPECT_FALSE(std::filesystem::exists(KnownServers()));
}

TEST_F(ClientProgramTest, TrustOnFirstUseIsConfirmedInATerminalRememberedAndAChangeRefused) {
  auto pem = ReadFileForTest(Cert());
  auto fingerprint = net::CertificateFingerprintSha256(pem);
  ASSERT_TRUE(fingerprint.ok());
  {
    PtyProcess p(test::ProgramPath("bluetrace-client"), ClientDir("a"),
                 {"127.0.0.1", std::to_string(port_), std::to_string(FreePort(SOCK_DGRAM)),
                  "--known-servers", KnownServers()},
                 Env());
    ASSERT_TRUE(p.WaitForOutput("Trust this server? [y/N] ")) << p.output();
    EXPECT_NE(p.output().find(*fingerprint), std::string::npos) << p.output();
    p.Write("y\r");
    ASSERT_TRUE(p.WaitForOutput("Username: ")) << p.output();
    p.Write("+61410888888\r");
    ASSERT_TRUE(p.WaitForOutput("Password: "));
    p.Write("comp3331\r");
    ASSERT_TRUE(p.WaitForOutput("Welcome to the BlueTrace Simulator!\r\n> ")) << p.output();
    p.Write("logout\r");
    EXPECT_EQ(p.WaitExit(kWait), 0) << p.output();
  }
  EXPECT_NE(ReadFileForTest(KnownServers())
                .find("127.0.0.1:" + std::to_string(port_) + " " + *fingerprint),
            std::string::npos);

  // Now known: a script needs no CA file.
  auto b = Client("b", {}, false);
  b->Write("+61410777777\ndatha457\nlogout\n");
  EXPECT_EQ(b->WaitExit(kWait), 0) << b->Stderr();

  // A new certificate on the same address is refused, saying how to accept it.
  ASSERT_EQ(server_->Stop(kWait), 0);
  const std::uint16_t old_port = port_;
  std::filesystem::remove(server_dir_ + "/server.crt");
  std::filesystem::remove(server_dir_ + "/server.key");
  StartServer(old_port);
  ASSERT_EQ(port_, old_port);
  auto c = Client("c", {}, false);
  c->Write("+61410777777\ndatha457\nlogout\n");
  EXPECT_EQ(c->WaitExit(kWait), 4);
  EXPECT_NE(c->Stderr().find("certificate changed"), std::string::npos) << c->Stderr();
  EXPECT_NE(c->Stderr().find(KnownServers()), std::string::npos) << c->Stderr();
  EXPECT_EQ(c->Stdout(), "");
}

TEST_F(ClientProgramTest, InATerminalThePasswordIsNotEchoedAndTheCommandLineIsEdited) {
  PtyProcess p(test::ProgramPath("bluetrace-client"), ClientDir("a"),
               {"127.0.0.1", std::to_string(port_), std::to_string(FreePort(SOCK_DGRAM)),
                "--ca-file", Cert(), "--known-servers", KnownServers()},
               Env());
  ASSERT_TRUE(p.WaitForOutput("Username: ")) << p.output();
  p.Write("+61410888888\r");
  ASSERT_TRUE(p.WaitForOutput("Password: "));
  ASSERT_TRUE(test::WaitFor([&] { return (p.local_flags() & ECHO) == 0; }));
  p.Write("wrong-pw\r");
  // The second password is typed at once, as a person might: the echo is off before the
  // prompt shows.
  p.Write("comp3331\r");
  ASSERT_TRUE(p.WaitForOutput("Invalid Password. Please try again\r\nPassword: ")) << p.output();
  ASSERT_TRUE(p.WaitForOutput("Welcome to the BlueTrace Simulator!\r\n")) << p.output();
  ASSERT_TRUE(p.WaitForOutput("> "));
  EXPECT_EQ(p.output().find("wrong-pw"), std::string::npos) << p.output();
  EXPECT_EQ(p.output().find("comp3331"), std::string::npos) << p.output();
  EXPECT_NE(p.output().find("+61410888888"), std::string::npos);  // the user name is echoed

  // A typo fixed with backspace, then the same line again from the history (up arrow).
  p.Write("Download_tempIX\x7f");
  p.Write("D\r");
  ASSERT_TRUE(p.WaitForOutput("TempID:\r\n")) << p.output();
  ASSERT_TRUE(p.WaitForOutput("> ", 2));
  p.Write("\x1b[A");
  p.Write("\r");
  ASSERT_TRUE(p.WaitForOutput("TempID:\r\n", 2)) << p.output();
  p.Write("Beacon\r");
  // Ctrl-D on an empty line ends the input: the client logs out. Typed ahead, before the
  // prompt is back, it must not be lost.
  p.Write("\x04");
  ASSERT_TRUE(p.WaitForOutput("Error. Invalid command\r\n")) << p.output();
  EXPECT_EQ(p.WaitExit(kWait), 0) << p.output();
  ASSERT_TRUE(test::WaitFor(
      [&] { return server_->Stdout().find("+61410888888 logout\n") != std::string::npos; }));
}

TEST_F(ClientProgramTest, ABeaconArrivingWhileALineIsTypedKeepsTheLine) {
  auto a = LoggedIn("a", "+61410888888", "comp3331");
  const std::uint16_t udp = FreePort(SOCK_DGRAM);
  PtyProcess p(test::ProgramPath("bluetrace-client"), ClientDir("b"),
               {"127.0.0.1", std::to_string(port_), std::to_string(udp), "--ca-file", Cert(),
                "--user", "+61410777777"},
               Env());
  ASSERT_TRUE(p.WaitForOutput("Password: ")) << p.output();
  p.Write("datha457\r");
  ASSERT_TRUE(p.WaitForOutput("> ")) << p.output();
  p.Write("Download_");
  ASSERT_TRUE(p.WaitForOutput("> Download_"));
  a->Write("Beacon 127.0.0.1 " + std::to_string(udp) + "\n");
  ASSERT_TRUE(p.WaitForOutput("The beacon is valid.\r\n")) << p.output();
  // The half-typed line is drawn again below the beacon and can be finished.
  ASSERT_TRUE(p.WaitForOutput("> Download_", 2)) << p.output();
  p.Write("tempID\r");
  ASSERT_TRUE(p.WaitForOutput("TempID:\r\n")) << p.output();
  p.Write("logout\r");
  EXPECT_EQ(p.WaitExit(kWait), 0);
}

TEST_F(ClientProgramTest, ASignalAtThePasswordPromptRestoresTheTerminal) {
  PtyProcess p(test::ProgramPath("bluetrace-client"), ClientDir("a"),
               {"127.0.0.1", std::to_string(port_), std::to_string(FreePort(SOCK_DGRAM)),
                "--ca-file", Cert(), "--user", "+61410888888"},
               Env());
  ASSERT_TRUE(p.WaitForOutput("Password: ")) << p.output();
  const unsigned before = p.local_flags();
  ASSERT_TRUE(test::WaitFor([&] { return (p.local_flags() & ECHO) == 0; }));
  p.Signal(SIGTERM);
  EXPECT_EQ(p.WaitExit(kWait), 128 + SIGTERM);
  EXPECT_NE(p.local_flags() & ECHO, 0u);
  EXPECT_NE(p.local_flags() & ICANON, 0u);
  (void)before;
}

TEST_F(ClientProgramTest, ASignalAtTheCommandPromptLogsOutAndRestoresTheTerminal) {
  PtyProcess p(test::ProgramPath("bluetrace-client"), ClientDir("a"),
               {"127.0.0.1", std::to_string(port_), std::to_string(FreePort(SOCK_DGRAM)),
                "--ca-file", Cert(), "--user", "+61410888888"},
               Env());
  ASSERT_TRUE(p.WaitForOutput("Password: ")) << p.output();
  p.Write("comp3331\r");
  ASSERT_TRUE(p.WaitForOutput("> ")) << p.output();
  ASSERT_TRUE(test::WaitFor([&] { return (p.local_flags() & ICANON) == 0; }));  // libedit's mode
  p.Write("\x03");                                                              // Ctrl-C
  EXPECT_EQ(p.WaitExit(kWait), 128 + SIGINT);
  EXPECT_NE(p.local_flags() & ECHO, 0u);
  EXPECT_NE(p.local_flags() & ICANON, 0u);
  EXPECT_TRUE(test::WaitFor(
      [&] { return server_->Stdout().find("+61410888888 logout\n") != std::string::npos; }));
}

class ClientCommandLineTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args) {
    ClientProcess p(test::ProgramPath("bluetrace-client"), dir_.path(), "cli", std::move(args));
    p.CloseStdin();
    const int code = p.WaitExit(kWait);
    out_ = p.Stdout();
    err_ = p.Stderr();
    return code;
  }
  test::TempDir dir_;
  std::string out_, err_;
};

TEST_F(ClientCommandLineTest, VersionHelpAndUsageErrors) {
  EXPECT_EQ(Run({"--version"}), 0);
  EXPECT_EQ(out_.find("bluetrace-client "), 0u) << out_;
  EXPECT_EQ(Run({"--help"}), 0);
  for (const char* text :
       {"server_IP", "client_udp_port", "--ca-file", "--password-file", "--register", "--verbose",
        "Exit status:", "4  the server's certificate"}) {
    EXPECT_NE(out_.find(text), std::string::npos) << text << "\n" << out_;
  }
  EXPECT_EQ(Run({}), 2);
  EXPECT_NE(err_.find("<server_IP> <server_port> <client_udp_port>"), std::string::npos) << err_;
  EXPECT_EQ(Run({"127.0.0.1", "not-a-port", "8000"}), 2);
  EXPECT_EQ(Run({"127.0.0.1", "4000", "8000", "--password-file", "missing"}), 2);
  EXPECT_NE(err_.find("missing"), std::string::npos) << err_;
  // Diagnostics never go to the terminal, so --verbose needs a log file.
  EXPECT_EQ(Run({"127.0.0.1", "4000", "8000", "--verbose"}), 2);
  EXPECT_NE(err_.find("--log-file"), std::string::npos) << err_;
}

TEST_F(ClientCommandLineTest, TheShippedConfigurationIsReadAndBadKeysAreNamed) {
  EXPECT_EQ(Run({"--print-config", "--config", test::SourcePath("config/client.toml")}), 0) << err_;
  EXPECT_NE(out_.find("retention = 1814400"), std::string::npos) << out_;
  test::WriteFileForTest(dir_.File("c.toml"), "[contact_log]\nretention = 180\n");
  EXPECT_EQ(Run({"--print-config", "--config", "c.toml", "--data-dir", "/x"}), 0) << err_;
  EXPECT_NE(out_.find("retention = 180\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("data_dir = \"/x\""), std::string::npos) << out_;
  test::WriteFileForTest(dir_.File("bad.toml"), "[contact_log]\nretension = 180\n");
  EXPECT_EQ(Run({"127.0.0.1", "4000", "8000", "--config", "bad.toml"}), 2);
  EXPECT_NE(err_.find("contact_log.retension"), std::string::npos) << err_;
}

}  // namespace
}  // namespace bluetrace
