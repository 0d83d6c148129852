// Upload codes and the withdrawal of consent end to end with the real programs:
// bluetrace-admin issues a code, a scripted bluetrace-client is asked `Upload code: ` and
// uploads with it, then deregisters; bluetrace-admin removes users with and without a
// running server (file backend). Loopback only; every wait is bounded.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <regex>
#include <string>

#include "support/client_process.hpp"
#include "support/run_command.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace {
namespace {

using namespace std::chrono_literals;
using test::ReadFileForTest;
using test::ShellQuoteForTest;

constexpr auto kWait = 20s;

class UploadCodeProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_dir_ = dir_.File("server");
    test::PrepareServerDirForTest(server_dir_, "codes.toml",
                                  "[upload]\nrequire_code = true\ncode_max_failures = 3\n");
  }

  void StartServer() {
    std::remove((server_dir_ + "/ready").c_str());
    server_ = std::make_unique<test::ServerProcess>(
        test::ProgramPath("bluetrace-server"), server_dir_,
        std::vector<std::string>{"0", "60", "--config", "codes.toml", "--ready-file", "ready"});
    port_ = server_->WaitReady(server_dir_ + "/ready", kWait);
    ASSERT_NE(port_, 0) << server_->Stderr();
  }

  test::CommandResult Admin(const std::string& args) {
    return test::RunCommandForTest(ShellQuoteForTest(test::ProgramPath("bluetrace-admin")) +
                                   " --config " + ShellQuoteForTest(server_dir_ + "/codes.toml") +
                                   " --state-dir " + ShellQuoteForTest(server_dir_) + " " + args +
                                   " </dev/null");
  }

  // The code `code issue` printed, or "" (a test failure).
  std::string IssueCode(const std::string& phone) {
    auto r = Admin("code issue " + phone);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::smatch m;
    const std::regex shown("upload code for " +
                           std::regex_replace(phone, std::regex("\\+"), "\\+") +
                           ": ([A-Z0-9]{5}-[A-Z0-9]{5}) \\(valid until ");
    if (!std::regex_search(r.output, m, shown)) {
      ADD_FAILURE() << r.output;
      return "";
    }
    return m[1];
  }

  std::unique_ptr<test::ClientProcess> LoggedIn(const std::string& name, const std::string& user,
                                                const std::string& password) {
    const std::string dir = dir_.File(name);
    mkdir(dir.c_str(), 0700);
    auto c = std::make_unique<test::ClientProcess>(
        test::ProgramPath("bluetrace-client"), dir, name,
        std::vector<std::string>{"127.0.0.1", std::to_string(port_), "0", "--data-dir", dir,
                                 "--known-servers", dir_.File("known_servers"), "--ca-file",
                                 server_dir_ + "/server.crt"},
        std::vector<std::string>{"HOME=" + dir_.path(), "XDG_STATE_HOME=" + dir_.File("state")});
    c->Write(user + "\n" + password + "\n");
    EXPECT_TRUE(c->WaitForOutput("Welcome to the BlueTrace Simulator!\n"))
        << c->Stdout() << c->Stderr();
    return c;
  }

  test::TempDir dir_;
  std::string server_dir_;
  std::unique_ptr<test::ServerProcess> server_;
  std::uint16_t port_ = 0;
};

TEST_F(UploadCodeProgramTest, TheClientAsksForTheCodeAndItIsSingleUse) {
  StartServer();
  const std::string code = IssueCode("+61410888888");
  ASSERT_FALSE(code.empty());
  // The code is in no file of the state directory and not in the audit log.
  const std::string bare = code.substr(0, 5) + code.substr(6);
  for (const char* f : {"/upload-codes.txt", "/audit.log"}) {
    const std::string text = ReadFileForTest(server_dir_ + f);
    EXPECT_EQ(text.find(bare), std::string::npos) << f;
    EXPECT_EQ(text.find(code), std::string::npos) << f;
  }
  EXPECT_EQ(
      test::RunCommandForTest("stat -c %a " + ShellQuoteForTest(server_dir_ + "/upload-code.key"))
          .output,
      "600\n");

  auto c = LoggedIn("a", "+61410888888", "comp3331");
  c->Write("Upload_contact_log\n" + code + "\n");
  ASSERT_TRUE(c->WaitForOutput("0 entries received by the server\n")) << c->Stdout();
  EXPECT_NE(c->Stdout().find("> Upload_contact_log\nUpload code: " + code +
                             "\n0 entries received by the server\n"),
            std::string::npos)
      << c->Stdout();
  // Used twice: refused, the session goes on.
  c->Write("Upload_contact_log\n" + code + "\n");
  ASSERT_TRUE(
      c->WaitForOutput("Error. wrong, used or expired upload code; 2 tries left before a "
                       "block\n"))
      << c->Stdout();
  c->Write("logout\n");
  EXPECT_EQ(c->WaitExit(kWait), 0) << c->Stderr();
  const std::string audit = Admin("audit --event 'upload_code_*'").output;
  EXPECT_NE(audit.find("upload_code_issued user=+61410888888 by="), std::string::npos) << audit;
  EXPECT_NE(audit.find("upload_code_redeemed user=+61410888888"), std::string::npos) << audit;
  EXPECT_NE(audit.find("upload_code_failed user=+61410888888"), std::string::npos) << audit;
}

TEST_F(UploadCodeProgramTest, DeregisterAndUserRemoveDeleteTheLinksFromTempIds) {
  StartServer();
  // Deregister: the password again, then the account and its TempIDs are gone.
  auto c = LoggedIn("a", "+61410888888", "comp3331");
  c->Write("Download_tempID\nDeregister\ncomp3331\n");
  EXPECT_EQ(c->WaitExit(kWait), 0) << c->Stdout() << c->Stderr();
  EXPECT_NE(c->Stdout().find("Deregistered: your account and the link from your TempIDs"),
            std::string::npos)
      << c->Stdout();
  EXPECT_EQ(ReadFileForTest(server_dir_ + "/tempIDs.txt").find("+61410888888"), std::string::npos);
  EXPECT_EQ(ReadFileForTest(server_dir_ + "/credentials.txt").find("+61410888888"),
            std::string::npos);

  // user remove while the server runs: the server drops the TempIDs at its next reload.
  auto r = Admin("user remove +61410999999");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("removed +61410999999; the running server drops its TempIDs"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(test::WaitFor([&] {
    return ReadFileForTest(server_dir_ + "/tempIDs.txt").find("+61410999999") == std::string::npos;
  })) << server_->Stderr();
  EXPECT_TRUE(
      test::WaitFor([&] { return ReadFileForTest(server_dir_ + "/withdrawn.txt").empty(); }));

  // user remove with no server: the tool rewrites tempIDs.txt itself.
  ASSERT_EQ(server_->Stop(kWait), 0);
  r = Admin("user remove +61410777777");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("removed +61410777777 and 1 TempID\n"), std::string::npos) << r.output;
  EXPECT_EQ(ReadFileForTest(server_dir_ + "/tempIDs.txt").find("+61410777777"), std::string::npos);
  const std::string audit = Admin("audit").output;
  EXPECT_NE(audit.find("deregistered user=+61410888888 tempids="), std::string::npos) << audit;
  EXPECT_NE(audit.find("admin_user_removed user=+61410999999 by="), std::string::npos) << audit;
  EXPECT_NE(audit.find("admin_user_removed user=+61410777777 by="), std::string::npos) << audit;
  EXPECT_EQ(Admin("verify").exit_code, 0) << Admin("verify").output;
}

}  // namespace
}  // namespace bluetrace
