// PgTempIdStore beyond the shared contract: the bound on draws, the counters, many ids in
// one LookupAll, and records stored as the file format would write them.
#include "bluetrace/store/postgres/pg_tempid_store.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "support/fake_random.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using protocol::TempId;
using protocol::TempIdRecord;

class PgTempIdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& server = test::SharedPostgresServerForTest();
    ASSERT_TRUE(server.ok()) << server.error();
    const std::string db = server.CreateFreshDatabase();
    ASSERT_FALSE(db.empty());
    PgPoolOptions options;
    options.connection.conninfo = server.ConnectionString(db);
    auto conn = PgConnection::Open(options.connection);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    auto v =
        ApplyMigrations(**conn, PosixFileSystem::Instance(), test::SourcePath("packaging/sql"));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    auto pool = PgPool::Open(options);
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    pool_ = std::move(pool).value();
  }

  std::unique_ptr<PgTempIdStore> Open(PgTempIdStoreOptions options = {}) {
    auto store = PgTempIdStore::Open(*pool_, clock_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  util::ManualClock clock_{1'600'000'000};
  std::unique_ptr<PgPool> pool_;
};

TEST_F(PgTempIdStoreTest, BadOptionsAreRefused) {
  EXPECT_EQ(PgTempIdStore::Open(*pool_, clock_, {.retention_seconds = -1}).status().code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(PgTempIdStore::Open(*pool_, clock_, {.max_issue_attempts = 0}).status().code(),
            util::StatusCode::kInvalidArgument);
}

TEST_F(PgTempIdStoreTest, GivesUpAfterMaxIssueAttemptsTakenDraws) {
  auto store = Open({.max_issue_attempts = 3});
  ASSERT_TRUE(store);
  const std::int64_t now = clock_.NowUnixSeconds();
  test::ScriptedRandom same(std::vector<std::uint8_t>(20 * 4, 5));  // always "5555..."
  ASSERT_TRUE(store->Issue("+61410000001", now, now + 10, same).ok());
  auto again = store->Issue("+61410000002", now, now + 10, same);
  EXPECT_EQ(again.status().code(), util::StatusCode::kResourceExhausted);
  EXPECT_EQ(same.consumed(), 20u * 4);
  EXPECT_EQ(store->size(), 1u);
  const TempIdStoreStats stats = store->stats();
  EXPECT_EQ(stats.records_appended, 1u);
  EXPECT_EQ(stats.syncs, 1u);
}

TEST_F(PgTempIdStoreTest, LookupAllOfManyIdsAnswersInOrder) {
  auto store = Open();
  ASSERT_TRUE(store);
  const std::int64_t now = clock_.NowUnixSeconds();
  test::SeededRandom random(3);
  std::vector<TempId> ids;
  std::vector<std::string> users;
  for (int i = 0; i < 300; ++i) {
    users.push_back("+614100" + std::to_string(10000 + i));
    auto r = store->Issue(users.back(), now, now + 10, random);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ids.push_back(r->id);
    ids.push_back(TempId::FromInteger(static_cast<protocol::TempIdInteger>(i)));  // unknown
  }
  auto found = store->LookupAll(ids);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  const auto& records = *found;
  ASSERT_EQ(records.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); i += 2) {
    ASSERT_TRUE(records[i].has_value()) << i;
    EXPECT_EQ(records[i]->user, users[i / 2]);
    EXPECT_FALSE(records[i + 1].has_value()) << i + 1;
  }
  EXPECT_TRUE(store->LookupAll({})->empty());
}

TEST_F(PgTempIdStoreTest, RecordsTheFileFormatCannotHoldAreRefused) {
  auto store = Open();
  ASSERT_TRUE(store);
  const TempId id = *TempId::Parse("12345678901234567890");
  // Not canonical, and a year beyond the format's four digits.
  EXPECT_EQ(store->Append({"61410000001", id, 0, 10}).code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Append({"+61410000001", id, 0, 400'000'000'000}).code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_TRUE(store->health().ok());
}

}  // namespace
}  // namespace bluetrace::store
