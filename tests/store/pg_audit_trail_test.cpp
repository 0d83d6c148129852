// PgAuditTrail beyond the shared contract: writers on several instances at once form one
// chain, and healthy() after a failed record.
#include "bluetrace/store/postgres/pg_audit_trail.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bluetrace/util/digest.hpp"
#include "support/postgres_server.hpp"

namespace bluetrace::store {
namespace {

class PgAuditTrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::FreshPgDatabase::Create();
    ASSERT_TRUE(db_);
  }

  // Another server instance: its own pool and trail.
  std::unique_ptr<PgAuditTrail> OpenInstance() {
    PgPool* pool = db_->NewPool();
    if (pool == nullptr) return nullptr;
    return PgAuditTrail::Open(*pool, clock_);
  }

  void Exec(const std::string& sql) {
    auto res = db_->conn().Exec("test", sql);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
  }

  // The number of records, after checking seq and the chain row by row.
  int CheckChain() {
    auto rows = db_->conn().Exec("read",
                                 "SELECT seq, time, event, fields, encode(prev_hash, 'hex'), "
                                 "encode(hash, 'hex') FROM audit ORDER BY seq");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok()) return -1;
    std::string prev(64, '0');
    for (int i = 0; i < rows->rows(); ++i) {
      const std::string seq(rows->Get(i, 0));
      const std::string fields(rows->Get(i, 3));
      EXPECT_EQ(seq, std::to_string(i + 1));
      EXPECT_EQ(rows->Get(i, 4), prev) << seq;
      const std::string body = seq + " " + std::string(rows->Get(i, 1)) + " " +
                               std::string(rows->Get(i, 2)) + (fields.empty() ? "" : " " + fields);
      EXPECT_EQ(rows->Get(i, 5), util::Sha256Hex(prev + " " + body)) << seq;
      prev = std::string(rows->Get(i, 5));
    }
    return rows->rows();
  }

  std::unique_ptr<test::FreshPgDatabase> db_;
  util::ManualClock clock_{1'600'000'000};
};

TEST_F(PgAuditTrailTest, WritersOnSeveralInstancesFormOneChain) {
  auto a = OpenInstance();
  auto b = OpenInstance();
  ASSERT_TRUE(a && b);
  auto write = [](PgAuditTrail* trail, const std::string& who) {
    for (int i = 0; i < 25; ++i) {
      EXPECT_TRUE(trail->Record("login_ok", {{"user", who}, {"n", std::to_string(i)}}).ok());
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(write, a.get(), "+61410000001");
  threads.emplace_back(write, a.get(), "+61410000002");
  threads.emplace_back(write, b.get(), "+61410000003");
  threads.emplace_back(write, b.get(), "+61410000004");
  for (auto& t : threads) t.join();
  EXPECT_EQ(CheckChain(), 100);
}

TEST_F(PgAuditTrailTest, UnhealthyAfterAFailedRecordUntilTheTrailCanBeReadAgain) {
  auto trail = OpenInstance();
  ASSERT_TRUE(trail);
  ASSERT_TRUE(trail->Record("login_ok", {{"user", "+61410000001"}}).ok());
  EXPECT_TRUE(trail->healthy());

  Exec("ALTER TABLE audit RENAME TO audit_away");
  EXPECT_FALSE(trail->Record("login_ok", {{"user", "+61410000002"}}).ok());
  EXPECT_FALSE(trail->healthy());
  // A bad record is the caller's fault, not the trail's: it changes nothing.
  EXPECT_EQ(trail->Record("Bad Event", {}).code(), util::StatusCode::kInvalidArgument);

  Exec("ALTER TABLE audit_away RENAME TO audit");
  EXPECT_FALSE(trail->healthy());  // the next probe is not due yet
  clock_.AdvanceSeconds(PgAuditTrail::kRetryInterval);
  EXPECT_TRUE(trail->healthy());

  ASSERT_TRUE(trail->Record("login_ok", {{"user", "+61410000003"}}).ok());
  EXPECT_EQ(CheckChain(), 2);  // the failed record left nothing behind
}

TEST_F(PgAuditTrailTest, ASuccessfulRecordMakesTheTrailHealthyAtOnce) {
  auto trail = OpenInstance();
  ASSERT_TRUE(trail);
  Exec("ALTER TABLE audit RENAME TO audit_away");
  EXPECT_FALSE(trail->Record("login_ok", {}).ok());
  EXPECT_FALSE(trail->healthy());
  Exec("ALTER TABLE audit_away RENAME TO audit");
  ASSERT_TRUE(trail->Record("login_ok", {}).ok());
  EXPECT_TRUE(trail->healthy());
  EXPECT_EQ(CheckChain(), 1);
}

// The server role has no DELETE on audit; bluetrace_prune_audit() prunes for it (with its
// owner's rights) and refuses a cutoff within the last day of the database's clock.
TEST_F(PgAuditTrailTest, TheServerRolePrunesOnlyThroughTheFunctionAndNeverTheLastDay) {
  auto trail = OpenInstance();
  ASSERT_TRUE(trail);
  ASSERT_TRUE(trail->Record("login_ok", {{"user", "+61410000001"}}).ok());
  clock_.AdvanceSeconds(10 * 86400);
  ASSERT_TRUE(trail->Record("login_ok", {{"user", "+61410000002"}}).ok());
  const std::int64_t wall_now = util::SystemClock::Instance().NowUnixSeconds();
  auto recent = trail->Prune(wall_now - 3600, {});
  ASSERT_FALSE(recent.ok());
  EXPECT_NE(recent.status().message().find("less than a day ago"), std::string::npos)
      << recent.status().ToString();

  Exec("CREATE ROLE audit_prune_test_role");
  Exec("GRANT SELECT, INSERT ON audit TO audit_prune_test_role");
  Exec(
      "GRANT EXECUTE ON FUNCTION bluetrace_prune_audit(bigint, bigint, text) "
      "TO audit_prune_test_role");
  Exec("SET ROLE audit_prune_test_role");
  EXPECT_FALSE(db_->conn().Exec("test", "DELETE FROM audit").ok());
  auto pruned = db_->conn().Exec(
      "test", "SELECT dropped, anchor_seq FROM bluetrace_prune_audit($1::bigint, $2::bigint, '')",
      {std::to_string(clock_.NowUnixSeconds() - 86400), std::to_string(clock_.NowUnixSeconds())});
  Exec("RESET ROLE");
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned->GetInt(0, 0), 1);
  EXPECT_EQ(*pruned->GetInt(0, 1), 1);
  // The chain goes on from the anchor.
  ASSERT_TRUE(trail->Record("login_ok", {{"user", "+61410000003"}}).ok());
  auto rows = db_->conn().Exec("test", "SELECT seq, event FROM audit ORDER BY seq");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows(), 3);
  EXPECT_EQ(rows->Get(0, 1), "audit_pruned");
  EXPECT_EQ(rows->Get(2, 0), "3");
}

}  // namespace
}  // namespace bluetrace::store
