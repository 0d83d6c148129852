// The reporting service on the PostgreSQL backend (storage.backend = "postgres"), driven
// through protocol Sessions against a real throwaway PostgreSQL: the schema-version check
// at start-up, a whole session, two instances sharing one lockout, and a database that
// goes away (Busy, nothing acknowledged) and comes back (served again, by itself).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bluetrace/protocol/upload.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "bluetrace/store/postgres/pg_connection.hpp"
#include "service_harness.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

using namespace bluetrace::protocol;  // NOLINT: message types read best unqualified
using test::Call;
using test::LoginMsg;
using test::Only;

constexpr char kUser[] = "+61410000001";
constexpr char kPassword[] = "correct horse";

class PostgresServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fresh_ = test::FreshPgDatabase::Create(/*migrate=*/false);
    ASSERT_NE(fresh_, nullptr);
    db_ = fresh_->name();
    conninfo_ = fresh_->conninfo();
    fresh_->CloseConnection();  // this test ends and reopens its own
    auto conn = store::PgConnection::Open({.conninfo = conninfo_});
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    auto admin = store::PgConnection::Open(
        {.conninfo = test::SharedPostgresServerForTest().ConnectionString("postgres")});
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::move(admin).value();
  }

  void Migrate() {
    auto v = store::ApplyMigrations(*conn_, store::PosixFileSystem::Instance(),
                                    test::SourcePath("packaging/sql"));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
  }

  // A harness whose service runs on this test's database.
  std::unique_ptr<test::ServiceHarness> Instance() {
    auto h = std::make_unique<test::ServiceHarness>();
    h->config.storage_backend = "postgres";
    h->config.postgres_conninfo = conninfo_;
    h->config.postgres_acquire_timeout_ms = 500;
    h->config.postgres_connect_timeout = 2;
    return h;
  }

  std::unique_ptr<Session> Greeted(test::ServiceHarness& h, const std::string& peer = "127.0.0.1") {
    auto s = h.NewSession(peer);
    Only<HelloOk>(Call(*s, Hello{1, 2, "test"}));
    return s;
  }

  std::unique_ptr<Session> LoggedIn(test::ServiceHarness& h) {
    auto s = Greeted(h);
    Only<Welcome>(Call(*s, LoginMsg(kUser, kPassword)));
    return s;
  }

  SessionReply Upload(Session& s, const std::string& text) {
    SessionReply last;
    for (auto& m : SplitUpload(text, 4096)) last = Call(s, std::move(m));
    return last;
  }

  std::int64_t Count(const std::string& table) {
    auto res = conn_->Exec("count", "SELECT count(*) FROM " + table);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res->GetInt(0, 0) : -1;
  }

  // Makes the database unreachable for everyone (connections in use are ended, new ones
  // refused), or reachable again.
  void SetDatabaseReachable(bool reachable) {
    conn_.reset();
    ASSERT_TRUE(admin_
                    ->Exec("allow connections", "ALTER DATABASE " + db_ + " ALLOW_CONNECTIONS " +
                                                    (reachable ? "true" : "false"))
                    .ok());
    if (!reachable) {
      auto ended = admin_->Exec("end connections",
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                                {db_});
      ASSERT_TRUE(ended.ok()) << ended.status().ToString();
      return;
    }
    auto conn = store::PgConnection::Open({.conninfo = conninfo_});
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
  }

  std::unique_ptr<test::FreshPgDatabase> fresh_;
  std::string db_;
  std::string conninfo_;
  std::unique_ptr<store::PgConnection> conn_;
  std::unique_ptr<store::PgConnection> admin_;
};

TEST_F(PostgresServiceTest, ADatabaseWithoutTheSchemaIsRefusedSayingWhatToRun) {
  auto h = Instance();
  util::Status st = h->Open();
  EXPECT_EQ(st.code(), util::StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("has no bluetrace schema"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("bluetrace-admin db migrate"), std::string::npos) << st.ToString();
}

TEST_F(PostgresServiceTest, ANewerSchemaIsRefusedNamingBothVersions) {
  Migrate();
  const int newer = store::kSchemaVersion + 1;
  ASSERT_TRUE(conn_
                  ->Exec("fake a newer schema",
                         "INSERT INTO schema_version (version, name) VALUES ($1::integer, 'x')",
                         {std::to_string(newer)})
                  .ok());
  auto h = Instance();
  util::Status st = h->Open();
  EXPECT_EQ(st.code(), util::StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("schema version " + std::to_string(newer)), std::string::npos)
      << st.ToString();
  EXPECT_NE(st.message().find("upgrade bluetrace-server"), std::string::npos) << st.ToString();
}

TEST_F(PostgresServiceTest, AWholeSessionRegistersIssuesAndChecksInTheDatabase) {
  Migrate();
  auto h = Instance();
  ASSERT_TRUE(h->Open().ok());
  auto s = Greeted(*h);
  EXPECT_EQ(
      Only<RegisterOk>(Call(*s, Register{"+61 410 000 001", util::SecretString(kPassword)})).user,
      kUser);
  Only<Welcome>(Call(*s, LoginMsg(kUser, kPassword)));
  auto t = Only<TempIdResponse>(Call(*s, TempIdRequest{}));
  EXPECT_EQ(Count("tempids WHERE tempid = '" + t.id.ToString() + "'"), 1);  // before the reply

  const std::string log = t.id.ToString() + " " +
                          FormatTimestamp(t.start_unix, TimeZoneMode::kUtc) + " " +
                          FormatTimestamp(t.expiry_unix, TimeZoneMode::kUtc) + "\n" +
                          "00000000000000000001 13/05/2020 17:45:06 13/05/2020 18:00:05\n";
  EXPECT_EQ(Only<UploadAck>(Upload(*s, log)).entries_received, 2u);
  EXPECT_EQ(Count("reports"), 1);
  auto report = conn_->Exec("report", "SELECT text FROM reports");
  ASSERT_TRUE(report.ok());
  const std::string text(report->Get(0, 0));
  EXPECT_NE(text.find("matched: 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown: 1\n"), std::string::npos) << text;
  EXPECT_NE(h->console.Text().find("Contact log checking\n" + std::string(kUser) + ",\n"),
            std::string::npos)
      << h->console.Text();
}

TEST_F(PostgresServiceTest, TwoInstancesCountFailuresTogether) {
  Migrate();
  auto a = Instance();
  auto b = Instance();
  ASSERT_TRUE(a->Open().ok());
  ASSERT_TRUE(b->Open().ok());
  auto s = Greeted(*a);
  Only<RegisterOk>(Call(*s, Register{kUser, util::SecretString(kPassword)}));
  EXPECT_EQ(Only<WrongPassword>(Call(*s, LoginMsg(kUser, "wrong 1"))).attempts_left, 2);
  EXPECT_EQ(Only<WrongPassword>(Call(*Greeted(*b, "127.0.0.2"), LoginMsg(kUser, "wrong 2")))
                .attempts_left,
            1);
  EXPECT_EQ(Only<Blocked>(Call(*Greeted(*a), LoginMsg(kUser, "wrong 3"))).block_seconds, 60u);
  // The right password, on either instance: blocked.
  EXPECT_GT(Only<StillBlocked>(Call(*Greeted(*b), LoginMsg(kUser, kPassword))).seconds_left, 0u);
  EXPECT_GT(Only<StillBlocked>(Call(*Greeted(*a), LoginMsg(kUser, kPassword))).seconds_left, 0u);
}

TEST_F(PostgresServiceTest, ADatabaseThatGoesAwayGetsBusyAndIsUsedAgainWhenItReturns) {
  Migrate();
  auto h = Instance();
  ASSERT_TRUE(h->Open().ok());
  auto s = Greeted(*h);
  Only<RegisterOk>(Call(*s, Register{kUser, util::SecretString(kPassword)}));
  Only<Welcome>(Call(*s, LoginMsg(kUser, kPassword)));
  auto t = Only<TempIdResponse>(Call(*s, TempIdRequest{}));

  SetDatabaseReachable(false);
  // Every request that needs the database is answered Busy (retry later), none hangs.
  EXPECT_GT(Only<Busy>(Call(*s, TempIdRequest{})).retry_after_ms, 0u);
  const std::string log = t.id.ToString() + " " +
                          FormatTimestamp(t.start_unix, TimeZoneMode::kUtc) + " " +
                          FormatTimestamp(t.expiry_unix, TimeZoneMode::kUtc) + "\n";
  Only<Busy>(Upload(*s, log));  // not acknowledged, and no contact read as unknown
  Only<Busy>(Call(*Greeted(*h), LoginMsg(kUser, kPassword)));
  Only<Busy>(Call(*Greeted(*h), Register{"+61410000002", util::SecretString(kPassword)}));
  EXPECT_EQ(h->service->stats().uploads.load(), 0u);
  EXPECT_GE(h->service->stats().store_unavailable.load(), 4u);
  EXPECT_FALSE(h->service->tempids().health().ok());

  SetDatabaseReachable(true);
  EXPECT_TRUE(h->service->tempids().health().ok());
  Only<TempIdResponse>(Call(*s, TempIdRequest{}));
  EXPECT_EQ(Only<UploadAck>(Upload(*s, log)).entries_received, 1u);
  Only<Welcome>(Call(*Greeted(*h), LoginMsg(kUser, kPassword)));
  EXPECT_EQ(Count("reports"), 1);
  EXPECT_EQ(Count("tempids"), 2);
}

}  // namespace
}  // namespace bluetrace::service
