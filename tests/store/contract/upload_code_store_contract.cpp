// The UploadCodeStore contract (store/upload_code_store.hpp) and the withdrawal-of-consent
// parts of the other stores (TempIdStore::RemoveUser, ReportStore::CountSince, the upload
// code failure counts), for every backend.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "backend_harness.hpp"

namespace bluetrace::test {
namespace {

using store::RedeemResult;

std::string Digest(char c) { return std::string(64, c); }

store::UploadCodeRecord Code(const std::string& phone, char digest, std::int64_t now) {
  return {phone, Digest(digest), now, now + 3600};
}

TEST_P(UploadCodeStoreContract, ACodeIsRedeemedOnceByItsPhoneNumberOnly) {
  auto codes = backend().OpenUploadCodes();
  const std::int64_t now = backend().clock().NowUnixSeconds();
  ASSERT_TRUE(codes->Put(Code("+61410000001", 'a', now)).ok());
  // Another phone number's digest, or another digest: wrong, and the code stays.
  EXPECT_EQ(*codes->Redeem("+61410000002", Digest('a'), now), RedeemResult::kWrong);
  EXPECT_EQ(*codes->Redeem("+61410000001", Digest('b'), now), RedeemResult::kWrong);
  auto other = backend().OpenUploadCodes();  // another process
  EXPECT_EQ(*other->Redeem("+61410000001", Digest('a'), now + 10), RedeemResult::kRedeemed);
  EXPECT_EQ(*codes->Redeem("+61410000001", Digest('a'), now + 11), RedeemResult::kWrong);
}

TEST_P(UploadCodeStoreContract, AnExpiredCodeIsRefusedAndGone) {
  auto codes = backend().OpenUploadCodes();
  const std::int64_t now = backend().clock().NowUnixSeconds();
  ASSERT_TRUE(codes->Put(Code("+61410000001", 'a', now)).ok());
  EXPECT_EQ(*codes->Redeem("+61410000001", Digest('a'), now + 3600), RedeemResult::kExpired);
  EXPECT_EQ(*codes->Redeem("+61410000001", Digest('a'), now), RedeemResult::kWrong);
}

TEST_P(UploadCodeStoreContract, ANewCodeWithdrawsTheOldOneAndRemoveUserForgetsIt) {
  auto codes = backend().OpenUploadCodes();
  const std::int64_t now = backend().clock().NowUnixSeconds();
  ASSERT_TRUE(codes->Put(Code("+61410000001", 'a', now)).ok());
  ASSERT_TRUE(codes->Put(Code("+61410000001", 'b', now)).ok());
  ASSERT_TRUE(codes->Put(Code("+61410000002", 'c', now)).ok());
  EXPECT_EQ(*codes->Redeem("+61410000001", Digest('a'), now), RedeemResult::kWrong);
  ASSERT_TRUE(codes->RemoveUser("+61410000001").ok());
  ASSERT_TRUE(codes->RemoveUser("+61410000009").ok());  // none: nothing to do
  EXPECT_EQ(*codes->Redeem("+61410000001", Digest('b'), now), RedeemResult::kWrong);
  EXPECT_EQ(*codes->Redeem("+61410000002", Digest('c'), now), RedeemResult::kRedeemed);
  EXPECT_EQ(codes->Put({"+61410000001", "not hex", now, now + 1}).code(),
            util::StatusCode::kInvalidArgument);
}

TEST_P(UploadCodeStoreContract, OfManyHandlesRedeemingOneCodeExactlyOneWins) {
  const std::int64_t now = backend().clock().NowUnixSeconds();
  ASSERT_TRUE(backend().OpenUploadCodes()->Put(Code("+61410000001", 'a', now)).ok());
  std::vector<std::unique_ptr<store::UploadCodeStore>> handles;
  for (int i = 0; i < 4; ++i) handles.push_back(backend().OpenUploadCodes());
  std::atomic<int> redeemed{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (auto& h : handles) {
    threads.emplace_back([&, store = h.get()] {
      auto r = store->Redeem("+61410000001", Digest('a'), now);
      if (!r.ok()) ++errors;
      if (r.ok() && *r == RedeemResult::kRedeemed) ++redeemed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(redeemed.load(), 1);
}

TEST_P(UploadCodeStoreContract, WrongCodesAreCountedApartFromLoginFailures) {
  store::LockoutPolicy policy;
  policy.max_failures = 2;
  policy.block_seconds = 600;
  auto failures = backend().OpenCodeFailures(policy);
  auto logins = backend().OpenLockouts(store::LockoutPolicy{});
  EXPECT_FALSE(failures->RecordFailure("+61410000001", true)->now_blocked);
  EXPECT_TRUE(failures->RecordFailure("+61410000001", true)->now_blocked);
  EXPECT_TRUE(backend().OpenCodeFailures(policy)->Check("+61410000001").blocked);  // shared
  EXPECT_FALSE(logins->Check("+61410000001").blocked);
  EXPECT_TRUE(logins->ListBlocked().empty());
  backend().clock().Advance(std::chrono::seconds(600));
  EXPECT_FALSE(failures->Check("+61410000001").blocked);
}

TEST_P(UploadCodeStoreContract, RemoveUserDropsEveryTempIdOfThatUserOnly) {
  auto tempids = backend().OpenTempIds(0);
  const std::int64_t now = backend().clock().NowUnixSeconds();
  std::vector<protocol::TempIdRecord> mine;
  std::vector<protocol::TempIdRecord> theirs;
  for (int i = 0; i < 5; ++i) {
    auto a = tempids->Issue("+61410000001", now + 900 * i, now + 900 * i + 899, backend().random());
    auto b = tempids->Issue("+61410000002", now, now + 899, backend().random());
    ASSERT_TRUE(a.ok() && b.ok());
    mine.push_back(*a);
    theirs.push_back(*b);
  }
  auto removed = tempids->RemoveUser("+61410000001");
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 5u);
  for (const auto& r : mine) EXPECT_FALSE(tempids->Lookup(r.id).has_value());
  for (const auto& r : theirs) EXPECT_TRUE(tempids->Lookup(r.id).has_value());
  EXPECT_EQ(*tempids->RemoveUser("+61410000001"), 0u);
  tempids.reset();
  auto reopened = backend().OpenTempIds(0);  // durable
  for (const auto& r : mine) EXPECT_FALSE(reopened->Lookup(r.id).has_value());
  EXPECT_EQ(reopened->size(), 5u);
  // New TempIDs are issued as before.
  EXPECT_TRUE(reopened->Issue("+61410000003", now, now + 899, backend().random()).ok());
}

TEST_P(UploadCodeStoreContract, ReportsAreCountedPerUploaderSinceATime) {
  auto reports = backend().OpenReports();
  const std::int64_t now = backend().clock().NowUnixSeconds();
  ASSERT_TRUE(reports->Write("+61410000001", now - 100, "a\n").ok());
  ASSERT_TRUE(reports->Write("+61410000001", now, "b\n").ok());
  ASSERT_TRUE(reports->Write("+61410000001", now, "c\n").ok());
  ASSERT_TRUE(reports->Write("+61410000002", now, "d\n").ok());
  auto other = backend().OpenReports();
  EXPECT_EQ(*other->CountSince("+61410000001", now - 100), 3u);
  EXPECT_EQ(*other->CountSince("+61410000001", now - 99), 2u);
  EXPECT_EQ(*other->CountSince("+61410000002", now), 1u);
  EXPECT_EQ(*other->CountSince("+61410000003", 0), 0u);
  // The retention deletes what was received before the cutoff, for every handle.
  EXPECT_EQ(*other->PruneBefore(now), 1u);
  EXPECT_EQ(reports->List()->size(), 3u);
  EXPECT_EQ(*reports->CountSince("+61410000001", 0), 2u);
  EXPECT_EQ(*reports->PruneBefore(now), 0u);
}

// The activity chart's counts: every Put counts for its UTC day, and the counts stay when
// the codes go (redeemed, replaced, removed, expired).
TEST_P(UploadCodeStoreContract, CodesAreCountedPerDayAndTheCountsOutliveTheCodes) {
  auto codes = backend().OpenUploadCodes();
  const std::int64_t now = backend().clock().NowUnixSeconds();
  const std::int64_t day = store::UtcDayStart(now);
  EXPECT_TRUE(codes->CountIssuedPerDay(0)->empty());
  ASSERT_TRUE(codes->Put(Code("+61410000001", 'a', now)).ok());
  ASSERT_TRUE(codes->Put(Code("+61410000001", 'b', now + 10)).ok());  // replaces: counts
  ASSERT_TRUE(codes->Put(Code("+61410000002", 'c', now + 20)).ok());
  EXPECT_EQ(*codes->Redeem("+61410000001", Digest('b'), now + 30), RedeemResult::kRedeemed);
  ASSERT_TRUE(codes->RemoveUser("+61410000002").ok());
  // The next day, after the first day's codes expired (and went with this Put).
  ASSERT_TRUE(codes->Put(Code("+61410000003", 'd', day + store::kSecondsPerDay + 5)).ok());
  auto other = backend().OpenUploadCodes();  // another process sees the same counts
  auto all = other->CountIssuedPerDay(0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].day, day);
  EXPECT_EQ((*all)[0].codes, 3u);
  EXPECT_EQ((*all)[1].day, day + store::kSecondsPerDay);
  EXPECT_EQ((*all)[1].codes, 1u);
  // From the day of `since` on: a time within the second day still gives that day.
  auto second = codes->CountIssuedPerDay(day + store::kSecondsPerDay + 3600);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().codes, 1u);
  EXPECT_TRUE(codes->CountIssuedPerDay(day + 2 * store::kSecondsPerDay)->empty());
}

TEST(UtcDayStartTest, RoundsDownToMidnightUtcAlsoBefore1970) {
  EXPECT_EQ(store::UtcDayStart(0), 0);
  EXPECT_EQ(store::UtcDayStart(86399), 0);
  EXPECT_EQ(store::UtcDayStart(86400), 86400);
  EXPECT_EQ(store::UtcDayStart(1'600'000'000), 1'599'955'200);
  EXPECT_EQ(store::UtcDayStart(-1), -86400);
  EXPECT_EQ(store::UtcDayStart(-86400), -86400);
}

}  // namespace
}  // namespace bluetrace::test
