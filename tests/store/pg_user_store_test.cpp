// PgUserStore beyond the shared contract: what a broken row and an absent database give.
#include "bluetrace/store/postgres/pg_user_store.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/fake_random.hpp"
#include "support/postgres_server.hpp"

namespace bluetrace::store {
namespace {

constexpr Argon2Params kFast{.memory_kib = 8, .iterations = 1, .parallelism = 1};

class PgUserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::FreshPgDatabase::Create();
    ASSERT_TRUE(db_);
    PgPool* pool = db_->NewPool();
    ASSERT_NE(pool, nullptr);
    auto users = PgUserStore::Open(*pool, kFast, random_);
    ASSERT_TRUE(users.ok()) << users.status().ToString();
    users_ = std::move(users).value();
  }

  std::unique_ptr<test::FreshPgDatabase> db_;
  test::SeededRandom random_{7};
  std::unique_ptr<PgUserStore> users_;
};

TEST_F(PgUserStoreTest, OnlyTheHashIsStored) {
  ASSERT_TRUE(users_->AddUser("+61 410 000 001", "first secret").ok());
  auto res = db_->conn().Exec("read", "SELECT phone, secret FROM users");
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->rows(), 1);
  EXPECT_EQ(res->Get(0, 0), "+61410000001");
  EXPECT_EQ(res->Get(0, 1).rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << res->Get(0, 1);
}

TEST_F(PgUserStoreTest, AStoredSecretThatIsNoHashIsAnErrorNotAWrongPassword) {
  ASSERT_TRUE(db_->conn()
                  .Exec("insert", "INSERT INTO users (phone, secret) VALUES ($1, $2)",
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
  db_->CloseConnection();
  // DROP DATABASE takes no parameters; the name is "t_<n>".
  ASSERT_TRUE((*admin)->ExecScript("drop", "DROP DATABASE " + db_->name() + " WITH (FORCE)").ok());
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
