// PgConnection, PgPool and the migrations, against a throwaway PostgreSQL cluster.
#include "bluetrace/store/postgres/pg_connection.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <memory>
#include <string>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "bluetrace/store/postgres/pg_pool.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using test::SharedPostgresServerForTest;

class PgConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& server = SharedPostgresServerForTest();
    ASSERT_TRUE(server.ok()) << server.error();
    const std::string db = server.CreateFreshDatabase();
    ASSERT_FALSE(db.empty());
    options_.conninfo = server.ConnectionString(db);
  }

  std::unique_ptr<PgConnection> Connect() {
    auto conn = PgConnection::Open(options_);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(conn).value() : nullptr;
  }

  PgOptions options_;
};

TEST_F(PgConnectionTest, ParametersTravelApartFromTheSql) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  const std::string hostile = "x'); DROP TABLE t; --";
  ASSERT_TRUE(conn->ExecScript("create", "CREATE TABLE t (k text PRIMARY KEY, v bigint)").ok());
  auto ins = conn->Exec("insert", "INSERT INTO t VALUES ($1, $2), ($3, NULL)",
                        {hostile, std::string("42"), std::string("b")});
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  EXPECT_EQ(ins->affected_rows(), 2u);
  auto sel = conn->Exec("select", "SELECT k, v FROM t WHERE k = $1", {hostile});
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  ASSERT_EQ(sel->rows(), 1);
  EXPECT_EQ(sel->Get(0, 0), hostile);
  EXPECT_EQ(*sel->GetInt(0, 1), 42);
  auto null = conn->Exec("select null", "SELECT v FROM t WHERE k = $1", {std::string("b")});
  ASSERT_TRUE(null.ok());
  EXPECT_TRUE(null->IsNull(0, 0));
  auto pnull = conn->Exec("null parameter", "SELECT $1::text IS NULL", {std::nullopt});
  ASSERT_TRUE(pnull.ok());
  EXPECT_EQ(pnull->Get(0, 0), "t");
}

TEST_F(PgConnectionTest, ErrorsNameTheStatementAndTheSqlState) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->ExecScript("create", "CREATE TABLE t (k text PRIMARY KEY)").ok());
  ASSERT_TRUE(conn->Exec("insert", "INSERT INTO t VALUES ($1)", {std::string("a")}).ok());
  auto dup = conn->Exec("insert again", "INSERT INTO t VALUES ($1)", {std::string("a")});
  EXPECT_EQ(dup.status().code(), util::StatusCode::kAlreadyExists);
  EXPECT_NE(dup.status().message().find("insert again: SQLSTATE 23505"), std::string::npos)
      << dup.status().ToString();
  auto missing = conn->Exec("read", "SELECT * FROM nowhere");
  EXPECT_EQ(missing.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("42P01"), std::string::npos);
  EXPECT_TRUE(conn->healthy());
}

TEST_F(PgConnectionTest, AStatementOverItsTimeoutIsCancelledAsUnavailable) {
  options_.statement_timeout = std::chrono::milliseconds(100);
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  auto slow = conn->Exec("sleep", "SELECT pg_sleep(5)");
  EXPECT_EQ(slow.status().code(), util::StatusCode::kUnavailable);
  EXPECT_NE(slow.status().message().find("57014"), std::string::npos) << slow.status().ToString();
  EXPECT_TRUE(conn->Exec("after", "SELECT 1").ok());  // the connection stays usable
}

TEST(PgOptionsTest, OnlyUnixSocketsAndLoopbackAreAccepted) {
  PgOptions o;
  for (const char* ok : {"host=/tmp/x dbname=d", "host=localhost", "host=127.0.0.1,::1",
                         "hostaddr=127.0.0.1 port=5433", "dbname=d"}) {
    o.conninfo = ok;
    EXPECT_TRUE(ValidatePgOptions(o).ok()) << ok;
  }
  for (const char* bad :
       {"host=db.example.org", "host=/tmp/x,10.0.0.1", "hostaddr=10.1.2.3", "host='unterminated"}) {
    o.conninfo = bad;
    EXPECT_EQ(ValidatePgOptions(o).code(), util::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PgOptionsTest, ARemoteHostIsAcceptedOnlyWithVerifyFull) {
  PgOptions o;
  for (const char* ok : {"host=db.example.org sslmode=verify-full sslrootcert=/x/ca.crt",
                         "postgresql://bt@10.0.0.1:5432/bt?sslmode=verify-full"}) {
    o.conninfo = ok;
    EXPECT_TRUE(ValidatePgOptions(o).ok()) << ok;
  }
  for (const char* bad : {"host=db.example.org sslmode=require", "host=10.0.0.1 sslmode=verify-ca",
                          "host=10.0.0.1 sslmode=prefer"}) {
    o.conninfo = bad;
    EXPECT_EQ(ValidatePgOptions(o).code(), util::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PgOptionsTest, APasswordInTheConnectionStringIsRefused) {
  PgOptions o;
  o.conninfo = "host=/tmp/x password=hunter2";
  util::Status st = ValidatePgOptions(o);
  EXPECT_EQ(st.code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().find("hunter2"), std::string::npos) << st.ToString();
  o.conninfo = "host=/tmp/x";
  o.password = "hunter2";  // given apart, as from a password file: fine
  EXPECT_TRUE(ValidatePgOptions(o).ok());
}

TEST(PgOptionsTest, ARemoteHostFromTheEnvironmentIsRefusedToo) {
  const char* saved = getenv("PGHOST");
  const std::string saved_value = saved != nullptr ? saved : "";
  ASSERT_EQ(setenv("PGHOST", "db.example.org", 1), 0);
  PgOptions o;
  o.conninfo = "dbname=d";
  EXPECT_EQ(ValidatePgOptions(o).code(), util::StatusCode::kInvalidArgument);
  o.conninfo = "host=/tmp/x dbname=d";  // the string wins over the environment
  EXPECT_TRUE(ValidatePgOptions(o).ok());
  if (saved != nullptr) {
    setenv("PGHOST", saved_value.c_str(), 1);
  } else {
    unsetenv("PGHOST");
  }
}

TEST_F(PgConnectionTest, APoolHandsOutAtMostItsSizeAndWaitsOnlyUntilItsDeadline) {
  PgPoolOptions po;
  po.connection = options_;
  po.size = 2;
  po.acquire_timeout = std::chrono::milliseconds(50);
  auto pool = PgPool::Open(po);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  {
    auto a = (*pool)->Acquire();
    auto b = (*pool)->Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ((*pool)->open_connections(), 2u);
    auto c = (*pool)->Acquire();
    EXPECT_EQ(c.status().code(), util::StatusCode::kUnavailable);
  }
  auto again = (*pool)->Acquire();  // handed back: free again, no new connection
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*pool)->open_connections(), 2u);
  // A connection left inside a transaction is closed, not handed out again.
  ASSERT_TRUE((*again)->ExecScript("begin", "BEGIN").ok());
  { auto gone = std::move(again).value(); }
  EXPECT_EQ((*pool)->open_connections(), 1u);
}

TEST(PgPoolTest, AnUnreachableDatabaseFailsAtOpen) {
  test::TempDir empty;
  PgPoolOptions po;
  po.connection.conninfo = "host=" + empty.path() + " dbname=none";
  EXPECT_EQ(PgPool::Open(po).status().code(), util::StatusCode::kUnavailable);
}

TEST_F(PgConnectionTest, MigrationsApplyOnceInOrderAndRecordTheVersion) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  auto& fs = PosixFileSystem::Instance();
  EXPECT_EQ(*SchemaVersion(*conn), 0);
  const std::string dir = test::SourcePath("packaging/sql");
  auto v = ApplyMigrations(*conn, fs, dir);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  // The build's version is the newest script's: one script per version, numbered from 1.
  auto scripts = fs.ListDir(dir);
  ASSERT_TRUE(scripts.ok());
  const auto count = std::count_if(scripts->begin(), scripts->end(), [](const std::string& f) {
    return f.size() > 4 && f.ends_with(".sql");
  });
  EXPECT_EQ(kSchemaVersion, count);
  EXPECT_EQ(*v, kSchemaVersion);
  EXPECT_EQ(*SchemaVersion(*conn), kSchemaVersion);
  EXPECT_TRUE(CheckSchemaVersion(*conn).ok());
  for (const char* table : {"users", "lockouts", "tempids", "reports", "devices", "audit",
                            "upload_codes", "upload_code_failures", "console_staff",
                            "console_sessions", "contact_status", "upload_codes_issued"}) {
    auto res = conn->Exec("exists", "SELECT to_regclass($1) IS NOT NULL", {std::string(table)});
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res->Get(0, 0), "t") << table;
  }
  auto again = ApplyMigrations(*conn, fs, dir);  // a second instance starting: nothing to do
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, kSchemaVersion);
}

TEST_F(PgConnectionTest, AFailingMigrationIsRolledBackAndANewerDatabaseIsRefused) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  auto& fs = PosixFileSystem::Instance();
  test::TempDir dir;
  test::WriteFileForTest(dir.File("001_a.sql"), "CREATE TABLE a (x int);");
  test::WriteFileForTest(dir.File("002_b.sql"), "CREATE TABLE b (x int); SELECT nonsense;");
  auto v = ApplyMigrations(*conn, fs, dir.path());
  EXPECT_EQ(v.status().code(), util::StatusCode::kFailedPrecondition) << v.status().ToString();
  EXPECT_EQ(*SchemaVersion(*conn), 1);
  auto b = conn->Exec("b", "SELECT to_regclass('b') IS NULL");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->Get(0, 0), "t");  // 002 left nothing behind

  test::TempDir older;
  test::WriteFileForTest(older.File("001_a.sql"), "CREATE TABLE a (x int);");
  test::WriteFileForTest(dir.File("002_b.sql"), "CREATE TABLE b (x int);");
  ASSERT_EQ(*ApplyMigrations(*conn, fs, dir.path()), 2);
  EXPECT_EQ(ApplyMigrations(*conn, fs, older.path()).status().code(),
            util::StatusCode::kFailedPrecondition);

  test::TempDir gap;
  test::WriteFileForTest(gap.File("001_a.sql"), "");
  test::WriteFileForTest(gap.File("003_c.sql"), "");
  EXPECT_EQ(ApplyMigrations(*conn, fs, gap.path()).status().code(),
            util::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bluetrace::store
