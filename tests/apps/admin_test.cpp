// End-to-end tests of the real bluetrace-admin program on a temporary state directory
// holding the original samples, alone and next to a running bluetrace-server (whose
// changes it must pick up without a restart). Loopback only; every wait is bounded.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "support/run_command.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace {
namespace {

using namespace std::chrono_literals;
using namespace protocol;  // NOLINT
using test::ReadFileForTest;
using test::ShellQuoteForTest;
using test::WriteFileForTest;

constexpr auto kWait = 20s;

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

class AdminProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* f : {"credentials.txt", "tempIDs.txt"}) {
      test::CopyOriginalSample(dir_.path(), f);
    }
    WriteFileForTest(dir_.File("fast.toml"),
                     "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n"
                     "[server]\nbind_address = \"127.0.0.1\"\n");
    WriteFileForTest(dir_.File("pw"), "new-password-1\n");
  }

  // Runs the tool with stdin closed (no terminal), output and errors interleaved.
  test::CommandResult Admin(const std::string& args) {
    return test::RunCommandForTest(Command(args) + " </dev/null");
  }
  std::string Command(const std::string& args) {
    return ShellQuoteForTest(test::ProgramPath("bluetrace-admin")) + " --config " +
           ShellQuoteForTest(dir_.File("fast.toml")) + " --state-dir " +
           ShellQuoteForTest(dir_.path()) + " " + args;
  }
  test::CommandResult AdminWithStdin(const std::string& args, const std::string& stdin_text) {
    return test::RunCommandForTest("printf %s " + ShellQuoteForTest(stdin_text) + " | " +
                                   Command(args));
  }

  // A server with a long block, so a block can only end by the admin's unblock.
  std::unique_ptr<test::ServerProcess> Start() {
    std::remove(dir_.File("ready").c_str());
    auto p = std::make_unique<test::ServerProcess>(
        test::ProgramPath("bluetrace-server"), dir_.path(),
        std::vector<std::string>{"0", "600", "--config", "fast.toml", "--ready-file", "ready",
                                 "--log-level", "debug", "--no-console"});
    port_ = p->WaitReady(dir_.File("ready"), kWait);
    return p;
  }

  // Waits until the server has reloaded the user files once more than `before` times.
  static bool WaitReload(const test::ServerProcess& server, std::size_t before) {
    return test::WaitFor([&] { return Reloads(server) > before; }, 10s);
  }
  static std::size_t Reloads(const test::ServerProcess& server) {
    const std::string err = server.Stderr();
    std::size_t n = 0;
    for (auto at = err.find("reloaded credentials.txt"); at != std::string::npos;
         at = err.find("reloaded credentials.txt", at + 1)) {
      ++n;
    }
    return n;
  }

  // One exchange on a fresh connection after Hello; Error{} when the connection fails.
  Message Call(Message request) {
    auto c = net::ClientConnection::Connect(
        "127.0.0.1", port_, net::TlsClientOptions{dir_.File("server.crt"), "127.0.0.1", "1.3"},
        net::ClientConnectOptions{});
    if (!c.ok()) return Error{};
    if (!(*c)->Call(Hello{1, 1, "test"}, kWait).ok()) return Error{};
    auto r = (*c)->Call(std::move(request), kWait);
    return r.ok() ? std::move(*r) : Message(Error{});
  }

  Message Login(const std::string& user, const std::string& password) {
    auto c = net::ClientConnection::Connect(
        "127.0.0.1", port_, net::TlsClientOptions{dir_.File("server.crt"), "127.0.0.1", "1.3"},
        net::ClientConnectOptions{});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return Error{};
    auto hello = (*c)->Call(Hello{1, 1, "test"}, kWait);
    EXPECT_TRUE(hello.ok());
    auto r = (*c)->Call(protocol::Login{user, util::SecretString(password)}, kWait);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : Message(Error{});
  }

  std::string Audit() { return ReadFileForTest(dir_.File("audit.log")); }

  test::TempDir dir_;
  std::uint16_t port_ = 0;
};

TEST_F(AdminProgramTest, HelpForEachCommandAndUsageErrors) {
  for (const char* cmd :
       {"--help", "user --help", "user add --help", "user passwd --help", "unblock --help",
        "blocked --help", "migrate-credentials --help", "verify --help", "reports --help",
        "reports show --help", "audit --help", "audit prune --help", "compact --help"}) {
    auto r = Admin(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << cmd;
  }
  EXPECT_EQ(Admin("").exit_code, 2);
  EXPECT_EQ(Admin("frobnicate").exit_code, 2);
  EXPECT_EQ(Admin("user add").exit_code, 2);
}

// An unknown command names itself and the commands there are, at either level.
// The console's staff accounts: added with a password from stdin or a file (never the
// command line), listed, re-passworded and removed; every change audited, no password shown.
TEST_F(AdminProgramTest, StaffAccountsAreManagedAndAudited) {
  auto r = AdminWithStdin("staff add ana.tracer", "a long staff password\n");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("added ana.tracer (tracer)"), std::string::npos) << r.output;
  WriteFileForTest(dir_.File("staff-pw"), "another staff password\n");
  r = Admin("staff add root --role admin --password-file " +
            ShellQuoteForTest(dir_.File("staff-pw")));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(AdminWithStdin("staff add bo", "short\n").exit_code, 1);  // under 12 bytes
  EXPECT_EQ(Admin("staff add \"Bad Name\"").exit_code, 2);
  EXPECT_EQ(AdminWithStdin("staff add ana.tracer", "a long staff password\n").exit_code, 1);
  r = Admin("staff list");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "ana.tracer tracer\nroot admin\n");
  EXPECT_EQ(AdminWithStdin("staff passwd ana.tracer", "a new staff password\n").exit_code, 0);
  EXPECT_EQ(Admin("staff remove root").exit_code, 0);
  EXPECT_EQ(Admin("staff remove root").exit_code, 1);
  const std::string staff = ReadFileForTest(dir_.File("staff.txt"));
  EXPECT_EQ(staff.rfind("ana.tracer tracer $argon2id$", 0), 0u) << staff;
  EXPECT_EQ(staff.find("a new staff password"), std::string::npos);
  r = Admin("audit --event 'admin_staff_*'");
  EXPECT_NE(r.output.find("admin_staff_added staff=ana.tracer role=tracer"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("admin_staff_password_set staff=ana.tracer"), std::string::npos);
  EXPECT_NE(r.output.find("admin_staff_removed staff=root"), std::string::npos);
  EXPECT_EQ(r.output.find("password "), std::string::npos);
}

TEST_F(AdminProgramTest, AnUnknownCommandIsNamedWithTheValidOnes) {
  auto r = Admin("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(
      r.output.find("bluetrace-admin: unknown command \"frobnicate\"; the commands are: "
                    "user, code, staff, unblock, blocked, migrate-credentials, verify, reports, "
                    "audit, "
                    "compact, db\n"),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("Run \"bluetrace-admin --help\" for more."), std::string::npos);

  r = Admin("user frobnicate +61410888888");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bluetrace-admin user: unknown command \"frobnicate\"; the commands "
                          "are: add, remove, passwd\n"),
            std::string::npos)
      << r.output;

  r = Admin("");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bluetrace-admin: a command is required: user, code, staff, unblock, "),
            std::string::npos)
      << r.output;
  r = Admin("--frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown option \"--frobnicate\""), std::string::npos) << r.output;
  r = Admin("user add");
  EXPECT_NE(r.output.find("bluetrace-admin user add: UserID is required"), std::string::npos)
      << r.output;
}

// README "Administration": 0 done; 1 the command failed, or verify found a problem; 2 bad
// usage (command, option, argument or configuration file).
TEST_F(AdminProgramTest, ExitStatusesAreThoseOfTheReadme) {
  const std::string pw = " --password-file " + ShellQuoteForTest(dir_.File("pw"));
  WriteFileForTest(dir_.File("short"), "short\n");
  WriteFileForTest(dir_.File("bad.toml"), "[auth]\nblock_durration = 3\n");
  const std::string fresh = ShellQuoteForTest(test::ProgramPath("bluetrace-admin")) +
                            " --state-dir " + ShellQuoteForTest(dir_.path()) + " ";
  const std::pair<std::string, int> cases[] = {
      // Bad usage.
      {"user add 0412345678" + pw, 2},         // a phone number without its country code
      {"user add '+61-410 888 888'" + pw, 2},  // mixed separators
      {"user passwd abc" + pw, 2},
      {"user remove 12", 2},
      {"unblock 0412345678", 2},
      {"unblock +61410888888#", 2},
      {"blocked extra", 2},
      {"blocked --format xml", 2},
      {"reports --format yaml", 2},
      {"reports show ../credentials.txt", 2},
      {"audit --since yesterday", 2},
      {"verify --frobnicate", 2},
      // The command failed.
      {"user add +61410888888" + pw, 1},  // exists
      {"user add +61400000778 --password-file " + ShellQuoteForTest(dir_.File("short")), 1},
      {"user add +61400000779 --password-file " + ShellQuoteForTest(dir_.File("missing")), 1},
      {"user passwd +61400000999" + pw, 1},  // no such user
      {"user remove +61400000999", 1},
      {"unblock +61410888888", 1},  // not blocked
      {"reports show 20200101T000000Z-61410888888-1.txt", 1},
      // Done.
      {"blocked", 0},
      {"reports", 0},
      {"reports --summary --format csv", 0},
      {"audit", 0},
      {"verify", 0},
      {"--version", 0},
  };
  for (const auto& [args, code] : cases) {
    auto r = Admin(args);
    EXPECT_EQ(r.exit_code, code) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find("new-password-1"), std::string::npos);
  }
  // A malformed UserID is said before any password is read.
  auto r = AdminWithStdin("user add 0412345678", "stdin-password\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bluetrace-admin: \"0412345678\" is not a UserID: phone number must "
                          "start with '+' and the country code (e.g. +61410888888)"),
            std::string::npos)
      << r.output;
  // A configuration file that cannot be read or parsed.
  EXPECT_EQ(test::RunCommandForTest(fresh + "--config " + ShellQuoteForTest(dir_.File("bad.toml")) +
                                    " blocked")
                .exit_code,
            2);
  EXPECT_EQ(test::RunCommandForTest(fresh + "--config " +
                                    ShellQuoteForTest(dir_.File("missing.toml")) + " blocked")
                .exit_code,
            2);
  // verify found a problem.
  WriteFileForTest(dir_.File("lockouts.txt"), "garbage\n");
  EXPECT_EQ(Admin("verify").exit_code, 1);
  EXPECT_EQ(Admin("blocked").exit_code, 1);          // nor can it be listed
  EXPECT_FALSE(FileExists(dir_.File("audit.log")));  // none of that changed anything
}

TEST_F(AdminProgramTest, UserAddedWhileTheServerRunsCanLogInWithoutARestart) {
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  const std::size_t reloads = Reloads(*server);
  auto r = Admin("user add +61400000123 --password-file " + ShellQuoteForTest(dir_.File("pw")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("added +61400000123"), std::string::npos);
  ASSERT_TRUE(WaitReload(*server, reloads)) << server->Stderr();
  EXPECT_TRUE(std::holds_alternative<Welcome>(Login("+61400000123", "new-password-1")));

  // Removed: the next login is that of an unknown user.
  const std::size_t reloads2 = Reloads(*server);
  r = Admin("user remove +61400000123");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitReload(*server, reloads2));
  EXPECT_TRUE(std::holds_alternative<WrongPassword>(Login("+61400000123", "new-password-1")));
  EXPECT_EQ(server->Stop(kWait), 0);

  const std::string audit = Audit();
  EXPECT_NE(audit.find(" admin_user_added user=+61400000123 by="), std::string::npos) << audit;
  EXPECT_NE(audit.find(" admin_user_removed user=+61400000123 by="), std::string::npos);
  EXPECT_NE(audit.find(" login_ok user=+61400000123 peer=127.0.0.1 "), std::string::npos);
  EXPECT_EQ(audit.find("new-password-1"), std::string::npos);
  EXPECT_EQ(Admin("verify").exit_code, 0) << Admin("verify").output;
}

TEST_F(AdminProgramTest, UnblockLetsABlockedUserInWhileTheServerRuns) {
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  EXPECT_TRUE(std::holds_alternative<WrongPassword>(Login("+61410888888", "wrong-1")));
  EXPECT_TRUE(std::holds_alternative<WrongPassword>(Login("+61410888888", "wrong-2")));
  EXPECT_TRUE(std::holds_alternative<Blocked>(Login("+61410888888", "wrong-3")));
  auto listed = Admin("blocked");
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_NE(listed.output.find("+61410888888 "), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find(" s left"), std::string::npos);

  const std::size_t reloads = Reloads(*server);
  auto r = Admin("unblock +61410888888");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitReload(*server, reloads));
  EXPECT_TRUE(std::holds_alternative<Welcome>(Login("+61410888888", "comp3331")));
  EXPECT_EQ(Admin("unblock +61410888888").exit_code, 1);  // not blocked any more
  EXPECT_EQ(Admin("blocked").output, "no user is blocked\n");
  EXPECT_NE(Audit().find(" admin_unblocked user=+61410888888 "), std::string::npos);
}

TEST_F(AdminProgramTest, UnblockHoldsWhenTheServerRewritesLockoutsRightAfter) {
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  for (const char* pw : {"wrong-1", "wrong-2", "wrong-3"}) Login("+61410888888", pw);
  ASSERT_TRUE(std::holds_alternative<StillBlocked>(Login("+61410888888", "comp3331")));
  auto r = Admin("unblock +61410888888");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // At once, before the server's reload: a failed login of someone else makes the server
  // rewrite lockouts.txt while its memory still has the block.
  EXPECT_TRUE(std::holds_alternative<WrongPassword>(Login("+61410777777", "wrong-1")));
  const std::string lockouts = ReadFileForTest(dir_.File("lockouts.txt"));
  EXPECT_EQ(lockouts.find("+61410888888"), std::string::npos) << lockouts;
  EXPECT_NE(lockouts.find("+61410777777 1 0"), std::string::npos) << lockouts;
  // That rewrite merged the unblock into the server's memory too: no need to wait for the
  // reload.
  EXPECT_TRUE(std::holds_alternative<Welcome>(Login("+61410888888", "comp3331")));
  EXPECT_EQ(Admin("blocked").output, "no user is blocked\n");
}

TEST_F(AdminProgramTest, RegistrationsAndAdminAddsAtTheSameTimeLoseNoUser) {
  // Limits raised so that only the locking is under test, not the rate limiter.
  WriteFileForTest(dir_.File("fast.toml"),
                   "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n"
                   "[server]\nbind_address = \"127.0.0.1\"\n"
                   "[limits]\nconnections_burst = 200.0\nlogins_burst = 200.0\n");
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  constexpr int kEach = 12;
  const std::pair<const char*, const char*> originals[] = {{"+61410666666", "kara1234"},
                                                           {"+61410777777", "datha457"},
                                                           {"+61410888888", "comp3331"},
                                                           {"+61410999999", "bada4568"}};
  std::vector<std::string> registered;
  int upgraded = 0;
  std::thread clients([&] {
    for (int i = 0; i < kEach; ++i) {
      const std::string user = "+614000001" + std::to_string(10 + i);
      if (std::holds_alternative<RegisterOk>(
              Call(Register{user, util::SecretString("client-password")}))) {
        registered.push_back(user);
      }
      // The first login of an original user rewrites its plaintext line as a hash.
      if (i < 4 && std::holds_alternative<Welcome>(Call(protocol::Login{
                       originals[i].first, util::SecretString(originals[i].second)}))) {
        ++upgraded;
      }
    }
  });
  int admin_failures = 0;
  for (int i = 0; i < kEach; ++i) {
    const std::string user = "+614000002" + std::to_string(10 + i);
    auto r = Admin("user add " + user + " --password-file " + ShellQuoteForTest(dir_.File("pw")));
    if (r.exit_code != 0) {
      ++admin_failures;
      ADD_FAILURE() << r.output;
    }
  }
  clients.join();
  EXPECT_EQ(admin_failures, 0);
  EXPECT_EQ(registered.size(), static_cast<std::size_t>(kEach));
  EXPECT_EQ(upgraded, 4);
  EXPECT_EQ(server->Stop(kWait), 0);

  // Every user of both writers is in the file, and each logs in after a restart.
  const std::string creds = ReadFileForTest(dir_.File("credentials.txt"));
  for (int i = 0; i < kEach; ++i) {
    EXPECT_NE(creds.find("+614000001" + std::to_string(10 + i) + " $argon2id$"), std::string::npos);
    EXPECT_NE(creds.find("+614000002" + std::to_string(10 + i) + " $argon2id$"), std::string::npos);
  }
  EXPECT_EQ(std::count(creds.begin(), creds.end(), '\n'), 4 + 2 * kEach) << creds;
  EXPECT_EQ(creds.find("comp3331"), std::string::npos);  // every original line upgraded
  auto restarted = Start();
  EXPECT_TRUE(std::holds_alternative<Welcome>(Login("+61400000121", "client-password")));
  EXPECT_TRUE(std::holds_alternative<Welcome>(Login("+61400000221", "new-password-1")));
  for (const auto& [user, password] : originals) {
    EXPECT_TRUE(std::holds_alternative<Welcome>(Login(user, password))) << user;
  }
  EXPECT_EQ(restarted->Stop(kWait), 0);
  auto verify = Admin("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

TEST_F(AdminProgramTest, CompactIsRefusedWhileTheServerRunsAndWorksWhenStopped) {
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  auto r = Admin("compact");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("a server is running"), std::string::npos) << r.output;
  EXPECT_EQ(server->Stop(kWait), 0);
  r = Admin("compact");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("tempIDs.txt: "), std::string::npos);
  EXPECT_NE(Audit().find(" admin_compacted kept="), std::string::npos);
}

TEST_F(AdminProgramTest, PasswordsComeFromStdinAndPasswdChangesThem) {
  auto r = AdminWithStdin("user add +61400000777", "stdin-password\n");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = AdminWithStdin("user passwd +61400000777", "other-password\n");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string creds = ReadFileForTest(dir_.File("credentials.txt"));
  EXPECT_NE(creds.find("+61400000777 $argon2id$"), std::string::npos) << creds;
  EXPECT_EQ(creds.find("password"), std::string::npos);
  EXPECT_EQ(AdminWithStdin("user add +61400000777", "again-password\n").exit_code, 1);
  EXPECT_EQ(AdminWithStdin("user add +61400000778", "short\n").exit_code, 1);
  EXPECT_EQ(Admin("user passwd +61400000999 --password-file " + ShellQuoteForTest(dir_.File("pw")))
                .exit_code,
            1);
  const std::string audit = Audit();
  EXPECT_NE(audit.find(" admin_password_changed user=+61400000777 "), std::string::npos);
  EXPECT_EQ(audit.find("password\n"), std::string::npos);
  EXPECT_EQ(audit.find("other-password"), std::string::npos);
}

// user add and user passwd apply registration's rule (service/password_rules.hpp) with the
// server's configured bounds: an over-long password is refused, not hashed.
TEST_F(AdminProgramTest, UserAddAndPasswdRefuseAPasswordOverTheConfiguredMaximum) {
  WriteFileForTest(dir_.File("fast.toml"),
                   "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n"
                   "min_password_length = 10\nmax_password_length = 64\n");
  const std::string before = ReadFileForTest(dir_.File("credentials.txt"));
  for (const char* cmd : {"user add +61400000777", "user passwd +61410888888"}) {
    auto r = AdminWithStdin(cmd, std::string(65, 'x') + "\n");
    EXPECT_EQ(r.exit_code, 1) << cmd << ": " << r.output;
    EXPECT_NE(r.output.find("the password must be 10 to 64 bytes long"), std::string::npos)
        << r.output;
    r = AdminWithStdin(cmd, "123456789\n");
    EXPECT_EQ(r.exit_code, 1) << cmd << ": " << r.output;
    EXPECT_NE(r.output.find("the password must be 10 to 64 bytes long"), std::string::npos)
        << r.output;
  }
  EXPECT_EQ(ReadFileForTest(dir_.File("credentials.txt")), before);
  // Without a configuration, the server's defaults (8 to 1024 bytes).
  const std::string fresh = ShellQuoteForTest(test::ProgramPath("bluetrace-admin")) +
                            " --state-dir " + ShellQuoteForTest(dir_.path()) + " ";
  WriteFileForTest(dir_.File("long"), std::string(1025, 'x') + "\n");
  auto r = test::RunCommandForTest(fresh + "user add +61400000777 --password-file " +
                                   ShellQuoteForTest(dir_.File("long")) + " </dev/null");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the password must be 8 to 1024 bytes long"), std::string::npos)
      << r.output;
  EXPECT_EQ(ReadFileForTest(dir_.File("credentials.txt")), before);
}

TEST_F(AdminProgramTest, MigrateCredentialsHashesEveryPlaintextLine) {
  auto r = Admin("migrate-credentials");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("plaintext passwords replaced"), std::string::npos);
  const std::string creds = ReadFileForTest(dir_.File("credentials.txt"));
  EXPECT_EQ(creds.find("comp3331"), std::string::npos);
  std::size_t lines = 0, hashed = 0;
  for (auto at = creds.find('\n'); at != std::string::npos; at = creds.find('\n', at + 1)) {
    ++lines;
  }
  for (auto at = creds.find(" $argon2id$"); at != std::string::npos;
       at = creds.find(" $argon2id$", at + 1)) {
    ++hashed;
  }
  EXPECT_GT(lines, 0u);
  EXPECT_EQ(hashed, lines);
  EXPECT_NE(Audit().find(" admin_migrated_credentials count="), std::string::npos);
  EXPECT_NE(Admin("migrate-credentials").output.find("0 plaintext"), std::string::npos);
}

TEST_F(AdminProgramTest, VerifyReportsEachPlantedProblemWithFileAndLine) {
  EXPECT_EQ(Admin("verify").exit_code, 0) << Admin("verify").output;
  std::string tempids = ReadFileForTest(dir_.File("tempIDs.txt"));
  if (tempids.back() != '\n') tempids += "\n";
  WriteFileForTest(dir_.File("tempIDs.txt"), "not a tempid line\n" + tempids);
  std::string creds = ReadFileForTest(dir_.File("credentials.txt"));
  if (creds.back() != '\n') creds += "\n";  // the original's files may lack it
  WriteFileForTest(dir_.File("credentials.txt"), creds + "garbage\n");
  auto r = Admin("verify");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("tempIDs.txt line 1: "), std::string::npos) << r.output;
  const auto cred_lines = std::count(creds.begin(), creds.end(), '\n');
  EXPECT_NE(r.output.find("credentials.txt line " + std::to_string(cred_lines + 1) + ": "),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("2 problems found"), std::string::npos) << r.output;
}

// The health authority's files: each read by its one parser, its first problem named by file
// and line (a duplicate, a phone number that is not canonical, a malformed line).
TEST_F(AdminProgramTest, VerifyChecksTheConsoleAndUploadCodeFiles) {
  const std::string hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g";
  const std::string digest(64, 'a');
  WriteFileForTest(dir_.File("staff.txt"), "zoe tracer " + hash + " 0 0\n");
  WriteFileForTest(dir_.File("contact_status.txt"), "+61410666666 reached 5 zoe a%20note\n");
  WriteFileForTest(dir_.File("upload-codes.txt"), "+61410666666 " + digest + " 1 2\n");
  WriteFileForTest(dir_.File("upload-code-failures.txt"), "+61410666666 1 0\n");
  auto r = Admin("verify");
  EXPECT_EQ(r.exit_code, 0) << r.output;

  WriteFileForTest(dir_.File("staff.txt"),
                   "zoe tracer " + hash + " 0 0\nzoe admin " + hash + " 0 0\n");
  WriteFileForTest(dir_.File("contact_status.txt"),
                   "+61410666666 reached 5 zoe a%20note\n0410777777 reached 5 zoe x\n");
  WriteFileForTest(dir_.File("upload-codes.txt"),
                   "+61410666666 " + digest + " 1 2\n\n+61410666666 " + digest + " 3 4\n");
  WriteFileForTest(dir_.File("upload-code-failures.txt"), "+61410666666 one 0\n");
  r = Admin("verify");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  for (const char* expected :
       {"staff.txt:2: a name given twice\n",
        "contact_status.txt:2: contact status: not a canonical phone number\n",
        "upload-codes.txt line 3: a second code for +61410666666\n",
        "upload-code-failures.txt line 1: "}) {
    EXPECT_NE(r.output.find(expected), std::string::npos) << expected << "\n" << r.output;
  }
  EXPECT_NE(r.output.find("4 problems found"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(hash), std::string::npos) << r.output;  // no hash is echoed
}

// verify reads credentials.txt with the loader's parser, which bounds an Argon2id encoding
// as login does: a hash login would refuse is a problem named by line.
TEST_F(AdminProgramTest, VerifyRefusesAnArgon2idEncodingThatLoginWouldRefuse) {
  WriteFileForTest(dir_.File("credentials.txt"),
                   "+61410666666 kara1234\n"
                   "+61410777777 $argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g\n"
                   "+61410888888 $argon2id$v=19$m=99999999,t=2,p=1$c29tZXNhbHQ$"
                   "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4\n");
  auto r = Admin("verify");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("credentials.txt line 2: password hash is not a valid Argon2id "
                          "encoding: hash is shorter than 16 bytes"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("credentials.txt line 3: password hash is not a valid Argon2id "
                          "encoding: argon2 memory_kib must be 8-1048576, got 99999999"),
            std::string::npos)
      << r.output;
}

TEST_F(AdminProgramTest, VerifyDetectsATamperedAuditLog) {
  ASSERT_EQ(Admin("migrate-credentials").exit_code, 0);
  ASSERT_EQ(Admin("compact").exit_code, 0);
  ASSERT_EQ(Admin("verify").exit_code, 0);
  std::string audit = Audit();
  audit.replace(audit.find("admin_migrated_credentials count=") + 33, 1, "9");
  WriteFileForTest(dir_.File("audit.log"), audit);
  auto r = Admin("verify");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("audit.log line 1: "), std::string::npos) << r.output;
}

TEST_F(AdminProgramTest, VerifyRemovesLeftoverTemporaryFilesUnlessAServerMayBeWritingThem) {
  // What a crash mid-write leaves: a full copy of credentials.txt (plaintext lines
  // included), a copy of tempIDs.txt, half a report; and names that are not ours.
  const std::string creds = ReadFileForTest(dir_.File("credentials.txt"));
  const std::string tempids = ReadFileForTest(dir_.File("tempIDs.txt"));
  ASSERT_NE(creds.find("comp3331"), std::string::npos);
  ASSERT_EQ(
      test::RunCommandForTest("mkdir -p " + ShellQuoteForTest(dir_.File("reports"))).exit_code, 0);
  WriteFileForTest(dir_.File(".credentials.txt.tmp.4242.0"), creds);
  WriteFileForTest(dir_.File(".tempIDs.txt.tmp.4242.1"), tempids);
  WriteFileForTest(dir_.File("reports/.20200513T175000Z-61410888888-1.txt.tmp.4242.2"), "half");
  WriteFileForTest(dir_.File(".contactlog.txt.tmp.7.0"), "a client's");
  WriteFileForTest(dir_.File("notes.tmp.1.2"), "the operator's");
  const std::size_t bytes = creds.size() + tempids.size() + 4;

  auto r = Admin("verify");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("removed 3 leftover temporary files (" + std::to_string(bytes) +
                          " bytes) of interrupted writes"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("comp3331"), std::string::npos) << r.output;
  EXPECT_FALSE(FileExists(dir_.File(".credentials.txt.tmp.4242.0")));
  EXPECT_FALSE(FileExists(dir_.File(".tempIDs.txt.tmp.4242.1")));
  EXPECT_FALSE(FileExists(dir_.File("reports/.20200513T175000Z-61410888888-1.txt.tmp.4242.2")));
  EXPECT_EQ(ReadFileForTest(dir_.File(".contactlog.txt.tmp.7.0")), "a client's");
  EXPECT_EQ(ReadFileForTest(dir_.File("notes.tmp.1.2")), "the operator's");
  EXPECT_EQ(ReadFileForTest(dir_.File("credentials.txt")), creds);

  // With a server running, a temporary of tempIDs.txt may be its compaction in progress:
  // kept and reported. credentials.txt is only ever rewritten under .lock-credentials,
  // which verify takes, so that copy goes.
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();
  WriteFileForTest(dir_.File(".credentials.txt.tmp.4242.3"), creds);
  WriteFileForTest(dir_.File(".tempIDs.txt.tmp.4242.4"), tempids);
  r = Admin("verify");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("removed 1 leftover temporary file (" + std::to_string(creds.size()) +
                          " bytes)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("left 1 leftover temporary file (" + std::to_string(tempids.size()) +
                          " bytes) in place: a server is running"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(FileExists(dir_.File(".credentials.txt.tmp.4242.3")));
  EXPECT_TRUE(FileExists(dir_.File(".tempIDs.txt.tmp.4242.4")));
  EXPECT_EQ(server->Stop(kWait), 0) << server->Stderr();

  // Stopped: nothing can be writing it any more.
  r = Admin("verify");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("removed 1 leftover temporary file"), std::string::npos) << r.output;
  EXPECT_FALSE(FileExists(dir_.File(".tempIDs.txt.tmp.4242.4")));
}

TEST_F(AdminProgramTest, ChangesAreRefusedUnlessRunAsTheStateDirectorysOwner) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the directory another owner";
  ASSERT_EQ(chown(dir_.path().c_str(), 65534, 65534), 0);
  auto r = Admin("migrate-credentials");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("run this as the owner of"), std::string::npos) << r.output;
  EXPECT_EQ(Admin("verify").exit_code, 0);  // reading is fine
  // Leftover temporary files are listed, not removed: removing takes lock files, which
  // must not get another owner than the server's.
  WriteFileForTest(dir_.File(".credentials.txt.tmp.4242.0"), "copy\n");
  r = Admin("verify");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("left 1 leftover temporary file (5 bytes) in place: run verify as the "
                          "owner of"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(FileExists(dir_.File(".credentials.txt.tmp.4242.0")));
  EXPECT_FALSE(FileExists(dir_.File(".lock-credentials")));
  ASSERT_EQ(chown(dir_.path().c_str(), 0, 0), 0);
}

// The tool runs as the state's owner (sudo -u _bluetrace), so the audit log must name the
// person behind it: SUDO_USER, with the account it ran as beside it.
TEST_F(AdminProgramTest, TheAuditLogNamesTheOperatorBehindSudo) {
  const passwd* self = getpwuid(geteuid());
  ASSERT_NE(self, nullptr);
  const std::string effective = self->pw_name;
  const passwd* daemon = getpwnam("daemon");  // in every Debian system (base-passwd)
  ASSERT_NE(daemon, nullptr);
  const std::string sudo = "env SUDO_USER=daemon SUDO_UID=" + std::to_string(daemon->pw_uid) + " ";
  auto r = test::RunCommandForTest(sudo + Command("migrate-credentials") + " </dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(Audit().find(" admin_migrated_credentials count=4 by=daemon as=" + effective + " "),
            std::string::npos)
      << Audit();

  // A SUDO_USER that sudo cannot have set (its uid is not SUDO_UID) is not believed.
  r = test::RunCommandForTest(
      "env SUDO_USER=daemon SUDO_UID=" + std::to_string(daemon->pw_uid + 4242) + " " +
      Command("migrate-credentials") + " </dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string audit = Audit();
  const std::string second = audit.substr(audit.find("\n2 "));
  EXPECT_EQ(second.find("by=daemon"), std::string::npos) << second;

  // Without sudo: the login uid's user (unset here when no login recorded one), else the
  // effective user, alone.
  std::string login_name = effective;
  std::ifstream loginuid("/proc/self/loginuid");
  unsigned long long uid = 4294967295ull;
  if (loginuid >> uid && uid != 4294967295ull) {
    const passwd* pw = getpwuid(static_cast<uid_t>(uid));
    login_name = pw != nullptr ? pw->pw_name : "uid" + std::to_string(uid);
  }
  r = test::RunCommandForTest("env -u SUDO_USER -u SUDO_UID " + Command("migrate-credentials") +
                              " </dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  audit = Audit();
  const std::string third = audit.substr(audit.find("\n3 "));
  const std::string expected =
      " by=" + login_name + (login_name == effective ? "" : " as=" + effective) + " ";
  EXPECT_NE(third.find(expected), std::string::npos) << third << "expected: " << expected;
  EXPECT_EQ(Admin("verify").exit_code, 0);
}

TEST_F(AdminProgramTest, ReportsAreListedAndShownByNameOnly) {
  ASSERT_EQ(
      test::RunCommandForTest("mkdir -p " + ShellQuoteForTest(dir_.File("reports"))).exit_code, 0);
  WriteFileForTest(dir_.File("reports/20200513T175000Z-61410888888-1.txt"), "report text\n");
  auto r = Admin("reports");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "20200513T175000Z-61410888888-1.txt\n");
  r = Admin("reports show 20200513T175000Z-61410888888-1.txt");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "report text\n");
  EXPECT_EQ(Admin("reports show ../credentials.txt").exit_code, 2);  // not a report's name
}

// What a report's header holds (docs/PROTOCOL.md 10.7).
std::string ReportText(const std::string& uploader, int matched, int mismatched, int unknown) {
  return "# bluetrace contact check report\nuploader: " + uploader +
         "\nreceived: 13/05/2020 17:50:00 UTC\nentries: " +
         std::to_string(matched + mismatched + unknown) + "\nmatched: " + std::to_string(matched) +
         "\nmismatched: " + std::to_string(mismatched) + "\nunknown: " + std::to_string(unknown) +
         "\n\n[matched]\n# <contact UserID> <encounter start> <TempID>\n\n[mismatched]\n\n"
         "[unknown]\n";
}

TEST_F(AdminProgramTest, EmptyListsSaySoAndChangeNothing) {
  auto r = Admin("reports");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "no reports\n");
  EXPECT_FALSE(FileExists(dir_.File("reports")));  // listing does not create reports/
  r = Admin("reports --summary");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "no reports\n");
  r = Admin("blocked");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "no user is blocked\n");
  r = Admin("audit");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("no audit records"), std::string::npos) << r.output;
  // In JSON and CSV an empty list is an empty list; the message is for people.
  EXPECT_EQ(Admin("reports --format json").output, "[]\n");
  EXPECT_EQ(Admin("reports --format csv").output,
            "name,received,uploader,entries,matched,mismatched,unknown\r\n");
  EXPECT_EQ(Admin("blocked --format json").output, "[]\n");
  EXPECT_EQ(Admin("blocked --format csv").output, "user,blocked_until,seconds_left\r\n");
  EXPECT_EQ(Admin("reports --summary --format json").output,
            "{\n  \"days\": [],\n  \"total\": {\"reports\": 0, \"entries\": 0, \"matched\": 0, "
            "\"mismatched\": 0, \"unknown\": 0}\n}\n");
  // A state directory that is not there is no empty list, and no consistent state.
  for (const char* cmd : {"reports", "reports --summary", "blocked", "audit", "verify"}) {
    auto nowhere = test::RunCommandForTest(ShellQuoteForTest(test::ProgramPath("bluetrace-admin")) +
                                           " --state-dir " +
                                           ShellQuoteForTest(dir_.File("nowhere")) + " " + cmd);
    EXPECT_EQ(nowhere.exit_code, 1) << cmd;
    EXPECT_NE(nowhere.output.find("bluetrace-admin: the state directory " + dir_.File("nowhere") +
                                  " does not exist"),
              std::string::npos)
        << cmd << ": " << nowhere.output;
  }
  EXPECT_FALSE(FileExists(dir_.File("nowhere")));
}

TEST_F(AdminProgramTest, ReportsInJsonCsvAndSummedUpPerDay) {
  ASSERT_EQ(
      test::RunCommandForTest("mkdir -p " + ShellQuoteForTest(dir_.File("reports"))).exit_code, 0);
  WriteFileForTest(dir_.File("reports/20200513T175000Z-61410888888-1.txt"),
                   ReportText("+61410888888", 1, 1, 1));
  WriteFileForTest(dir_.File("reports/20200513T235959Z-61410777777-1.txt"),
                   ReportText("+61410777777", 2, 0, 0));
  WriteFileForTest(dir_.File("reports/20200514T000000Z-61410888888-1.txt"),
                   ReportText("+61410888888", 0, 0, 4));

  auto r = Admin("reports --format json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "[\n"
            "  {\"name\": \"20200513T175000Z-61410888888-1.txt\", \"received\": "
            "\"2020-05-13T17:50:00Z\", \"uploader\": \"+61410888888\", \"entries\": 3, "
            "\"matched\": 1, \"mismatched\": 1, \"unknown\": 1},\n"
            "  {\"name\": \"20200513T235959Z-61410777777-1.txt\", \"received\": "
            "\"2020-05-13T23:59:59Z\", \"uploader\": \"+61410777777\", \"entries\": 2, "
            "\"matched\": 2, \"mismatched\": 0, \"unknown\": 0},\n"
            "  {\"name\": \"20200514T000000Z-61410888888-1.txt\", \"received\": "
            "\"2020-05-14T00:00:00Z\", \"uploader\": \"+61410888888\", \"entries\": 4, "
            "\"matched\": 0, \"mismatched\": 0, \"unknown\": 4}\n"
            "]\n");
  r = Admin("reports --format csv");
  EXPECT_EQ(r.output,
            "name,received,uploader,entries,matched,mismatched,unknown\r\n"
            "20200513T175000Z-61410888888-1.txt,2020-05-13T17:50:00Z,+61410888888,3,1,1,1\r\n"
            "20200513T235959Z-61410777777-1.txt,2020-05-13T23:59:59Z,+61410777777,2,2,0,0\r\n"
            "20200514T000000Z-61410888888-1.txt,2020-05-14T00:00:00Z,+61410888888,4,0,0,4\r\n");

  r = Admin("reports --summary");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "day (UTC)   reports  entries  matched mismatched  unknown\n"
            "2020-05-13        2        5        3          1        1\n"
            "2020-05-14        1        4        0          0        4\n"
            "total             3        9        3          1        5\n");
  r = Admin("reports --summary --format csv");
  EXPECT_EQ(r.output,
            "day,reports,entries,matched,mismatched,unknown\r\n"
            "2020-05-13,2,5,3,1,1\r\n"
            "2020-05-14,1,4,0,0,4\r\n"
            "total,3,9,3,1,5\r\n");
  r = Admin("reports --summary --format json");
  EXPECT_EQ(r.output,
            "{\n  \"days\": [\n"
            "    {\"day\": \"2020-05-13\", \"reports\": 2, \"entries\": 5, \"matched\": 3, "
            "\"mismatched\": 1, \"unknown\": 1},\n"
            "    {\"day\": \"2020-05-14\", \"reports\": 1, \"entries\": 4, \"matched\": 0, "
            "\"mismatched\": 0, \"unknown\": 4}\n"
            "  ],\n"
            "  \"total\": {\"reports\": 3, \"entries\": 9, \"matched\": 3, \"mismatched\": 1, "
            "\"unknown\": 5}\n}\n");

  // A report whose header does not read back is named, and no half list is printed.
  WriteFileForTest(dir_.File("reports/20200515T000000Z-61410888888-1.txt"), "garbage\n");
  r = Admin("reports --summary");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output,
            "bluetrace-admin: reports/20200515T000000Z-61410888888-1.txt: not a contact check "
            "report (no title line)\n");
  EXPECT_EQ(Admin("reports").exit_code, 0);  // names alone need no header
}

TEST_F(AdminProgramTest, BlockedInJsonAndCsv) {
  const auto until = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() +
                     600;
  WriteFileForTest(dir_.File("lockouts.txt"), "+61410888888 3 " + std::to_string(until) + "\n");
  auto r = Admin("blocked --format json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("[\n  {\"user\": \"+61410888888\", \"blocked_until\": \"", 0), 0u)
      << r.output;
  EXPECT_NE(r.output.find("Z\", \"seconds_left\": "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.substr(r.output.size() - 4), "}\n]\n");
  r = Admin("blocked --format csv");
  EXPECT_EQ(r.output.rfind("user,blocked_until,seconds_left\r\n+61410888888,", 0), 0u) << r.output;
  r = Admin("blocked");
  EXPECT_EQ(r.output.rfind("+61410888888 ", 0), 0u) << r.output;
  EXPECT_NE(r.output.find(" s left\n"), std::string::npos);
}

// Under auth.device_lockout a device's failures block "<UserID>#<device>": unblock of the
// UserID lifts those too, and one entry can be lifted by the name `blocked` shows.
TEST_F(AdminProgramTest, UnblockLiftsEveryBlockOfTheUserOrOneDevicesEntry) {
  const auto until = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() +
                     600;
  const std::string u = " 3 " + std::to_string(until) + "\n";
  WriteFileForTest(dir_.File("lockouts.txt"), "+61410888888" + u + "+61410888888#d1" + u +
                                                  "+61410888888#d2" + u + "+61410777777#d3" + u);
  auto r = Admin("unblock +61410777777#d3");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "unblocked +61410777777#d3\n");
  r = Admin("unblock +61-410-888-888");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "unblocked +61410888888\nunblocked +61410888888#d1\nunblocked +61410888888#d2\n");
  EXPECT_EQ(Admin("blocked").output, "no user is blocked\n");
  const std::string audit = Audit();
  EXPECT_NE(audit.find(" admin_unblocked user=+61410888888%23d2 by="), std::string::npos) << audit;
}

TEST_F(AdminProgramTest, AuditPrintsUtcTimesFiltersAndChangesNothing) {
  ASSERT_EQ(Admin("migrate-credentials").exit_code, 0);
  ASSERT_EQ(Admin("user add +61400000123 --password-file " + ShellQuoteForTest(dir_.File("pw")))
                .exit_code,
            0);
  ASSERT_EQ(Admin("user remove +61400000123").exit_code, 0);
  const std::string before = Audit();
  const auto entries = [this] {
    const std::string dir = ShellQuoteForTest(dir_.path());
    return test::RunCommandForTest("ls -ld --time-style=full-iso " + dir +
                                   " && ls -lA --time-style=full-iso " + dir)
        .output;
  };
  const std::string listing = entries();

  auto r = Admin("audit");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto lines = std::count(r.output.begin(), r.output.end(), '\n');
  EXPECT_EQ(lines, 3) << r.output;
  EXPECT_EQ(r.output.rfind("1 20", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("Z admin_migrated_credentials count=4 by="), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\n2 "), std::string::npos);
  EXPECT_NE(r.output.find("Z admin_user_added user=+61400000123 by="), std::string::npos);
  EXPECT_EQ(r.output.find(before.substr(before.size() - 65, 64)), std::string::npos)
      << "hashes are not shown";

  r = Admin("audit --event admin_user_removed");
  EXPECT_EQ(r.output.rfind("3 ", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1);
  r = Admin("audit --event 'admin_user_*'");
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 2) << r.output;
  r = Admin("audit --event admin_user_added --event admin_migrated_credentials");
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 2) << r.output;
  r = Admin("audit --since 1h");
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 3) << r.output;
  r = Admin("audit --since 2999-01-01");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "no audit record matches\n");

  EXPECT_EQ(Audit(), before);
  EXPECT_EQ(entries(), listing);  // no file changed, created or touched

  // A broken chain: the records before it, then the problem, exit 1.
  std::string tampered = before;
  tampered.replace(tampered.find("admin_user_added user=+61400000123"), 34,
                   "admin_user_added user=+61400000124");
  WriteFileForTest(dir_.File("audit.log"), tampered);
  r = Admin("audit");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output.rfind("1 ", 0), 0u) << r.output;
  EXPECT_EQ(r.output.find("+61400000124"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bluetrace-admin: audit.log line 2: "), std::string::npos) << r.output;
}

TEST_F(AdminProgramTest, AuditPruneLeavesAnAnchoredChainThatVerifyAccepts) {
  {
    // Three records of 2023-11-14 and one of 2023-11-16, written as the server would.
    util::ManualClock clock(1'700'000'000);
    auto log = store::AuditLog::Open(store::PosixFileSystem::Instance(), clock,
                                     dir_.File("audit.log"), dir_.File(".lock-audit"));
    ASSERT_TRUE(log.ok());
    for (const char* user : {"+61410000001", "+61410000002", "+61410000003"}) {
      ASSERT_TRUE((*log)->Append("login_ok", {{"user", user}}).ok());
    }
    clock.AdvanceSeconds(2 * 86400);
    ASSERT_TRUE((*log)->Append("login_ok", {{"user", "+61410000004"}}).ok());
  }
  ASSERT_EQ(Admin("migrate-credentials").exit_code, 0);  // record 5, now
  const std::string before = Audit();

  auto r = Admin("audit prune");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("audit.retention is 0"), std::string::npos) << r.output;
  r = Admin("audit prune --before 2h");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("less than a day ago"), std::string::npos) << r.output;
  r = Admin("audit prune --before yesterday");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(Audit(), before);

  r = Admin("audit prune --before 2023-11-15");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "pruned 3 audit records before 2023-11-15T00:00:00Z; the chain runs on from anchor "
            "record 3\n");
  r = Admin("verify");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("(audit chain of 3 records holds; chain from record 4, anchored)\n"),
            std::string::npos)
      << r.output;
  r = Admin("audit");
  EXPECT_EQ(r.output.rfind("3 20", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("Z audit_pruned before=1700006400 records=3 by="), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\n4 2023-11-16T22:13:20Z login_ok user=+61410000004\n"),
            std::string::npos)
      << r.output;

  // With audit.retention in the configuration; nothing more is old enough.
  WriteFileForTest(dir_.File("fast.toml"),
                   ReadFileForTest(dir_.File("fast.toml")) + "[audit]\nretention = 86400\n");
  r = Admin("audit prune");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("pruned 1 audit record before ", 0), 0u) << r.output;
  ASSERT_EQ(Admin("verify").exit_code, 0);

  // Tampering with the anchor after the prune is named.
  std::string audit = Audit();
  audit.replace(audit.find("records=1"), 9, "records=7");
  WriteFileForTest(dir_.File("audit.log"), audit);
  r = Admin("verify");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("audit.log line 1: "), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bluetrace
