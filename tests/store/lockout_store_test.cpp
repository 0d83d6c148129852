#include "bluetrace/store/files/file_lockout_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_random.hpp"
#include "support/fault_injection_fs.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using test::ReadFileForTest;
using test::WriteFileForTest;

constexpr char kUser[] = "+61410888888";

class LockoutStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<FileLockoutStore> Open(LockoutPolicy policy = {}) {
    auto store = FileLockoutStore::Open(fs_, path_, policy, clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // A store as the server and bluetrace-admin open it: rewrites under .lock-lockouts.
  std::unique_ptr<FileLockoutStore> OpenShared(LockoutPolicy policy = {}) {
    auto store = FileLockoutStore::Open(fs_, path_, policy, clock_, lock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  test::TempDir dir_;
  std::string path_ = dir_.File("lockouts.txt");
  // Long enough for any writer on a loaded machine; the give-up tests shorten it.
  InterProcessLock lock_{dir_.File(".lock-lockouts"), std::chrono::seconds(10)};
  util::ManualClock clock_{1'700'000'000};
  test::FaultInjectingFileSystem fs_{PosixFileSystem::Instance()};
};

TEST_F(LockoutStoreTest, ThreeFailuresBlockForTheBlockDuration) {
  auto store = Open();
  auto first = store->RecordFailure(kUser, true);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->now_blocked);
  EXPECT_EQ(first->attempts_left, 2u);
  EXPECT_EQ(store->RecordFailure(kUser, true)->attempts_left, 1u);
  EXPECT_FALSE(store->Check(kUser).blocked);
  auto third = store->RecordFailure(kUser, true);
  EXPECT_TRUE(third->now_blocked);
  EXPECT_EQ(third->attempts_left, 0u);
  EXPECT_EQ(third->block_seconds, 60);

  // The 4th attempt, even with the right password, is refused: the service asks Check
  // first, and it says blocked.
  const BlockState state = store->Check(kUser);
  EXPECT_TRUE(state.blocked);
  EXPECT_EQ(state.seconds_left, 60);
  clock_.AdvanceSeconds(59);
  EXPECT_TRUE(store->Check(kUser).blocked);
  EXPECT_EQ(store->Check(kUser).seconds_left, 1);
  clock_.AdvanceSeconds(1);
  EXPECT_FALSE(store->Check(kUser).blocked);
}

TEST_F(LockoutStoreTest, AfterABlockTheCountStartsFromZero) {
  auto store = Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
  clock_.AdvanceSeconds(60);
  auto next = store->RecordFailure(kUser, true);
  EXPECT_FALSE(next->now_blocked);
  EXPECT_EQ(next->attempts_left, 2u);
}

TEST_F(LockoutStoreTest, FailureDuringABlockDoesNotExtendIt) {
  auto store = Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
  clock_.AdvanceSeconds(30);
  auto during = store->RecordFailure(kUser, true);
  EXPECT_TRUE(during->now_blocked);
  EXPECT_EQ(during->block_seconds, 30);
  clock_.AdvanceSeconds(30);
  EXPECT_FALSE(store->Check(kUser).blocked);
}

TEST_F(LockoutStoreTest, SuccessResetsTheCount) {
  auto store = Open();
  ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
  ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
  ASSERT_TRUE(store->RecordSuccess(kUser).ok());
  EXPECT_EQ(store->known_entries(), 0u);
  EXPECT_EQ(store->RecordFailure(kUser, true)->attempts_left, 2u);
  EXPECT_EQ(store->RecordFailure(kUser, true)->attempts_left, 1u);
  EXPECT_FALSE(store->Check(kUser).blocked);
}

TEST_F(LockoutStoreTest, UsersAreCountedSeparately) {
  auto store = Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
  EXPECT_TRUE(store->Check(kUser).blocked);
  EXPECT_FALSE(store->Check("+61410777777").blocked);
  EXPECT_EQ(store->RecordFailure("+61410777777", true)->attempts_left, 2u);
}

TEST_F(LockoutStoreTest, BlockSurvivesARestart) {
  {
    auto store = Open();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
    ASSERT_TRUE(store->RecordFailure("+61410777777", true).ok());
  }
  EXPECT_EQ(ReadFileForTest(path_),
            "+61410777777 1 0\n"
            "+61410888888 3 1700000060\n");
  clock_.AdvanceSeconds(20);
  auto reopened = Open();
  EXPECT_TRUE(reopened->Check(kUser).blocked);
  EXPECT_EQ(reopened->Check(kUser).seconds_left, 40);
  // The other user's count survived too.
  EXPECT_EQ(reopened->RecordFailure("+61410777777", true)->attempts_left, 1u);
}

TEST_F(LockoutStoreTest, ExpiredBlocksAreDroppedOnLoad) {
  WriteFileForTest(path_, "+61410888888 3 1699999999\r\n\r\n+61410777777 2 0");
  auto store = Open();
  EXPECT_FALSE(store->Check(kUser).blocked);
  EXPECT_EQ(store->known_entries(), 1u);
  EXPECT_EQ(store->RecordFailure("+61410777777", true)->attempts_left, 0u);
  EXPECT_TRUE(store->Check("+61410777777").blocked);
}

TEST_F(LockoutStoreTest, LoadedBlocksNeverOutlastThePolicy) {
  WriteFileForTest(path_, "+61410888888 3 1800000000\n");  // clock moved back, or policy
  auto store = Open();
  EXPECT_EQ(store->Check(kUser).seconds_left, 60);
}

TEST_F(LockoutStoreTest, MalformedFileNamesFileAndLine) {
  const std::string bad[] = {
      "+61410888888 3\n",
      "+61410888888 x 0\n",
      "+61410888888 1 -5\n",
      "+61410888888  1 0\n",
      "+61410888888 1 0 9\n",
      "+61410777777 2 0\n",
      "+61410888888 99999999999 0\n",
  };
  for (const std::string& content : bad) {
    WriteFileForTest(path_, "+61410777777 1 0\n" + content);
    auto store = FileLockoutStore::Open(fs_, path_, {}, clock_);
    ASSERT_FALSE(store.ok()) << content;
    EXPECT_EQ(store.status().code(), util::StatusCode::kInvalidArgument);
    const std::string msg = store.status().message();
    EXPECT_NE(msg.find(path_), std::string::npos) << msg;
    EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
  }
}

TEST_F(LockoutStoreTest, SprayOfUnknownNamesStaysBoundedAndNeverTouchesTheDisk) {
  auto store = Open({.max_failures = 3, .block_seconds = 60, .max_unknown_entries = 1000});
  ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
  const int replaces_before = fs_.replace_calls();
  const std::string file_before = ReadFileForTest(path_);
  test::SeededRandom random(42);
  for (int i = 0; i < 100000; ++i) {
    std::uint8_t b[8];
    ASSERT_TRUE(random.Fill(b).ok());
    std::string name = "+614";
    for (std::uint8_t x : b) name += static_cast<char>('0' + x % 10);
    auto r = store->RecordFailure(name, false);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->attempts_left, 2u) << name;  // the same answer a known user gets
  }
  EXPECT_EQ(store->unknown_entries(), 1000u);
  EXPECT_EQ(store->known_entries(), 1u);
  EXPECT_EQ(fs_.replace_calls(), replaces_before);
  EXPECT_EQ(ReadFileForTest(path_), file_before);
  // The known user's count was not evicted by the spray.
  EXPECT_EQ(store->RecordFailure(kUser, true)->attempts_left, 1u);
}

TEST_F(LockoutStoreTest, UnknownNamesGetTheSameAnswersAsKnownUsers) {
  auto store = Open();
  for (int i = 0; i < 3; ++i) {
    auto known = store->RecordFailure(kUser, true);
    auto unknown = store->RecordFailure("+61400000000", false);
    EXPECT_EQ(known->now_blocked, unknown->now_blocked);
    EXPECT_EQ(known->attempts_left, unknown->attempts_left);
    EXPECT_EQ(known->block_seconds, unknown->block_seconds);
  }
  EXPECT_TRUE(store->Check("+61400000000").blocked);
  EXPECT_EQ(store->Check("+61400000000").seconds_left, store->Check(kUser).seconds_left);
  // Only the known user reaches the file.
  EXPECT_EQ(ReadFileForTest(path_), "+61410888888 3 1700000060\n");
}

TEST_F(LockoutStoreTest, NameRegisteredAfterFailuresKeepsItsCount) {
  auto store = Open();
  ASSERT_TRUE(store->RecordFailure(kUser, false).ok());
  EXPECT_EQ(store->RecordFailure(kUser, true)->attempts_left, 1u);
  EXPECT_EQ(store->unknown_entries(), 0u);
  EXPECT_EQ(store->known_entries(), 1u);
}

TEST_F(LockoutStoreTest, BlockUnblockCycle) {
  auto store = Open();
  EXPECT_EQ(store->Unblock(kUser).code(), util::StatusCode::kNotFound);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->RecordFailure("+61400000000", false).ok());
  auto blocked = store->ListBlocked();
  ASSERT_EQ(blocked.size(), 2u);
  EXPECT_EQ(blocked[0].user, "+61400000000");
  EXPECT_FALSE(blocked[0].known);
  EXPECT_EQ(blocked[1].user, kUser);
  EXPECT_TRUE(blocked[1].known);
  EXPECT_EQ(blocked[1].blocked_until, 1'700'000'060);
  EXPECT_EQ(blocked[1].seconds_left, 60);

  ASSERT_TRUE(store->Unblock(kUser).ok());
  EXPECT_FALSE(store->Check(kUser).blocked);
  EXPECT_EQ(store->ListBlocked().size(), 1u);
  EXPECT_EQ(ReadFileForTest(path_), "");
  EXPECT_EQ(store->RecordFailure(kUser, true)->attempts_left, 2u);  // count forgotten too
  EXPECT_EQ(store->Unblock(kUser).code(), util::StatusCode::kNotFound);

  // Blocked again, and the unblock holds across a restart.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
  EXPECT_TRUE(store->Check(kUser).blocked);
  ASSERT_TRUE(store->Unblock(kUser).ok());
  EXPECT_FALSE(Open()->Check(kUser).blocked);
}

TEST_F(LockoutStoreTest, ReloadSeesAnotherProcessUnblocking) {
  auto server = Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(server->RecordFailure(kUser, true).ok());
  auto admin = Open();
  ASSERT_TRUE(admin->Unblock(kUser).ok());
  EXPECT_TRUE(server->Check(kUser).blocked);
  ASSERT_TRUE(server->Reload().ok());
  EXPECT_FALSE(server->Check(kUser).blocked);
}

TEST_F(LockoutStoreTest, AdminUnblockIsNotWrittenOverByTheServersNextRewrite) {
  auto server = OpenShared();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(server->RecordFailure(kUser, true).ok());
  auto admin = OpenShared();
  ASSERT_TRUE(admin->Unblock(kUser).ok());
  // Before the server reloads, a failed login of someone else makes it rewrite the file
  // from memory, where kUser is still blocked.
  ASSERT_TRUE(server->RecordFailure("+61410777777", true).ok());
  EXPECT_EQ(ReadFileForTest(path_), "+61410777777 1 0\n");
  EXPECT_FALSE(server->Check(kUser).blocked);  // the merge brought the unblock in
  EXPECT_FALSE(OpenShared()->Check(kUser).blocked);
}

TEST_F(LockoutStoreTest, ServerFailuresSurviveAnAdminRewriteFromAnOlderRead) {
  auto server = OpenShared();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(server->RecordFailure(kUser, true).ok());
  auto admin = OpenShared();  // reads the file now
  ASSERT_TRUE(server->RecordFailure("+61410777777", true).ok());
  ASSERT_TRUE(server->RecordFailure("+61410777777", true).ok());
  ASSERT_TRUE(admin->Unblock(kUser).ok());
  EXPECT_EQ(ReadFileForTest(path_), "+61410777777 2 0\n");
  ASSERT_TRUE(server->Reload().ok());
  EXPECT_TRUE(server->RecordFailure("+61410777777", true)->now_blocked);
}

TEST_F(LockoutStoreTest, RewriteGivesUpWhenAnotherProcessHoldsTheLockTooLong) {
  lock_.timeout = std::chrono::milliseconds(200);
  auto store = OpenShared();
  ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
  const std::string before = ReadFileForTest(path_);
  {
    auto held = fs_.LockFile(lock_.path, false);
    ASSERT_TRUE(held.ok());
    EXPECT_FALSE(store->RecordFailure(kUser, true).ok());
    auto third = store->RecordFailure(kUser, true);
    ASSERT_FALSE(third.ok());
    EXPECT_EQ(third.status().code(), util::StatusCode::kUnavailable);
    EXPECT_NE(third.status().message().find(".lock-lockouts"), std::string::npos);
    EXPECT_TRUE(store->Check(kUser).blocked);  // memory still counts: fail secure
    EXPECT_EQ(ReadFileForTest(path_), before);
    // A reload meanwhile keeps what is not written yet.
    ASSERT_TRUE(store->Reload().ok());
    EXPECT_TRUE(store->Check(kUser).blocked);
  }
  // Lock released: the next write carries the block out.
  ASSERT_TRUE(store->RecordFailure("+61410777777", true).ok());
  EXPECT_TRUE(OpenShared()->Check(kUser).blocked);
}

TEST_F(LockoutStoreTest, FailedWriteIsReportedButTheLockoutHolds) {
  auto store = Open();
  ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
  const std::string good = ReadFileForTest(path_);
  fs_.FailSync();
  auto second = store->RecordFailure(kUser, true);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(path_), std::string::npos);
  EXPECT_EQ(ReadFileForTest(path_), good);  // the previous complete state
  fs_.SetDiskFull(true);
  EXPECT_FALSE(store->RecordFailure(kUser, true).ok());
  EXPECT_TRUE(store->Check(kUser).blocked);  // memory still counts: fail secure
  EXPECT_EQ(ReadFileForTest(path_), good);
  fs_.SetDiskFull(false);
  fs_.FailRename();
  EXPECT_FALSE(store->RecordSuccess(kUser).ok());
  EXPECT_EQ(ReadFileForTest(path_), good);
  // The next successful write persists the whole current state.
  ASSERT_TRUE(store->RecordFailure("+61410777777", true).ok());
  EXPECT_EQ(ReadFileForTest(path_), "+61410777777 1 0\n");
}

TEST_F(LockoutStoreTest, ConcurrentFailuresAreAllCounted) {
  auto store = Open({.max_failures = 1000, .block_seconds = 60, .max_unknown_entries = 10});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(store->RecordFailure(kUser, true).ok());
        ASSERT_TRUE(store->RecordFailure("+61400000000", false).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ReadFileForTest(path_), "+61410888888 200 0\n");
  EXPECT_EQ(store->RecordFailure("+61400000000", false)->attempts_left, 1000u - 201u);
}

TEST_F(LockoutStoreTest, TwoWritersOfOneFileLoseNoChange) {
  // Two stores on one file, as the server and bluetrace-admin: each counts failures of its
  // own users, both rewriting the file all the time.
  const LockoutPolicy policy{.max_failures = 1000, .block_seconds = 60, .max_unknown_entries = 10};
  auto first = OpenShared(policy);
  auto second = OpenShared(policy);
  const auto hammer = [](FileLockoutStore& store, const char* prefix) {
    for (int i = 0; i < 60; ++i) {
      const std::string user = std::string(prefix) + std::to_string(i % 3);
      ASSERT_TRUE(store.RecordFailure(user, true).ok());
    }
  };
  std::thread a([&] { hammer(*first, "+6141077770"); });
  std::thread b([&] { hammer(*second, "+6141088880"); });
  a.join();
  b.join();
  EXPECT_EQ(ReadFileForTest(path_),
            "+61410777700 20 0\n+61410777701 20 0\n+61410777702 20 0\n"
            "+61410888800 20 0\n+61410888801 20 0\n+61410888802 20 0\n");
}

TEST(LockoutPolicyTest, RejectsOutOfRangeValues) {
  EXPECT_TRUE(ValidateLockoutPolicy({}).ok());
  EXPECT_FALSE(ValidateLockoutPolicy({.max_failures = 0}).ok());
  EXPECT_FALSE(ValidateLockoutPolicy({.block_seconds = 0}).ok());
  EXPECT_FALSE(ValidateLockoutPolicy({.max_unknown_entries = 0}).ok());
}

}  // namespace
}  // namespace bluetrace::store
