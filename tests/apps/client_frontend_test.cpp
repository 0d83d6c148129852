// The client's front end over a fake ClientController, in scripted mode: the exact texts,
// the order of prompts, exit statuses, and beacons printed while a prompt waits. The real
// program over a real server is tested in client_test.cpp.
#include "client_frontend.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <thread>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::apps {
namespace {

using service::ClientLoginResult;
using service::ClientLoginStatus;

constexpr const char* kWelcomeText = "Welcome to the BlueTrace Simulator!\n";
constexpr std::int64_t kStart = 1589391906;  // 13/05/2020 17:45:06 UTC

protocol::TempId Id(const char* digits) { return *protocol::TempId::Parse(digits); }

class FakeController final : public service::ClientController {
 public:
  util::Result<service::ServerIdentity> Connect(const service::TrustPrompt& trust) override {
    had_trust_prompt = static_cast<bool>(trust);
    ++connects;
    if (!connect_status.ok()) return connect_status;
    return service::ServerIdentity{"SHA256:00", true, false};
  }
  util::Result<ClientLoginResult> Login(const std::string& user,
                                        const util::SecretString& password) override {
    calls.push_back("Login " + user + " " + std::string(password.view()));
    if (lose_next_login) {
      lose_next_login = false;
      return util::Unavailable("the server closed the connection");
    }
    if (logins.empty()) return util::Unavailable("no more logins scripted");
    ClientLoginResult r;
    r.status = logins.front();
    logins.pop_front();
    return r;
  }
  util::Status Register(const std::string& user, const util::SecretString& password) override {
    calls.push_back("Register " + user + " " + std::string(password.view()));
    return register_status;
  }
  util::Result<protocol::TempIdRecord> DownloadTempId() override {
    calls.push_back("DownloadTempId");
    if (!command_status.ok()) return command_status;
    return protocol::TempIdRecord{"+61410888888", Id("12345678901234567891"), kStart, kStart + 899};
  }
  util::Result<UploadResult> UploadContactLog(const util::SecretString& code) override {
    calls.push_back(code.empty() ? "UploadContactLog"
                                 : "UploadContactLog " + std::string(code.view()));
    if (!upload_status.ok()) return upload_status;
    UploadResult r;
    r.entries = {{Id("12345678901234567890"), kStart, kStart + 899},
                 {Id("12345678901234567891"), kStart + 540, kStart + 1439}};
    r.received = 2;
    return r;
  }
  util::Result<protocol::Beacon> SendBeacon(const std::string& ip, std::uint16_t port) override {
    calls.push_back("SendBeacon " + ip + " " + std::to_string(port));
    if (!beacon_status.ok()) return beacon_status;
    return protocol::Beacon{Id("12345678901234567891"), kStart, kStart + 899, 1};
  }
  bool upload_code_required() const override { return code_required; }
  util::Status Deregister(const util::SecretString& password) override {
    calls.push_back("Deregister " + std::string(password.view()));
    return deregister_status;
  }
  util::Status Logout() override {
    calls.push_back("Logout");
    return util::Status::Ok();
  }
  void SetBeaconSink(service::BeaconSink s) override { sink = std::move(s); }
  void SetConnectionLostSink(service::ConnectionLostSink s) override { lost_sink = std::move(s); }
  std::uint16_t udp_port() const override { return 8000; }
  std::uint64_t dropped_datagrams() const override { return 0; }

  util::Status connect_status;
  util::Status register_status;
  util::Status command_status;  // of DownloadTempId
  util::Status beacon_status;
  util::Status upload_status;
  util::Status deregister_status;
  bool code_required = false;
  std::deque<ClientLoginStatus> logins = {ClientLoginStatus::kWelcome};
  std::vector<std::string> calls;
  bool had_trust_prompt = false;
  bool lose_next_login = false;
  int connects = 0;
  service::BeaconSink sink;
  service::ConnectionLostSink lost_sink;
};

// Runs the front end in scripted mode with `input` on a pipe (kept open until Finish when
// `keep_open`), stdout and stderr in files.
class FrontendTest : public ::testing::Test {
 protected:
  int Run(const std::string& input) {
    Start(input);
    return Finish();
  }

  void Start(const std::string& input) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    in_read_ = fds[0];
    in_write_ = fds[1];
    Write(input);
    out_ = std::fopen(dir_.File("out").c_str(), "w");
    err_ = std::fopen(dir_.File("err").c_str(), "w");
    thread_ = std::thread([this] {
      Terminal terminal(TerminalOptions{in_read_, out_, err_, false, false});
      exit_ = RunClient(fake_, terminal, options_);
    });
  }

  void Write(const std::string& text) {
    ASSERT_EQ(write(in_write_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  int Finish() {
    if (in_write_ >= 0) close(in_write_);
    in_write_ = -1;
    thread_.join();
    std::fclose(out_);
    std::fclose(err_);
    close(in_read_);
    return exit_;
  }

  std::string Out() const { return test::ReadFileForTest(dir_.File("out")); }
  std::string Err() const { return test::ReadFileForTest(dir_.File("err")); }

  test::TempDir dir_;
  FakeController fake_;
  FrontendOptions options_ = [] {
    FrontendOptions o;
    o.server = "127.0.0.1:4000";
    return o;
  }();
  int in_read_ = -1, in_write_ = -1;
  std::FILE* out_ = nullptr;
  std::FILE* err_ = nullptr;
  std::thread thread_;
  int exit_ = -1;
};

TEST_F(FrontendTest, AScriptedSessionPrintsTheOriginalsTextsAndReadsLikeATerminal) {
  EXPECT_EQ(Run("+61410888888\ncomp3331\nDownload_tempID\nBeacon 127.0.0.1 8001\n"
                "Upload_contact_log\ndownload_tempid\nBeacon 127.0.0.1\nBeacon 1.2.3.4 70000\n"
                "\nlogout\nDownload_tempID\n"),
            kExitOk);
  EXPECT_EQ(Out(),
            "Username: +61410888888\n"
            "Password: \n"
            "Welcome to the BlueTrace Simulator!\n"
            "> Download_tempID\n"
            "TempID:\n"
            "12345678901234567891\n"
            "> Beacon 127.0.0.1 8001\n"
            "12345678901234567891,\n"
            "13/05/2020 17:45:06,\n"
            "13/05/2020 18:00:05.\n"
            "> Upload_contact_log\n"
            "12345678901234567890,\n"
            "13/05/2020 17:45:06,\n"
            "13/05/2020 18:00:05;\n"
            "12345678901234567891,\n"
            "13/05/2020 17:54:06,\n"
            "13/05/2020 18:09:05;\n"
            "2 entries received by the server\n"
            "> download_tempid\n"
            "Error. Invalid command\n"
            "> Beacon 127.0.0.1\n"
            "Error. Invalid command\n"
            "Usage: Beacon <dest IP> <dest port>\n"
            "> Beacon 1.2.3.4 70000\n"
            "Error. Invalid command\n"
            "Usage: Beacon <dest IP> <dest port>\n"
            "> \n"
            "> logout\n");
  EXPECT_EQ(Err(), "");
  // The password never reaches the output; the command after logout is not run.
  EXPECT_EQ(fake_.calls,
            (std::vector<std::string>{"Login +61410888888 comp3331", "DownloadTempId",
                                      "SendBeacon 127.0.0.1 8001", "UploadContactLog", "Logout"}));
  EXPECT_FALSE(fake_.had_trust_prompt);  // scripted: never asks
}

TEST_F(FrontendTest, HelpListsTheCommandsAndAMalformedBeaconShowsItsUsage) {
  constexpr const char* kHelp =
      "Commands:\n"
      "  Download_tempID               get a new TempID from the server\n"
      "  Upload_contact_log            send the contact log to the server\n"
      "  Beacon <dest IP> <dest port>  send the current TempID to another client (UDP)\n"
      "  Deregister                    withdraw consent: delete this account and its TempIDs\n"
      "  logout                        log out and exit\n"
      "  help                          list these commands (also ?)\n";
  constexpr const char* kUsage = "Usage: Beacon <dest IP> <dest port>\n";
  fake_.beacon_status = util::InvalidArgument("\"host\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(Run("+61410888888\ncomp3331\nhelp\n?\n  help  \nhelp me\nHelp\nBeacon\n"
                "Beacon 127.0.0.1 8001 extra\nBeacon 127.0.0.1 port\nBeacon host 8001\n"
                "beacon 127.0.0.1 8001\nlogout\n"),
            kExitOk);
  EXPECT_EQ(Out(), std::string("Username: +61410888888\nPassword: \n") + kWelcomeText + "> help\n" +
                       kHelp + "> ?\n" + kHelp + ">   help  \n" + kHelp +
                       // Anything else is the original's unknown command, as before.
                       "> help me\nError. Invalid command\n"
                       "> Help\nError. Invalid command\n"
                       // A Beacon line that is not well formed: the original's error, then
                       // the usage.
                       "> Beacon\nError. Invalid command\n" +
                       kUsage + "> Beacon 127.0.0.1 8001 extra\nError. Invalid command\n" + kUsage +
                       "> Beacon 127.0.0.1 port\nError. Invalid command\n" + kUsage +
                       // An address the controller refuses: its reason, then the usage.
                       "> Beacon host 8001\nError. \"host\" is not an IPv4 or IPv6 address\n" +
                       kUsage + "> beacon 127.0.0.1 8001\nError. Invalid command\n> logout\n");
  EXPECT_EQ(Err(), "");
  EXPECT_EQ(fake_.calls, (std::vector<std::string>{"Login +61410888888 comp3331",
                                                   "SendBeacon host 8001", "Logout"}));
}

// A server that requires upload codes: Upload_contact_log asks for one first and sends
// what was typed; a refused code is an error line and the session goes on.
TEST_F(FrontendTest, UploadAsksForTheCodeWhenTheServerRequiresOne) {
  fake_.code_required = true;
  Start("+61410888888\ncomp3331\nUpload_contact_log\nacdef-hjkmn\n");
  Write("Download_tempID\nlogout\n");
  EXPECT_EQ(Finish(), 0);
  EXPECT_NE(Out().find("> Upload_contact_log\nUpload code: acdef-hjkmn\n12345678901234567890,\n"),
            std::string::npos)
      << Out();
  EXPECT_EQ(fake_.calls,
            (std::vector<std::string>{"Login +61410888888 comp3331", "UploadContactLog acdef-hjkmn",
                                      "DownloadTempId", "Logout"}));

  fake_.calls.clear();
  fake_.logins = {ClientLoginStatus::kWelcome};
  fake_.upload_status = util::PermissionDenied("wrong, used or expired upload code; 4 tries left");
  EXPECT_EQ(Run("+61410888888\ncomp3331\nUpload_contact_log\nAAAAA-AAAAA\nlogout\n"), 0);
  EXPECT_NE(Out().find("Upload code: AAAAA-AAAAA\n"
                       "Error. wrong, used or expired upload code; 4 tries left\n> logout\n"),
            std::string::npos)
      << Out();
}

TEST_F(FrontendTest, DeregisterAsksForThePasswordAndEndsTheRun) {
  EXPECT_EQ(Run("+61410888888\ncomp3331\nDeregister\ncomp3331\nDownload_tempID\n"), 0);
  EXPECT_NE(Out().find("> Deregister\nPassword: \nDeregistered: your account and the link from "
                       "your TempIDs to your phone number are deleted.\n"),
            std::string::npos)
      << Out();
  EXPECT_EQ(fake_.calls,
            (std::vector<std::string>{"Login +61410888888 comp3331", "Deregister comp3331"}));
  // A wrong password: said, and the session goes on.
  fake_.calls.clear();
  fake_.deregister_status = util::PermissionDenied("wrong password; 2 attempts left");
  fake_.logins = {ClientLoginStatus::kWelcome};
  EXPECT_EQ(Run("+61410888888\ncomp3331\nDeregister\nwrong\nlogout\n"), 0);
  EXPECT_NE(Out().find("Error. wrong password; 2 attempts left\n> logout\n"), std::string::npos)
      << Out();
}

TEST_F(FrontendTest, RegistrationChecksThePhoneNumberBeforeAskingForAPassword) {
  options_.register_user = true;
  EXPECT_EQ(Run("0410123456\nsecret-one\nsecret-one\n"), kExitNoLogin);
  EXPECT_EQ(Out(),
            "Registering a new user. The username is a phone number, e.g. +61410888888.\n"
            "Username: 0410123456\n"
            "Registration failed: phone number must start with '+' and the country code\n");
  EXPECT_TRUE(fake_.calls.empty());

  // --user is checked the same way, before any prompt.
  options_.user = "+61 410";
  EXPECT_EQ(Run("secret-one\nsecret-one\n"), kExitNoLogin);
  EXPECT_NE(Out().find("Registration failed: phone number has 5 digits, needs 8 to 15\n"),
            std::string::npos)
      << Out();
  EXPECT_EQ(Out().find("Password: "), std::string::npos) << Out();
  EXPECT_TRUE(fake_.calls.empty());
}

TEST_F(FrontendTest, RegistrationChecksThePasswordsLengthBeforeAskingForItAgain) {
  options_.register_user = true;
  EXPECT_EQ(Run("+61410123456\nshort\nshort\n"), kExitNoLogin);
  EXPECT_EQ(Out(),
            "Registering a new user. The username is a phone number, e.g. +61410888888.\n"
            "Username: +61410123456\n"
            "Password: \n"
            "Registration failed: the password must be 8 to 1024 bytes long\n");
  EXPECT_TRUE(fake_.calls.empty());

  // The upper bound too (the server's default, 1024 bytes), and from --password-file.
  options_.password = util::SecretString(std::string(1025, 'x'));
  EXPECT_EQ(Run("+61410123456\n"), kExitNoLogin);
  EXPECT_NE(Out().find("Registration failed: the password must be 8 to 1024 bytes long\n"),
            std::string::npos)
      << Out();
  EXPECT_TRUE(fake_.calls.empty());

  options_.password = util::SecretString(std::string(1024, 'x'));
  EXPECT_EQ(Run("+61410123456\nlogout\n"), kExitOk);
  EXPECT_EQ(fake_.calls.front(), "Register +61410123456 " + std::string(1024, 'x'));
}

TEST_F(FrontendTest, WrongPasswordsAskOnlyThePasswordAgainThenTheBlockEndsTheRun) {
  fake_.logins = {ClientLoginStatus::kWrongPassword, ClientLoginStatus::kWrongPassword,
                  ClientLoginStatus::kBlocked};
  EXPECT_EQ(Run("+61410999999\na\nb\nc\nDownload_tempID\n"), kExitBlocked);
  EXPECT_EQ(Out(),
            "Username: +61410999999\n"
            "Password: \n"
            "Invalid Password. Please try again\n"
            "Password: \n"
            "Invalid Password. Please try again\n"
            "Password: \n"
            "Invalid Password. Your account has been blocked. Please try again later\n");
  EXPECT_EQ(fake_.calls, (std::vector<std::string>{"Login +61410999999 a", "Login +61410999999 b",
                                                   "Login +61410999999 c"}));
}

TEST_F(FrontendTest, AStillBlockedAccountEndsTheRunWithTheOriginalsText) {
  fake_.logins = {ClientLoginStatus::kStillBlocked};
  EXPECT_EQ(Run("+61410999999\nbada4568\n"), kExitBlocked);
  EXPECT_NE(
      Out().find(
          "\nYour account is blocked due to multiple login failures. Please try again later\n"),
      std::string::npos)
      << Out();
}

TEST_F(FrontendTest, EndOfInputBeforeALoginFailsAndAfterOneLogsOut) {
  EXPECT_EQ(Run("+61410888888\n"), kExitNoLogin);
  EXPECT_TRUE(fake_.calls.empty());

  fake_.calls.clear();
  fake_.logins = {ClientLoginStatus::kWelcome};
  EXPECT_EQ(Run("+61410888888\ncomp3331"), kExitOk);  // no final newline
  EXPECT_EQ(fake_.calls, (std::vector<std::string>{"Login +61410888888 comp3331", "Logout"}));
}

TEST_F(FrontendTest, UserAndPasswordFromOptionsAreNotAskedAndAWrongFilePasswordEndsTheRun) {
  options_.user = "+61410888888";
  options_.password = util::SecretString("wrong");
  fake_.logins = {ClientLoginStatus::kWrongPassword};
  EXPECT_EQ(Run("other\n"), kExitNoLogin);
  EXPECT_EQ(Out(), "Invalid Password. Please try again\n");
  EXPECT_NE(Err().find("--password-file"), std::string::npos) << Err();
}

TEST_F(FrontendTest, AnUntrustedServerSaysWhatToPass) {
  fake_.connect_status = util::PermissionDenied("the server's certificate is not known");
  EXPECT_EQ(Run("+61410888888\ncomp3331\n"), kExitUntrusted);
  EXPECT_NE(
      Err().find("not trusting the server 127.0.0.1:4000: the server's certificate is not known"),
      std::string::npos)
      << Err();
  EXPECT_NE(Err().find("--ca-file"), std::string::npos) << Err();
  EXPECT_EQ(Out(), "");
}

TEST_F(FrontendTest, AnUnreachableServerAndALostConnectionHaveTheirOwnStatus) {
  fake_.connect_status = util::Unavailable("cannot connect to 127.0.0.1:4000: Connection refused");
  EXPECT_EQ(Run(""), kExitUnreachable);
  EXPECT_EQ(Err(), "bluetrace-client: cannot connect to 127.0.0.1:4000: Connection refused\n");

  // A local failure is not the server's absence.
  fake_.connect_status =
      util::IoError("cannot listen for beacons on UDP 0.0.0.0:8000: Address already in use");
  EXPECT_EQ(Run(""), kExitError);
  EXPECT_EQ(Err(),
            "bluetrace-client: cannot listen for beacons on UDP 0.0.0.0:8000: Address already in "
            "use\n");

  fake_.connect_status = util::Status::Ok();
  fake_.command_status = util::Unavailable("the server closed the connection");
  EXPECT_EQ(Run("+61410888888\ncomp3331\nDownload_tempID\nlogout\n"), kExitUnreachable);
  EXPECT_NE(
      Err().find(
          "lost the connection to the server 127.0.0.1:4000: the server closed the connection"),
      std::string::npos)
      << Err();
  EXPECT_EQ(fake_.calls.back(), "DownloadTempId");
}

TEST_F(FrontendTest, AConnectionLostWhileThePromptWaitsEndsTheRunAtOnce) {
  Start("+61410888888\ncomp3331\n");
  ASSERT_TRUE(test::WaitFor([&] { return Out().find("\n> ") != std::string::npos; }));
  ASSERT_TRUE(fake_.lost_sink);
  // A beacon that came just before is still shown.
  fake_.sink({"received beacon:", "The beacon is valid."});
  fake_.lost_sink(util::Unavailable("the server closed the connection"));
  // The input stays open: only the news can end the run.
  ASSERT_TRUE(test::WaitFor([&] { return !Err().empty(); }));
  EXPECT_EQ(Finish(), kExitUnreachable);
  EXPECT_EQ(Err(),
            "bluetrace-client: lost the connection to the server 127.0.0.1:4000: the server "
            "closed the connection\n");
  EXPECT_NE(Out().find("received beacon:\nThe beacon is valid.\n"), std::string::npos) << Out();
  // No logout is attempted on a connection that is gone.
  EXPECT_EQ(fake_.calls, (std::vector<std::string>{"Login +61410888888 comp3331"}));
  EXPECT_FALSE(fake_.lost_sink);  // unset when the run ends
}

TEST_F(FrontendTest, AConnectionClosedBeforeTheLoginIsMadeAgainOnce) {
  // The server's login deadline passed while the user was typing.
  fake_.lose_next_login = true;
  EXPECT_EQ(Run("+61410888888\ncomp3331\nlogout\n"), kExitOk);
  EXPECT_EQ(fake_.connects, 2);
  EXPECT_EQ(fake_.calls, (std::vector<std::string>{"Login +61410888888 comp3331",
                                                   "Login +61410888888 comp3331", "Logout"}));
  EXPECT_NE(Out().find(kWelcomeText), std::string::npos);
}

TEST_F(FrontendTest, ACommandThatFailsOtherwiseIsReportedAndTheSessionGoesOn) {
  // A rate-limited request: the connection is fine.
  fake_.command_status = util::ResourceExhausted("too many TempIDs; try again in 5 s");
  EXPECT_EQ(Run("+61410888888\ncomp3331\nDownload_tempID\nlogout\n"), kExitOk);
  EXPECT_NE(Out().find("> Download_tempID\nError. too many TempIDs; try again in 5 s\n> logout\n"),
            std::string::npos)
      << Out();
  EXPECT_EQ(Err(), "");
}

TEST_F(FrontendTest, TheStatusCodeAloneTellsABusyServerFromALostConnection) {
  // Busy, even in words that speak of connections: reported, and the session goes on.
  fake_.command_status =
      util::ResourceExhausted("too many connections from this address; retry later");
  fake_.beacon_status = util::IoError("sending a beacon to 10.0.0.9:2000: Network is unreachable");
  EXPECT_EQ(Run("+61410888888\ncomp3331\nDownload_tempID\nBeacon 10.0.0.9 2000\nlogout\n"),
            kExitOk);
  EXPECT_NE(Out().find("> Download_tempID\n"
                       "Error. too many connections from this address; retry later\n"
                       "> Beacon 10.0.0.9 2000\n"
                       "Error. sending a beacon to 10.0.0.9:2000: Network is unreachable\n"
                       "> logout\n"),
            std::string::npos)
      << Out();
  EXPECT_EQ(Err(), "");
  EXPECT_EQ(fake_.calls.back(), "Logout");

  // Lost, in words that never say "connection": the run ends with status 3.
  fake_.calls.clear();
  fake_.logins = {ClientLoginStatus::kWelcome};
  fake_.command_status = util::Unavailable("the server did not answer within 10 s (timed out)");
  EXPECT_EQ(Run("+61410888888\ncomp3331\nDownload_tempID\nlogout\n"), kExitUnreachable);
  EXPECT_EQ(Err(),
            "bluetrace-client: lost the connection to the server 127.0.0.1:4000: the server did "
            "not answer within 10 s (timed out)\n");
  EXPECT_EQ(fake_.calls.back(), "DownloadTempId");
}

TEST_F(FrontendTest, ABusyLoginIsTriedAgainAFewTimesThenGivenUp) {
  // The waits are recorded, not slept (service::LoginBusyWait: 1 s each, the fake gives no hint).
  std::vector<std::chrono::seconds> waits;
  options_.sleep = [&](std::chrono::seconds wait) { waits.push_back(wait); };
  fake_.logins = {ClientLoginStatus::kBusy, ClientLoginStatus::kWelcome};
  EXPECT_EQ(Run("+61410888888\ncomp3331\nlogout\n"), kExitOk);
  EXPECT_EQ(Out(),
            "Username: +61410888888\nPassword: \nThe server is busy. Trying again...\n"
            "Welcome to the BlueTrace Simulator!\n> logout\n");
  EXPECT_EQ(waits, std::vector<std::chrono::seconds>{std::chrono::seconds(1)});

  waits.clear();
  fake_.logins.assign(6, ClientLoginStatus::kBusy);
  EXPECT_EQ(Run("+61410888888\ncomp3331\n"), kExitUnreachable);
  EXPECT_EQ(waits.size(), 5u);
  EXPECT_EQ(Err(), "bluetrace-client: the server stayed busy; please try again later\n");
}

TEST_F(FrontendTest, RegistrationAsksForThePasswordTwiceThenLogsIn) {
  options_.register_user = true;
  EXPECT_EQ(Run("+61410123456\nsecret-one\nsecret-two\nsecret-one\nsecret-one\nlogout\n"), kExitOk);
  EXPECT_NE(Out().find("Username: +61410123456\nPassword: \nConfirm password: \n"
                       "Passwords do not match. Please try again\n"
                       "Password: \nConfirm password: \nRegistered +61410123456\n"
                       "Welcome to the BlueTrace Simulator!\n"),
            std::string::npos)
      << Out();
  EXPECT_EQ(fake_.calls, (std::vector<std::string>{"Register +61410123456 secret-one",
                                                   "Login +61410123456 secret-one", "Logout"}));
}

TEST_F(FrontendTest, ARefusedRegistrationEndsAScriptedRun) {
  options_.register_user = true;
  fake_.register_status = util::AlreadyExists("+61410888888 is already registered");
  EXPECT_EQ(Run("+61410888888\nsecret-one\nsecret-one\nlogout\n"), kExitNoLogin);
  EXPECT_NE(Out().find("Registration failed: +61410888888 is already registered\n"),
            std::string::npos)
      << Out();

  // A busy server is no lost connection: no new connection, no status 3.
  fake_.connects = 0;
  fake_.register_status = util::ResourceExhausted("the server is busy; retry later");
  EXPECT_EQ(Run("+61410888888\nsecret-one\nsecret-one\n"), kExitNoLogin);
  EXPECT_NE(Out().find("Registration failed: the server is busy; retry later\n"), std::string::npos)
      << Out();
  EXPECT_EQ(Err(), "");
  EXPECT_EQ(fake_.connects, 1);

  // A lost one is made again once, then it is the end of the run.
  fake_.connects = 0;
  fake_.register_status = util::Unavailable("the server closed the connection");
  EXPECT_EQ(Run("+61410888888\nsecret-one\nsecret-one\n"), kExitUnreachable);
  EXPECT_EQ(fake_.connects, 2);
  EXPECT_NE(Err().find("lost the connection to the server 127.0.0.1:4000: the server closed the "
                       "connection"),
            std::string::npos)
      << Err();
}

TEST_F(FrontendTest, ABeaconReceivedWhileThePromptWaitsIsPrintedThenThePromptAgain) {
  Start("+61410888888\ncomp3331\n");
  ASSERT_TRUE(test::WaitFor([&] { return Out().find("\n> ") != std::string::npos; }));
  ASSERT_TRUE(fake_.sink);
  fake_.sink({"received beacon:", "12345678901234567890,", "13/05/2020 17:45:06,",
              "13/05/2020 18:00:05.", "Current time is:", "13/05/2020 17:50:00.",
              "The beacon is valid."});
  ASSERT_TRUE(
      test::WaitFor([&] { return Out().find("The beacon is valid.\n> ") != std::string::npos; }));
  Write("logout\n");
  EXPECT_EQ(Finish(), kExitOk);
  EXPECT_NE(Out().find("Welcome to the BlueTrace Simulator!\n> \nreceived beacon:\n"
                       "12345678901234567890,\n13/05/2020 17:45:06,\n13/05/2020 18:00:05.\n"
                       "Current time is:\n13/05/2020 17:50:00.\nThe beacon is valid.\n"
                       "> logout\n"),
            std::string::npos)
      << Out();
}

}  // namespace
}  // namespace bluetrace::apps
