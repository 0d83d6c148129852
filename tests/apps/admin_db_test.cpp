// The real bluetrace-admin's `db migrate`, `db import` and `db export` against a throwaway
// PostgreSQL cluster (tests/support/postgres_server.hpp), with the original's samples as
// the state directory.
#include <gtest/gtest.h>

#include <string>

#include "bluetrace/store/postgres/migrations.hpp"
#include "support/postgres_server.hpp"
#include "support/run_command.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace {
namespace {

using test::ReadFileForTest;
using test::ShellQuoteForTest;
using test::WriteFileForTest;

class AdminDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::FreshPgDatabase::Create(/*migrate=*/false);
    ASSERT_NE(db_, nullptr);
    conninfo_ = db_->conninfo();
    state_ = dir_.File("state");
    test::RunCommandForTest("mkdir " + ShellQuoteForTest(state_));
    for (const char* f : {"credentials.txt", "tempIDs.txt"}) test::CopyOriginalSample(state_, f);
    WriteFileForTest(dir_.File("fast.toml"),
                     "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n");
  }

  test::CommandResult Db(const std::string& args, const std::string& conninfo = "") {
    return test::RunCommandForTest(
        ShellQuoteForTest(test::ProgramPath("bluetrace-admin")) + " --config " +
        ShellQuoteForTest(dir_.File("fast.toml")) + " db --conninfo " +
        ShellQuoteForTest(conninfo.empty() ? conninfo_ : conninfo) + " --sql-dir " +
        ShellQuoteForTest(test::SourcePath("packaging/sql")) + " " + args + " </dev/null");
  }

  test::TempDir dir_;
  std::unique_ptr<test::FreshPgDatabase> db_;
  std::string conninfo_;
  std::string state_;
};

TEST_F(AdminDbTest, MigrateImportExportRoundTrip) {
  auto r = Db("migrate");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string v = std::to_string(store::kSchemaVersion);
  EXPECT_EQ(r.output, "schema version " + v + " (was 0)\n");
  r = Db("migrate");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "schema version " + v + " (was " + v + ")\n");

  r = Db("import " + ShellQuoteForTest(state_));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "imported 4 users (4 plaintext passwords hashed), 3 TempIDs, 0 lockouts, 0 reports, "
            "0 audit records, 0 staff accounts, 0 contact statuses, 0 upload codes (0 days of "
            "counts), 0 upload code lockouts; 0 lines already in the database\n");

  r = Db("import " + ShellQuoteForTest(state_));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("already holds state (users, tempids)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nothing was imported"), std::string::npos) << r.output;
  r = Db("import --merge " + ShellQuoteForTest(state_));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("imported 0 users"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("; 7 lines already in the database"), std::string::npos) << r.output;

  const std::string out = dir_.File("out");
  r = Db("export " + ShellQuoteForTest(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "exported 4 users, 3 TempIDs, 0 lockouts, 0 reports, 0 audit records, 0 staff "
            "accounts, 0 contact statuses, 0 upload codes (0 days of counts), 0 upload code "
            "lockouts to " +
                out + "\n");
  // The original's TempIDs with LF line ends and a final newline.
  std::string lf;
  for (char c : ReadFileForTest(test::SourcePath("tests/data/original/tempIDs.txt"))) {
    if (c != '\r') lf += c;
  }
  EXPECT_EQ(ReadFileForTest(out + "/tempIDs.txt"), lf + "\n");
  const std::string credentials = ReadFileForTest(out + "/credentials.txt");
  EXPECT_EQ(credentials.rfind("+61410666666 $argon2id$v=19$m=64,t=1,p=1$", 0), 0u) << credentials;
  EXPECT_EQ(credentials.find("kara1234"), std::string::npos);

  // Export writes only into a new or empty directory.
  r = Db("export " + ShellQuoteForTest(out));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("is not empty"), std::string::npos) << r.output;
}

TEST_F(AdminDbTest, ImportNeedsTheSchemaAndUsage) {
  auto r = Db("import " + ShellQuoteForTest(state_));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("bluetrace-admin db migrate"), std::string::npos) << r.output;
  r = Db("import");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = Db("import " + ShellQuoteForTest(dir_.File("missing")));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  r = Db("migrate", "host=db.example.org dbname=x");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("sslmode=verify-full"), std::string::npos) << r.output;
}

// Without --conninfo the database is the configuration's [postgres] section.
TEST_F(AdminDbTest, TheConfigurationNamesTheDatabase) {
  WriteFileForTest(dir_.File("pg.toml"),
                   "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n"
                   "[storage]\nbackend = \"postgres\"\n[postgres]\nconninfo = \"" +
                       conninfo_ + "\"\n");
  const std::string admin = ShellQuoteForTest(test::ProgramPath("bluetrace-admin")) + " --config " +
                            ShellQuoteForTest(dir_.File("pg.toml")) + " db ";
  auto r = test::RunCommandForTest(admin + "--sql-dir " +
                                   ShellQuoteForTest(test::SourcePath("packaging/sql")) +
                                   " migrate 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The configuration may also follow the command.
  r = test::RunCommandForTest(ShellQuoteForTest(test::ProgramPath("bluetrace-admin")) +
                              " db import " + ShellQuoteForTest(state_) + " --config " +
                              ShellQuoteForTest(dir_.File("pg.toml")) + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("imported 4 users"), std::string::npos) << r.output;
  r = test::RunCommandForTest(admin + "export " + ShellQuoteForTest(dir_.File("out")) + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("exported 4 users, 3 TempIDs"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bluetrace
