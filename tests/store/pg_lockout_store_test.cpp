// PgLockoutStore beyond the shared contract: several server instances (one pool each)
// counting at once, and the bound on names that are no account.
#include "bluetrace/store/postgres/pg_lockout_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

class PgLockoutStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& server = test::SharedPostgresServerForTest();
    ASSERT_TRUE(server.ok()) << server.error();
    const std::string db = server.CreateFreshDatabase();
    ASSERT_FALSE(db.empty());
    conninfo_ = server.ConnectionString(db);
    auto conn = PgConnection::Open({.conninfo = conninfo_});
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    auto v =
        ApplyMigrations(*conn_, PosixFileSystem::Instance(), test::SourcePath("packaging/sql"));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
  }

  // Another server instance: its own pool and store.
  std::unique_ptr<PgLockoutStore> OpenInstance(const LockoutPolicy& policy) {
    PgPoolOptions options;
    options.connection.conninfo = conninfo_;
    auto pool = PgPool::Open(options);
    EXPECT_TRUE(pool.ok()) << pool.status().ToString();
    if (!pool.ok()) return nullptr;
    pools_.push_back(std::move(pool).value());
    auto store = PgLockoutStore::Open(*pools_.back(), policy, clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::int64_t Count(const std::string& where) {
    auto res = conn_->Exec("count", "SELECT count(*) FROM lockouts WHERE " + where);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res->GetInt(0, 0) : -1;
  }

  util::ManualClock clock_{1'600'000'000};
  std::string conninfo_;
  std::unique_ptr<PgConnection> conn_;
  std::vector<std::unique_ptr<PgPool>> pools_;
};

TEST_F(PgLockoutStoreTest, FailuresFromManyInstancesAtOnceBlockAtExactlyTheMaxth) {
  constexpr LockoutPolicy kPolicy{.max_failures = 5, .block_seconds = 60};
  std::vector<std::unique_ptr<PgLockoutStore>> instances;
  for (int i = 0; i < 4; ++i) {
    instances.push_back(OpenInstance(kPolicy));
    ASSERT_NE(instances.back(), nullptr);
  }
  std::atomic<int> before_block{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 24; ++i) {
    PgLockoutStore* store = instances[static_cast<std::size_t>(i) % instances.size()].get();
    threads.emplace_back([store, &before_block, &errors] {
      auto r = store->RecordFailure("+61410000001", true);
      if (!r.ok()) {
        ++errors;
      } else if (!r->now_blocked) {
        ++before_block;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(before_block.load(), 4);
  for (const auto& store : instances) EXPECT_EQ(store->Check("+61410000001").seconds_left, 60);
}

TEST_F(PgLockoutStoreTest, OnlyTheMostRecentNamesThatAreNoAccountAreKept) {
  constexpr LockoutPolicy kPolicy{.max_failures = 3, .block_seconds = 60, .max_unknown_entries = 5};
  auto a = OpenInstance(kPolicy);
  auto b = OpenInstance(kPolicy);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->RecordFailure("+61400000000", true).ok());  // an account: never forgotten
  for (int i = 1; i <= 20; ++i) {
    clock_.AdvanceSeconds(1);
    PgLockoutStore& store = i % 2 == 0 ? *a : *b;
    ASSERT_TRUE(store.RecordFailure("+614000000" + std::to_string(10 + i), false).ok());
  }
  EXPECT_EQ(Count("NOT known"), 5);
  EXPECT_EQ(Count("NOT known AND key > '+61400000025'"), 5);  // the newest five
  EXPECT_EQ(Count("known"), 1);
}

TEST_F(PgLockoutStoreTest, ANameKeepsItsCountWhenItBecomesAnAccount) {
  constexpr LockoutPolicy kPolicy{.max_failures = 3, .block_seconds = 60};
  auto store = OpenInstance(kPolicy);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->RecordFailure("+61410000001", false).ok());
  ASSERT_TRUE(store->RecordFailure("+61410000001", false).ok());
  auto third = store->RecordFailure("+61410000001", true);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->now_blocked);
  auto blocked = store->ListBlocked();
  ASSERT_EQ(blocked.size(), 1u);
  EXPECT_TRUE(blocked[0].known);
}

}  // namespace
}  // namespace bluetrace::store
