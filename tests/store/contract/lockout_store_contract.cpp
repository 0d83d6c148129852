// The LockoutStore contract (store/lockout_store.hpp), for every backend.
#include <atomic>
#include <thread>
#include <vector>

#include "backend_harness.hpp"

namespace bluetrace::test {
namespace {

constexpr store::LockoutPolicy kPolicy{
    .max_failures = 3, .block_seconds = 60, .max_unknown_entries = 100};

TEST_P(LockoutStoreContract, TheThirdConsecutiveFailureBlocksForTheBlockDuration) {
  auto lockouts = backend().OpenLockouts(kPolicy);
  EXPECT_EQ(lockouts->RecordFailure("+61410000001", true)->attempts_left, 2u);
  EXPECT_EQ(lockouts->RecordFailure("+61410000001", true)->attempts_left, 1u);
  auto third = lockouts->RecordFailure("+61410000001", true);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->now_blocked);
  EXPECT_EQ(third->block_seconds, 60);
  EXPECT_EQ(lockouts->Check("+61410000001").seconds_left, 60);

  backend().clock().AdvanceSeconds(30);
  auto during = lockouts->RecordFailure("+61410000001", true);
  EXPECT_TRUE(during->now_blocked);
  EXPECT_EQ(during->block_seconds, 30);  // not extended
  backend().clock().AdvanceSeconds(30);
  EXPECT_FALSE(lockouts->Check("+61410000001").blocked);
  EXPECT_EQ(lockouts->RecordFailure("+61410000001", true)->attempts_left, 2u);  // from zero
}

TEST_P(LockoutStoreContract, ASuccessResetsTheCount) {
  auto lockouts = backend().OpenLockouts(kPolicy);
  ASSERT_TRUE(lockouts->RecordFailure("+61410000001", true).ok());
  ASSERT_TRUE(lockouts->RecordFailure("+61410000001", true).ok());
  ASSERT_TRUE(lockouts->RecordSuccess("+61410000001").ok());
  EXPECT_EQ(lockouts->RecordFailure("+61410000001", true)->attempts_left, 2u);
}

TEST_P(LockoutStoreContract, NamesThatAreNoAccountGetTheSameAnswers) {
  auto lockouts = backend().OpenLockouts(kPolicy);
  for (int i = 0; i < 3; ++i) {
    auto known = lockouts->RecordFailure("+61410000001", true);
    auto unknown = lockouts->RecordFailure("+61410000002", false);
    EXPECT_EQ(known->attempts_left, unknown->attempts_left);
    EXPECT_EQ(known->now_blocked, unknown->now_blocked);
    EXPECT_EQ(known->block_seconds, unknown->block_seconds);
  }
  EXPECT_TRUE(lockouts->Check("+61410000002").blocked);
}

TEST_P(LockoutStoreContract, ConcurrentFailuresBlockAtExactlyTheThird) {
  auto lockouts = backend().OpenLockouts(kPolicy);
  std::atomic<int> counted_before_block{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      auto r = lockouts->RecordFailure("+61410000001", true);
      if (r.ok() && !r->now_blocked) ++counted_before_block;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counted_before_block.load(), 2);
  EXPECT_EQ(lockouts->Check("+61410000001").seconds_left, 60);
}

TEST_P(LockoutStoreContract, FailuresAddUpAcrossHandlesAndSurviveARestart) {
  auto a = backend().OpenLockouts(kPolicy);
  auto b = backend().OpenLockouts(kPolicy);
  ASSERT_TRUE(a->RecordFailure("+61410000001", true).ok());
  ASSERT_TRUE(a->RecordFailure("+61410000001", true).ok());
  ASSERT_TRUE(b->Reload().ok());
  auto third = b->RecordFailure("+61410000001", true);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->now_blocked);
  ASSERT_TRUE(a->Reload().ok());
  EXPECT_TRUE(a->Check("+61410000001").blocked);
  a.reset();
  b.reset();
  auto c = backend().OpenLockouts(kPolicy);
  EXPECT_EQ(c->Check("+61410000001").seconds_left, 60);
}

TEST_P(LockoutStoreContract, AnUnblockThroughOneHandleHoldsForEveryHandle) {
  auto server = backend().OpenLockouts(kPolicy);
  auto admin = backend().OpenLockouts(kPolicy);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(server->RecordFailure("+61410000001", true).ok());
  ASSERT_TRUE(admin->Reload().ok());
  ASSERT_EQ(admin->ListBlocked().size(), 1u);
  ASSERT_TRUE(admin->Unblock("+61410000001").ok());
  EXPECT_EQ(admin->Unblock("+61410000001").code(), util::StatusCode::kNotFound);
  ASSERT_TRUE(server->Reload().ok());
  EXPECT_FALSE(server->Check("+61410000001").blocked);
  // The server's next write keeps the unblock.
  ASSERT_TRUE(server->RecordFailure("+61410000003", true).ok());
  EXPECT_FALSE(backend().OpenLockouts(kPolicy)->Check("+61410000001").blocked);
}

TEST_P(LockoutStoreContract, ListBlockedIsSortedByName) {
  auto lockouts = backend().OpenLockouts(kPolicy);
  for (const char* user : {"+61410000003", "+61410000001", "+61410000002"}) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(lockouts->RecordFailure(user, true).ok());
  }
  auto blocked = lockouts->ListBlocked();
  ASSERT_EQ(blocked.size(), 3u);
  EXPECT_EQ(blocked[0].user, "+61410000001");
  EXPECT_EQ(blocked[2].user, "+61410000003");
  EXPECT_EQ(blocked[1].blocked_until, backend().clock().NowUnixSeconds() + 60);
  EXPECT_TRUE(blocked[1].known);
}

}  // namespace
}  // namespace bluetrace::test
