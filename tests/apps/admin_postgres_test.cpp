// The real bluetrace-admin and bluetrace-server on the PostgreSQL backend: the admin's
// user and lockout commands work on the database, and a running server sees their changes
// at once (no reload), as every other instance would. Loopback only; every wait bounded.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/postgres/pg_audit_trail.hpp"
#include "bluetrace/store/postgres/pg_connection.hpp"
#include "support/postgres_server.hpp"
#include "support/run_command.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace {
namespace {

using namespace std::chrono_literals;
using namespace protocol;  // NOLINT
using test::ShellQuoteForTest;
using test::WriteFileForTest;

constexpr auto kWait = 20s;

class AdminPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::FreshPgDatabase::Create(/*migrate=*/false);
    ASSERT_NE(db_, nullptr);
    conn_ = &db_->conn();
    WriteFileForTest(dir_.File("pg.toml"),
                     "[server]\nbind_address = \"127.0.0.1\"\n"
                     "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n"
                     "[storage]\nbackend = \"postgres\"\n"
                     "[postgres]\nconninfo = \"" +
                         db_->conninfo() + "\"\n");
    WriteFileForTest(dir_.File("pw"), "new-password-1\n");
  }

  // The schema as an operator applies it, through the configuration's [postgres].
  void Migrate() {
    auto r =
        Admin("db --sql-dir " + ShellQuoteForTest(test::SourcePath("packaging/sql")) + " migrate");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  test::CommandResult Admin(const std::string& args) {
    return test::RunCommandForTest(ShellQuoteForTest(test::ProgramPath("bluetrace-admin")) +
                                   " --config " + ShellQuoteForTest(dir_.File("pg.toml")) +
                                   " --state-dir " + ShellQuoteForTest(dir_.path()) + " " + args +
                                   " </dev/null");
  }

  std::unique_ptr<test::ServerProcess> Start() {
    auto p = std::make_unique<test::ServerProcess>(
        test::ProgramPath("bluetrace-server"), dir_.path(),
        std::vector<std::string>{"0", "600", "--config", "pg.toml", "--ready-file", "ready",
                                 "--no-console"});
    port_ = p->WaitReady(dir_.File("ready"), kWait);
    return p;
  }

  Message Login(const std::string& user, const std::string& password) {
    auto c = net::ClientConnection::Connect(
        "127.0.0.1", port_, net::TlsClientOptions{dir_.File("server.crt"), "127.0.0.1", "1.3"},
        net::ClientConnectOptions{});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return Error{};
    EXPECT_TRUE((*c)->Call(Hello{1, 1, "test"}, kWait).ok());
    auto r = (*c)->Call(protocol::Login{user, util::SecretString(password)}, kWait);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : Message(Error{});
  }

  std::string Query(const std::string& sql) {
    auto res = conn_->Exec("query", sql);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    std::string out;
    if (!res.ok()) return out;
    for (int i = 0; i < res->rows(); ++i) out += std::string(res->Get(i, 0)) + "\n";
    return out;
  }

  test::TempDir dir_;
  std::unique_ptr<test::FreshPgDatabase> db_;
  store::PgConnection* conn_ = nullptr;
  std::uint16_t port_ = 0;
};

TEST_F(AdminPostgresTest, AnUnmigratedDatabaseIsRefusedByBothProgramsSayingWhatToRun) {
  auto r = Admin("user add +61410000001 --password-file " + ShellQuoteForTest(dir_.File("pw")));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("bluetrace-admin db migrate"), std::string::npos) << r.output;
  test::ServerProcess server(test::ProgramPath("bluetrace-server"), dir_.path(),
                             {"--config", "pg.toml", "--port", "0", "--no-console"});
  EXPECT_NE(server.WaitExit(kWait), 0);
  EXPECT_NE(server.Stderr().find("has no bluetrace schema"), std::string::npos) << server.Stderr();
}

TEST_F(AdminPostgresTest, UsersAddedAndUnblockedByTheAdminCountAtOnceOnARunningServer) {
  Migrate();
  auto server = Start();
  ASSERT_NE(port_, 0) << server->Stderr();

  auto added =
      Admin("user add +61-410-000-001 --password-file " + ShellQuoteForTest(dir_.File("pw")));
  ASSERT_EQ(added.exit_code, 0) << added.output;
  EXPECT_EQ(Query("SELECT phone FROM users"), "+61410000001\n");
  EXPECT_TRUE(std::holds_alternative<Welcome>(Login("+61410000001", "new-password-1")));

  EXPECT_TRUE(std::holds_alternative<WrongPassword>(Login("+61410000001", "wrong-1")));
  EXPECT_TRUE(std::holds_alternative<WrongPassword>(Login("+61410000001", "wrong-2")));
  EXPECT_TRUE(std::holds_alternative<Blocked>(Login("+61410000001", "wrong-3")));
  auto listed = Admin("blocked");
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("+61410000001 "), std::string::npos) << listed.output;

  auto unblocked = Admin("unblock +61410000001");
  ASSERT_EQ(unblocked.exit_code, 0) << unblocked.output;
  // At once: the server reads the database, there is nothing to reload.
  EXPECT_TRUE(std::holds_alternative<Welcome>(Login("+61410000001", "new-password-1")));
  EXPECT_EQ(Admin("blocked").output, "no user is blocked\n");

  auto removed = Admin("user remove +61410000001");
  ASSERT_EQ(removed.exit_code, 0) << removed.output;
  EXPECT_TRUE(std::holds_alternative<WrongPassword>(Login("+61410000001", "new-password-1")));

  // The admin's changes are in the database's audit chain, with who made them, never a
  // password; nothing was written to the state directory's files.
  const std::string events = Query("SELECT event || ' ' || fields FROM audit ORDER BY seq");
  for (const char* e : {"admin_user_added user=+61410000001 by=", "admin_unblocked user=",
                        "admin_user_removed user=+61410000001 by="}) {
    EXPECT_NE(events.find(e), std::string::npos) << e << "\n" << events;
  }
  EXPECT_EQ(events.find("new-password-1"), std::string::npos);
  EXPECT_FALSE(*store::PosixFileSystem::Instance().Exists(dir_.File("credentials.txt")));
  EXPECT_FALSE(*store::PosixFileSystem::Instance().Exists(dir_.File("audit.log")));

  auto verified = Admin("verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(verified.output.find("schema version"), std::string::npos) << verified.output;
  auto reports = Admin("reports");
  EXPECT_EQ(reports.exit_code, 0) << reports.output;
  EXPECT_EQ(reports.output, "no reports\n");
  EXPECT_EQ(server->Stop(), 0) << server->Stderr();
}

// Withdrawal of consent and upload codes on the database: `user remove` deletes the
// account's TempIDs at once (every instance sees it), `code issue` needs the shared key
// file named, and stores only the digest.
TEST_F(AdminPostgresTest, UserRemoveDeletesTheTempIdsAndCodeIssueStoresOnlyADigest) {
  Migrate();
  ASSERT_EQ(Admin("user add +61410000001 --password-file " + ShellQuoteForTest(dir_.File("pw")))
                .exit_code,
            0);
  ASSERT_TRUE(conn_
                  ->Exec("tempid",
                         "SELECT bluetrace_insert_tempids(ARRAY[$1]::bpchar[], ARRAY[$2], "
                         "ARRAY[$3::bigint], ARRAY[$4::bigint])",
                         {"12345678901234567890", "+61410000001", "1600000000", "1600000899"})
                  .ok());
  // Without upload.code_key_file the database backend refuses to issue codes.
  auto refused = Admin("code issue +61410000001");
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("upload.code_key_file"), std::string::npos) << refused.output;
  WriteFileForTest(dir_.File("pg.toml"), test::ReadFileForTest(dir_.File("pg.toml")) +
                                             "[upload]\ncode_key_file = \"" +
                                             dir_.File("shared.key") + "\"\n");
  auto issued = Admin("code issue +61410000001");
  ASSERT_EQ(issued.exit_code, 0) << issued.output;
  EXPECT_NE(issued.output.find("upload code for +61410000001: "), std::string::npos);
  const std::string digest = Query("SELECT digest FROM upload_codes");
  EXPECT_EQ(digest.size(), 65u) << digest;  // 64 hex digits and the newline

  auto removed = Admin("user remove +61410000001");
  ASSERT_EQ(removed.exit_code, 0) << removed.output;
  EXPECT_NE(removed.output.find("removed +61410000001 and 1 TempID\n"), std::string::npos)
      << removed.output;
  EXPECT_EQ(Query("SELECT count(*) FROM tempids"), "0\n");
  EXPECT_EQ(Query("SELECT count(*) FROM users"), "0\n");
  EXPECT_EQ(Query("SELECT count(*) FROM upload_codes"), "0\n");
  EXPECT_NE(Query("SELECT event || ' ' || fields FROM audit ORDER BY seq")
                .find("admin_user_removed user=+61410000001 by="),
            std::string::npos);
}

// `audit prune` on the database's chain: the old rows go, the anchor names the operator.
TEST_F(AdminPostgresTest, AuditPruneDropsTheOldRowsBehindAnAnchor) {
  Migrate();
  {
    util::ManualClock clock(1'700'000'000);  // 2023-11-14, as a server then would have
    auto trail = store::PgAuditTrail::Open(*db_->NewPool(), clock);
    ASSERT_TRUE(trail->Record("login_ok", {{"user", "+61410000001"}}).ok());
    ASSERT_TRUE(trail->Record("login_ok", {{"user", "+61410000002"}}).ok());
  }
  auto r = Admin("user add +61410999999 --password-file " + ShellQuoteForTest(dir_.File("pw")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Admin("audit prune --before 1h");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = Admin("audit prune --before 2023-11-15");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "pruned 2 audit records before 2023-11-15T00:00:00Z; the chain runs on from anchor "
            "record 2\n");
  const std::string events = Query(
      "SELECT seq || ' ' || event || ' ' || fields FROM audit "
      "ORDER BY seq");
  EXPECT_EQ(events.rfind("2 audit_pruned before=1700006400 records=2 by=", 0), 0u) << events;
  EXPECT_NE(events.find("\n3 admin_user_added user=+61410999999 by="), std::string::npos) << events;
  r = Admin("audit prune --before 2023-11-15");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "no audit record before 2023-11-15T00:00:00Z\n");
}

}  // namespace
}  // namespace bluetrace
