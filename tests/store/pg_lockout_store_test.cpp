// PgLockoutStore beyond the shared contract: several server instances (one pool each)
// counting at once, and the bound on names that are no account.
#include "bluetrace/store/postgres/pg_lockout_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/postgres_server.hpp"

namespace bluetrace::store {
namespace {

class PgLockoutStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::FreshPgDatabase::Create();
    ASSERT_TRUE(db_);
  }

  // Another server instance: its own pool and store.
  std::unique_ptr<PgLockoutStore> OpenInstance(const LockoutPolicy& policy) {
    PgPool* pool = db_->NewPool();
    if (pool == nullptr) return nullptr;
    auto store = PgLockoutStore::Open(*pool, policy, clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::int64_t Count(const std::string& where) {
    auto res = db_->conn().Exec("count", "SELECT count(*) FROM lockouts WHERE " + where);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res->GetInt(0, 0) : -1;
  }

  std::unique_ptr<test::FreshPgDatabase> db_;
  util::ManualClock clock_{1'600'000'000};
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
