// End-to-end tests of bluetrace-admin's password prompts on a pseudo-terminal, as an
// operator meets them: `user add` and `user passwd` ask twice without echo, refuse a
// mismatch, a short password, Ctrl-C and Ctrl-D cleanly, and always give the terminal its
// echo back. Each test has a fresh state directory; no network; every wait is bounded.
#include <gtest/gtest.h>
#include <signal.h>
#include <termios.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bluetrace/store/password_hash.hpp"
#include "support/client_process.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace {
namespace {

using namespace std::chrono_literals;
using test::PtyProcess;
using test::ReadFileForTest;
using test::WriteFileForTest;

constexpr auto kWait = 20s;
constexpr const char* kFirstPrompt = "New password: ";
constexpr const char* kSecondPrompt = "Repeat it: ";
constexpr const char* kUser = "+61400000123";  // canonical form of the number typed below
constexpr const char* kTypedUser = "+61-400-000-123";
constexpr const char* kPassword = "pty-secret-one";
constexpr const char* kOtherPassword = "pty-secret-two";
constexpr const char* kInterrupt = "\x03";   // Ctrl-C with the terminal's default keys
constexpr const char* kEndOfInput = "\x04";  // Ctrl-D

class AdminPromptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFileForTest(dir_.File("fast.toml"),
                     "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n");
  }

  // Runs `bluetrace-admin user <command> <user>` on a new pseudo-terminal.
  std::unique_ptr<PtyProcess> Admin(const std::string& command, const std::string& user) {
    return std::make_unique<PtyProcess>(
        test::ProgramPath("bluetrace-admin"), dir_.path(),
        std::vector<std::string>{"--config", dir_.File("fast.toml"), "--state-dir", dir_.path(),
                                 "user", command, user});
  }

  // Waits for `prompt`, checks the terminal no longer echoes, and types `text` (nothing
  // is typed when the prompt does not come).
  static void TypeAtPrompt(PtyProcess& p, const char* prompt, const std::string& text) {
    ASSERT_TRUE(p.WaitForOutput(prompt, 1, kWait)) << p.output();
    EXPECT_EQ(p.local_flags() & ECHO, 0u) << "echo is on at the prompt " << prompt;
    p.Write(text);
  }

  // Waits for the program's exit status and checks the terminal echoes again.
  static int ExitWithEchoBack(PtyProcess& p) {
    const int status = p.WaitExit(kWait);
    EXPECT_NE(p.local_flags() & ECHO, 0u) << "the terminal was left without echo\n" << p.output();
    return status;
  }

  // Adds kUser with `password` at the terminal, as the first test shows it.
  void AddAtTerminal(const std::string& password) {
    auto p = Admin("add", kTypedUser);
    TypeAtPrompt(*p, kFirstPrompt, password + "\r");
    TypeAtPrompt(*p, kSecondPrompt, password + "\r");
    ASSERT_EQ(ExitWithEchoBack(*p), 0) << p->output();
  }

  std::string Credentials() {
    return std::filesystem::exists(dir_.File("credentials.txt"))
               ? ReadFileForTest(dir_.File("credentials.txt"))
               : std::string();
  }

  // The stored secret of `user` (empty when the user is absent).
  std::string SecretOf(const std::string& user) {
    const std::string creds = Credentials();
    const std::string start = user + " ";
    for (std::size_t at = 0; at < creds.size();) {
      const std::size_t end = std::min(creds.find('\n', at), creds.size());
      const std::string line = creds.substr(at, end - at);
      if (line.rfind(start, 0) == 0) return line.substr(start.size());
      at = end + 1;
    }
    return "";
  }

  // Whether `password` matches the Argon2id hash stored for kUser.
  bool Matches(const std::string& password) {
    auto ok = store::VerifyPassword(SecretOf(kUser), password);
    EXPECT_TRUE(ok.ok()) << ok.status().ToString();
    return ok.ok() && *ok;
  }

  test::TempDir dir_;
};

TEST_F(AdminPromptTest, UserAddAsksTwiceWithoutEchoAndStoresOnlyTheHash) {
  auto p = Admin("add", kTypedUser);
  TypeAtPrompt(*p, kFirstPrompt, std::string(kPassword) + "\r");
  TypeAtPrompt(*p, kSecondPrompt, std::string(kPassword) + "\r");
  EXPECT_EQ(ExitWithEchoBack(*p), 0) << p->output();
  EXPECT_NE(p->output().find("added +61400000123\r\n"), std::string::npos) << p->output();
  EXPECT_EQ(p->output().find(kPassword), std::string::npos) << p->output();

  EXPECT_EQ(SecretOf(kUser).rfind("$argon2id$", 0), 0u) << Credentials();
  EXPECT_EQ(Credentials().find(kPassword), std::string::npos);
  EXPECT_TRUE(Matches(kPassword));
  EXPECT_FALSE(Matches(kOtherPassword));
  EXPECT_EQ(ReadFileForTest(dir_.File("audit.log")).find(kPassword), std::string::npos);
}

TEST_F(AdminPromptTest, AMismatchedRepetitionAddsNobody) {
  auto p = Admin("add", kTypedUser);
  TypeAtPrompt(*p, kFirstPrompt, std::string(kPassword) + "\r");
  TypeAtPrompt(*p, kSecondPrompt, std::string(kOtherPassword) + "\r");
  EXPECT_EQ(ExitWithEchoBack(*p), 1);
  EXPECT_NE(p->output().find("bluetrace-admin: the passwords differ\r\n"), std::string::npos)
      << p->output();
  EXPECT_EQ(p->output().find("added"), std::string::npos);
  EXPECT_EQ(p->output().find(kPassword), std::string::npos);
  EXPECT_EQ(p->output().find(kOtherPassword), std::string::npos);
  EXPECT_EQ(SecretOf(kUser), "") << Credentials();
}

TEST_F(AdminPromptTest, AShortPasswordIsRefusedNamingTheMinimum) {
  auto p = Admin("add", kTypedUser);
  TypeAtPrompt(*p, kFirstPrompt, "short12\r");
  TypeAtPrompt(*p, kSecondPrompt, "short12\r");
  EXPECT_EQ(ExitWithEchoBack(*p), 1);
  EXPECT_NE(p->output().find("the password must be 8 to 1024 bytes long"), std::string::npos)
      << p->output();
  EXPECT_EQ(p->output().find("short12"), std::string::npos);
  EXPECT_EQ(SecretOf(kUser), "") << Credentials();
}

TEST_F(AdminPromptTest, PasswdAtTheTerminalReplacesTheHash) {
  ASSERT_NO_FATAL_FAILURE(AddAtTerminal(kPassword));
  const std::string before = SecretOf(kUser);
  ASSERT_TRUE(Matches(kPassword));

  auto p = Admin("passwd", kUser);
  TypeAtPrompt(*p, kFirstPrompt, std::string(kOtherPassword) + "\r");
  TypeAtPrompt(*p, kSecondPrompt, std::string(kOtherPassword) + "\r");
  EXPECT_EQ(ExitWithEchoBack(*p), 0) << p->output();
  EXPECT_NE(p->output().find("password of +61400000123 changed"), std::string::npos) << p->output();
  EXPECT_EQ(p->output().find(kOtherPassword), std::string::npos);

  EXPECT_NE(SecretOf(kUser), before);
  EXPECT_TRUE(Matches(kOtherPassword));
  EXPECT_FALSE(Matches(kPassword));
  EXPECT_EQ(Credentials().find(kOtherPassword), std::string::npos);
}

TEST_F(AdminPromptTest, PasswdWithAMismatchKeepsTheOldPassword) {
  ASSERT_NO_FATAL_FAILURE(AddAtTerminal(kPassword));
  const std::string before = SecretOf(kUser);
  auto p = Admin("passwd", kUser);
  TypeAtPrompt(*p, kFirstPrompt, std::string(kOtherPassword) + "\r");
  TypeAtPrompt(*p, kSecondPrompt, "something-else\r");
  EXPECT_EQ(ExitWithEchoBack(*p), 1);
  EXPECT_NE(p->output().find("the passwords differ"), std::string::npos) << p->output();
  EXPECT_EQ(SecretOf(kUser), before);
}

// Ctrl-C must not leave the operator's shell without echo: the program ends as killed by
// SIGINT (so the shell knows), with the terminal mode it found.
TEST_F(AdminPromptTest, CtrlCAtEitherPromptRestoresEchoAndAddsNobody) {
  for (int at_prompt : {1, 2}) {
    SCOPED_TRACE(at_prompt);
    auto p = Admin("add", kTypedUser);
    if (at_prompt == 2) TypeAtPrompt(*p, kFirstPrompt, std::string(kPassword) + "\r");
    TypeAtPrompt(*p, at_prompt == 1 ? kFirstPrompt : kSecondPrompt, kInterrupt);
    EXPECT_EQ(ExitWithEchoBack(*p), 128 + SIGINT) << p->output();
    EXPECT_EQ(p->output().find("added"), std::string::npos);
    EXPECT_EQ(SecretOf(kUser), "") << Credentials();
  }
}

TEST_F(AdminPromptTest, ATerminationSignalAtThePromptRestoresEcho) {
  for (int sig : {SIGTERM, SIGHUP}) {
    SCOPED_TRACE(sig);
    auto p = Admin("add", kTypedUser);
    ASSERT_TRUE(p->WaitForOutput(kFirstPrompt, 1, kWait)) << p->output();
    p->Signal(sig);
    EXPECT_EQ(ExitWithEchoBack(*p), 128 + sig) << p->output();
    EXPECT_EQ(SecretOf(kUser), "");
  }
}

TEST_F(AdminPromptTest, CtrlDAtTheFirstPromptEndsWithoutAskingAgain) {
  auto p = Admin("add", kTypedUser);
  TypeAtPrompt(*p, kFirstPrompt, kEndOfInput);
  EXPECT_EQ(ExitWithEchoBack(*p), 1);
  EXPECT_NE(p->output().find("bluetrace-admin: no password given\r\n"), std::string::npos)
      << p->output();
  EXPECT_EQ(p->output().find(kSecondPrompt), std::string::npos) << p->output();
  EXPECT_EQ(SecretOf(kUser), "") << Credentials();
}

TEST_F(AdminPromptTest, CtrlDAtTheSecondPromptAddsNobody) {
  auto p = Admin("add", kTypedUser);
  TypeAtPrompt(*p, kFirstPrompt, std::string(kPassword) + "\r");
  TypeAtPrompt(*p, kSecondPrompt, kEndOfInput);
  EXPECT_EQ(ExitWithEchoBack(*p), 1);
  EXPECT_NE(p->output().find("bluetrace-admin: no password given\r\n"), std::string::npos)
      << p->output();
  EXPECT_EQ(p->output().find(kPassword), std::string::npos);
  EXPECT_EQ(SecretOf(kUser), "") << Credentials();
}

}  // namespace
}  // namespace bluetrace
