// The TempIdStore contract (store/tempid_store.hpp), for every backend.
#include <set>
#include <thread>
#include <vector>

#include "backend_harness.hpp"

namespace bluetrace::test {
namespace {

using protocol::TempId;
using protocol::TempIdRecord;

constexpr std::int64_t kLifetime = 15 * 60;

TEST_P(TempIdStoreContract, AnIssuedTempIdResolvesToItsUser) {
  auto tempids = backend().OpenTempIds(0);
  const std::int64_t now = backend().clock().NowUnixSeconds();
  auto issued = tempids->Issue("+61410000001", now, now + kLifetime - 1, backend().random());
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->user, "+61410000001");
  EXPECT_EQ(issued->start, now);
  EXPECT_EQ(issued->expiry, now + kLifetime - 1);
  auto found = tempids->Lookup(issued->id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->user, "+61410000001");
  EXPECT_EQ(found->start, now);
  EXPECT_EQ(tempids->size(), 1u);
  EXPECT_TRUE(tempids->health().ok());
}

TEST_P(TempIdStoreContract, TempIdsAreUniqueAndDurable) {
  std::set<TempId> ids;
  const std::int64_t now = backend().clock().NowUnixSeconds();
  {
    auto tempids = backend().OpenTempIds(0);
    for (int i = 0; i < 200; ++i) {
      auto r =
          tempids->Issue("+6141000000" + std::to_string(i % 10), now, now + 10, backend().random());
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ids.insert(r->id);
    }
  }
  EXPECT_EQ(ids.size(), 200u);
  auto reopened = backend().OpenTempIds(0);  // as after a restart
  EXPECT_EQ(reopened->size(), 200u);
  for (const auto& id : ids) EXPECT_TRUE(reopened->Lookup(id).has_value());
}

TEST_P(TempIdStoreContract, ACollisionIsDrawnAgain) {
  auto tempids = backend().OpenTempIds(0);
  const std::int64_t now = backend().clock().NowUnixSeconds();
  // Two draws of the same TempID (a byte per digit), then a different one.
  std::vector<std::uint8_t> bytes(40, 7);
  bytes.insert(bytes.end(), 20, 9);
  ScriptedRandom scripted(bytes);
  auto first = tempids->Issue("+61410000001", now, now + 10, scripted);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = tempids->Issue("+61410000002", now, now + 10, scripted);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(first->id, second->id);
  EXPECT_EQ(tempids->Lookup(first->id)->user, "+61410000001");
  EXPECT_EQ(tempids->Lookup(second->id)->user, "+61410000002");
  EXPECT_EQ(scripted.consumed(), bytes.size());
}

TEST_P(TempIdStoreContract, AppendingAKnownTempIdIsRefused) {
  auto tempids = backend().OpenTempIds(0);
  const std::int64_t now = backend().clock().NowUnixSeconds();
  const TempIdRecord record{"+61410000001", *TempId::Parse("12345678901234567890"), now, now + 5};
  ASSERT_TRUE(tempids->Append(record).ok());
  TempIdRecord again = record;
  again.user = "+61410000002";
  EXPECT_EQ(tempids->Append(again).code(), util::StatusCode::kAlreadyExists);
  EXPECT_EQ(tempids->Lookup(record.id)->user, "+61410000001");
}

TEST_P(TempIdStoreContract, ABadRecordIsRefusedAndNothingIsWritten) {
  auto tempids = backend().OpenTempIds(0);
  const std::int64_t now = backend().clock().NowUnixSeconds();
  EXPECT_EQ(tempids->Issue("+61410000001", now, now - 1, backend().random()).status().code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(tempids->Issue("not a user", now, now + 1, backend().random()).status().code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(tempids->size(), 0u);
}

TEST_P(TempIdStoreContract, LookupAllAnswersInOrderWithUnknownsAsNothing) {
  auto tempids = backend().OpenTempIds(0);
  const std::int64_t now = backend().clock().NowUnixSeconds();
  auto a = tempids->Issue("+61410000001", now, now + 10, backend().random());
  auto b = tempids->Issue("+61410000002", now, now + 10, backend().random());
  ASSERT_TRUE(a.ok() && b.ok());
  const std::vector<TempId> ids = {b->id, *TempId::Parse("00000000000000000001"), a->id};
  auto found = tempids->LookupAll(ids);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  const auto& records = *found;
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0]->user, "+61410000002");
  EXPECT_FALSE(records[1].has_value());
  EXPECT_EQ(records[2]->user, "+61410000001");
}

TEST_P(TempIdStoreContract, CompactionDropsOnlyWhatExpiredBeforeTheRetention) {
  constexpr std::int64_t kRetention = 100;
  constexpr std::int64_t kDay = 86400;
  auto tempids = backend().OpenTempIds(kRetention);
  const std::int64_t now = backend().clock().NowUnixSeconds();
  // Expired days before the retention: dropped by every backend, also one that drops days.
  const TempIdRecord ancient{"+61410000001", *TempId::Parse("33333333333333333333"), now - 4 * kDay,
                             now - kRetention - 3 * kDay};
  // Just past the retention (dropped unless its day is the boundary day), and just within.
  const TempIdRecord old{"+61410000001", *TempId::Parse("11111111111111111111"), now - 1000,
                         now - kRetention - 1};
  const TempIdRecord recent{"+61410000001", *TempId::Parse("22222222222222222222"), now - 1000,
                            now - kRetention + 1};
  ASSERT_TRUE(tempids->Append(ancient).ok());
  ASSERT_TRUE(tempids->Append(old).ok());
  ASSERT_TRUE(tempids->Append(recent).ok());
  auto live = tempids->Issue("+61410000002", now, now + 10, backend().random());
  ASSERT_TRUE(live.ok());

  auto stats = tempids->Compact();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  // The cutoff is now - retention, or the start of its UTC day.
  EXPECT_LE(stats->cutoff, now - kRetention);
  EXPECT_TRUE(stats->cutoff == now - kRetention || stats->cutoff % kDay == 0) << stats->cutoff;
  EXPECT_GT(stats->cutoff, now - kRetention - kDay);
  const bool old_dropped = old.expiry < stats->cutoff;
  EXPECT_EQ(stats->records_dropped, old_dropped ? 2u : 1u);
  EXPECT_FALSE(tempids->Lookup(ancient.id).has_value());
  EXPECT_EQ(tempids->Lookup(old.id).has_value(), !old_dropped);
  EXPECT_TRUE(tempids->Lookup(recent.id).has_value());
  EXPECT_TRUE(tempids->Lookup(live->id).has_value());
  // Writes go on after a compaction, and what it dropped stays dropped.
  ASSERT_TRUE(tempids->Issue("+61410000003", now, now + 10, backend().random()).ok());
  tempids.reset();
  auto reopened = backend().OpenTempIds(kRetention);
  EXPECT_EQ(reopened->size(), old_dropped ? 3u : 4u);
  EXPECT_FALSE(reopened->Lookup(ancient.id).has_value());
  EXPECT_EQ(reopened->Lookup(old.id).has_value(), !old_dropped);
}

TEST_P(TempIdStoreContract, SeveralWritersNeverShareATempId) {
  if (!backend().concurrent_tempid_writers()) {
    GTEST_SKIP() << "this backend has one writing server per storage";
  }
  auto a = backend().OpenTempIds(0);
  auto b = backend().OpenTempIds(0);
  const std::int64_t now = backend().clock().NowUnixSeconds();
  std::vector<TempId> from_a;
  std::vector<TempId> from_b;
  SeededRandom same_a(7);
  SeededRandom same_b(7);  // the same stream: every draw collides with the other writer's
  std::thread ta([&] {
    for (int i = 0; i < 50; ++i) {
      if (auto r = a->Issue("+61410000001", now, now + 10, same_a); r.ok()) {
        from_a.push_back(r->id);
      }
    }
  });
  std::thread tb([&] {
    for (int i = 0; i < 50; ++i) {
      if (auto r = b->Issue("+61410000002", now, now + 10, same_b); r.ok()) {
        from_b.push_back(r->id);
      }
    }
  });
  ta.join();
  tb.join();
  std::set<TempId> all(from_a.begin(), from_a.end());
  all.insert(from_b.begin(), from_b.end());
  EXPECT_EQ(all.size(), from_a.size() + from_b.size());
  EXPECT_EQ(from_a.size() + from_b.size(), 100u);
}

}  // namespace
}  // namespace bluetrace::test
