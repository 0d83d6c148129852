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

}  // namespace
}  // namespace bluetrace::store
