// PgUserStore beyond the shared contract: what a broken row and an absent database give.
#include "bluetrace/store/postgres/pg_user_store.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "support/fake_random.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

constexpr Argon2Params kFast{.memory_kib = 8, .iterations = 1, .parallelism = 1};

class PgUserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& server = test::SharedPostgresServerForTest();
    ASSERT_TRUE(server.ok()) << server.error();
    db_ = server.CreateFreshDatabase();
    ASSERT_FALSE(db_.empty());
    auto conn = PgConnection::Open({.conninfo = server.ConnectionString(db_)});
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    ASSERT_TRUE(
        ApplyMigrations(*conn_, PosixFileSystem::Instance(), test::SourcePath("packaging/sql"))
            .ok());
    PgPoolOptions options;
    options.connection.conninfo = server.ConnectionString(db_);
    auto pool = PgPool::Open(options);
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    pool_ = std::move(pool).value();
    auto users = PgUserStore::Open(*pool_, kFast, random_);
    ASSERT_TRUE(users.ok()) << users.status().ToString();
    users_ = std::move(users).value();
  }

  std::string db_;
  std::unique_ptr<PgConnection> conn_;
  std::unique_ptr<PgPool> pool_;
  test::SeededRandom random_{7};
  std::unique_ptr<PgUserStore> users_;
};

TEST_F(PgUserStoreTest, OnlyTheHashIsStored) {
  ASSERT_TRUE(users_->AddUser("+61 410 000 001", "first secret").ok());
  auto res = conn_->Exec("read", "SELECT phone, secret FROM users");
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->rows(), 1);
  EXPECT_EQ(res->Get(0, 0), "+61410000001");
  EXPECT_EQ(res->Get(0, 1).rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << res->Get(0, 1);
}

TEST_F(PgUserStoreTest, AStoredSecretThatIsNoHashIsAnErrorNotAWrongPassword) {
  ASSERT_TRUE(conn_
                  ->Exec("insert", "INSERT INTO users (phone, secret) VALUES ($1, $2)",
                         {std::string("+61410000001"), std::string("plaintext")})
                  .ok());
  auto r = users_->Verify("+61410000001", "plaintext");
  EXPECT_EQ(r.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("+61410000001"), std::string::npos);
}

TEST_F(PgUserStoreTest, AnAbsentDatabaseIsUnavailableNeverAnUnknownUser) {
  ASSERT_TRUE(users_->AddUser("+61410000001", "first secret").ok());
  auto admin = PgConnection::Open(
      {.conninfo = test::SharedPostgresServerForTest().ConnectionString("postgres")});
  ASSERT_TRUE(admin.ok());
  conn_.reset();
  // DROP DATABASE takes no parameters; db_ is "t_<n>".
  ASSERT_TRUE((*admin)->ExecScript("drop", "DROP DATABASE " + db_ + " WITH (FORCE)").ok());
  for (int i = 0; i < 2; ++i) {  // the pooled connection, then a new one
    auto r = users_->Verify("+61410000001", "first secret");
    EXPECT_EQ(r.status().code(), util::StatusCode::kUnavailable) << r.status().ToString();
    EXPECT_EQ(users_->AddUser("+61410000002", "second secret").code(),
              util::StatusCode::kUnavailable);
  }
  EXPECT_FALSE(users_->Contains("+61410000001"));
  EXPECT_EQ(users_->size(), 0u);
}

}  // namespace
}  // namespace bluetrace::store
