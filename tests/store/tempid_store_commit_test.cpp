// Durable appends: group commit under concurrency, and what a failing disk does to the
// store (an error for the caller, nothing in the index, no further writes).
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bluetrace/store/files/file_tempid_store.hpp"
#include "store/tempid_test_util.hpp"
#include "support/fake_random.hpp"

namespace bluetrace::store {
namespace {

using protocol::TempId;
using protocol::TempIdRecord;
using tempid_test::OriginalSample;
using tempid_test::Rec;
using tempid_test::RecordsInFile;
using test::ReadFileForTest;
using test::WriteFileForTest;
using util::StatusCode;

// A FileSystem whose syncs can be held at a gate, so a test can make callers queue up
// behind a sync in progress and observe exactly how they are batched.
class GatedFileSystem final : public FileSystem {
 public:
  explicit GatedFileSystem(FileSystem& base) : base_(base) {}

  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  void Open() {
    std::lock_guard lock(mu_);
    closed_ = false;
    cv_.notify_all();
  }
  // Blocks until some sync is held at the closed gate.
  void AwaitSyncAtGate() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return waiting_ > 0; });
  }

  Result<std::string> ReadFile(const std::string& path, std::uint64_t max_bytes) override {
    return base_.ReadFile(path, max_bytes);
  }
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override {
    return base_.OpenForRead(path);
  }
  Result<std::unique_ptr<AppendFile>> OpenForAppend(const std::string& path, mode_t mode) override {
    auto file = base_.OpenForAppend(path, mode);
    if (!file.ok()) return file.status();
    return std::unique_ptr<AppendFile>(new GatedFile(*this, std::move(*file)));
  }
  Status ReplaceFileAtomically(const std::string& path, std::string_view contents,
                               mode_t mode) override {
    return base_.ReplaceFileAtomically(path, contents, mode);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(from, to);
  }
  Status Truncate(const std::string& path, std::uint64_t size) override {
    return base_.Truncate(path, size);
  }
  Result<bool> Exists(const std::string& path) override { return base_.Exists(path); }
  Result<std::uint64_t> FileSize(const std::string& path) override { return base_.FileSize(path); }
  Result<mode_t> FileMode(const std::string& path) override { return base_.FileMode(path); }
  Result<FileInfo> Stat(const std::string& path) override { return base_.Stat(path); }
  Status CreateDirs(const std::string& path, mode_t mode) override {
    return base_.CreateDirs(path, mode);
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_.ListDir(path);
  }
  Status RemoveFile(const std::string& path) override { return base_.RemoveFile(path); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, bool wait) override {
    return base_.LockFile(path, wait);
  }

 private:
  class GatedFile final : public AppendFile {
   public:
    GatedFile(GatedFileSystem& fs, std::unique_ptr<AppendFile> base)
        : fs_(fs), base_(std::move(base)) {}
    Status Append(std::string_view data) override { return base_->Append(data); }
    Status Sync() override {
      fs_.Pass();
      return base_->Sync();
    }
    std::uint64_t Size() const override { return base_->Size(); }
    Status Close() override { return base_->Close(); }

   private:
    GatedFileSystem& fs_;
    std::unique_ptr<AppendFile> base_;
  };

  void Pass() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !closed_; });
    --waiting_;
  }

  FileSystem& base_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int waiting_ = 0;
};

TempIdRecord NumberedRecord(int i) {
  TempIdRecord r =
      Rec("+61410500000", "10000000000000000000", "15/05/2020 10:00:00", "15/05/2020 10:14:59");
  r.user = "+614105000" + std::to_string(10 + i);
  r.id = TempId::FromInteger(r.id.ToInteger() + static_cast<unsigned>(i));
  return r;
}

class TempIdStoreCommitTest : public tempid_test::TempIdStoreFixture {
 protected:
  // Waits (really: other threads are doing the work) until the store has reserved `n`
  // records, i.e. every caller so far is queued.
  static void AwaitSize(const FileTempIdStore& store, std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (store.size() < n) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "callers never queued up";
      std::this_thread::yield();
    }
  }
};

TEST_F(TempIdStoreCommitTest, CallersQueuedBehindASyncShareTheNextOne) {
  GatedFileSystem gated(fs_);
  auto opened = FileTempIdStore::Open(gated, clock_, Options());
  ASSERT_TRUE(opened.ok());
  FileTempIdStore& store = **opened;

  gated.Close();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  const auto append = [&](int i) {
    if (!store.Append(NumberedRecord(i)).ok()) ++failures;
  };
  threads.emplace_back(append, 0);  // leads the first batch and is held in its sync
  gated.AwaitSyncAtGate();
  for (int i = 1; i < 8; ++i) threads.emplace_back(append, i);
  AwaitSize(store, 8);
  gated.Open();
  for (auto& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0);
  const TempIdStoreStats stats = store.stats();
  EXPECT_EQ(stats.syncs, 2u);  // the first caller's, then one for the seven queued
  EXPECT_EQ(stats.largest_batch, 7u);
  EXPECT_EQ(stats.records_appended, 8u);
  EXPECT_EQ(RecordsInFile(path_).size(), 8u);
}

TEST_F(TempIdStoreCommitTest, AFailedSharedSyncFailsTheWholeBatch) {
  GatedFileSystem gated(fs_);
  auto opened = FileTempIdStore::Open(gated, clock_, Options());
  ASSERT_TRUE(opened.ok());
  FileTempIdStore& store = **opened;

  fs_.FailSync(2);  // the batch of the queued callers
  gated.Close();
  std::vector<std::thread> threads;
  std::vector<util::Status> results(8);
  threads.emplace_back([&] { results[0] = store.Append(NumberedRecord(0)); });
  gated.AwaitSyncAtGate();
  for (int i = 1; i < 8; ++i) {
    threads.emplace_back(
        [&, i] { results[static_cast<std::size_t>(i)] = store.Append(NumberedRecord(i)); });
  }
  AwaitSize(store, 8);
  gated.Open();
  for (auto& t : threads) t.join();

  EXPECT_TRUE(results[0].ok());
  for (int i = 1; i < 8; ++i) {
    EXPECT_EQ(results[static_cast<std::size_t>(i)].code(), StatusCode::kIoError) << i;
    EXPECT_FALSE(store.Lookup(NumberedRecord(i).id).has_value()) << i;
  }
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.Append(NumberedRecord(9)).code(), StatusCode::kUnavailable);
}

TEST_F(TempIdStoreCommitTest, ConcurrentIssuesAreAllDurableAndShareSyncs) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::vector<TempIdRecord>> issued(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      test::SeededRandom random(static_cast<std::uint64_t>(t) + 100);
      const std::string user = "+6141070000" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store->Issue(user, 1589391906 + i, 1589392805 + i, random);
        if (r.ok()) issued[static_cast<std::size_t>(t)].push_back(*r);
      }
    });
  }
  for (auto& t : threads) t.join();

  std::set<TempId> ids;
  for (const auto& per_thread : issued) {
    ASSERT_EQ(per_thread.size(), static_cast<std::size_t>(kPerThread));
    for (const TempIdRecord& r : per_thread) {
      ids.insert(r.id);
      EXPECT_EQ(store->Lookup(r.id), r);
    }
  }
  EXPECT_EQ(ids.size(), 400u);
  const TempIdStoreStats stats = store->stats();
  EXPECT_EQ(stats.records_appended, 400u);
  EXPECT_LT(stats.syncs, 400u);  // some callers shared a sync
  EXPECT_EQ(RecordsInFile(path_).size(), 400u);
  store.reset();
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->size(), 400u);
}

TEST_F(TempIdStoreCommitTest, AFailedSyncIsReportedAndTheStoreStopsWriting) {
  WriteFileForTest(path_, OriginalSample(true));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const TempIdRecord record = NumberedRecord(1);
  fs_.FailSync();
  util::Status st = store->Append(record);
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("fdatasync"), std::string::npos) << st.ToString();
  EXPECT_FALSE(store->Lookup(record.id).has_value());
  EXPECT_EQ(store->size(), 3u);
  EXPECT_FALSE(store->health().ok());

  // Never retried blindly: everything else is refused until a restart.
  EXPECT_EQ(store->Append(NumberedRecord(2)).code(), StatusCode::kUnavailable);
  test::SeededRandom random(1);
  EXPECT_EQ(store->Issue("+61410888888", 0, 899, random).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->Compact().status().code(), StatusCode::kUnavailable);

  store.reset();
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  // The record's bytes may or may not have reached the disk; the original ones did.
  EXPECT_GE(reopened->size(), 3u);
  EXPECT_TRUE(reopened->Append(NumberedRecord(3)).ok());
}

TEST_F(TempIdStoreCommitTest, AFailedIssueReleasesItsTempId) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  test::SeededRandom probe(5);
  const TempId would_be = *TempId::Generate(probe);
  fs_.FailSync();
  test::SeededRandom random(5);
  EXPECT_EQ(store->Issue("+61410888888", 0, 899, random).status().code(), StatusCode::kIoError);
  EXPECT_FALSE(store->Lookup(would_be).has_value());
  EXPECT_EQ(store->size(), 0u);
}

TEST_F(TempIdStoreCommitTest, ADiskFullErrorLosesNothingThatWasThere) {
  WriteFileForTest(path_, OriginalSample(false));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  fs_.SetDiskFull(true);
  util::Status st = store->Append(NumberedRecord(1));
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("No space left"), std::string::npos) << st.ToString();
  EXPECT_FALSE(store->Lookup(NumberedRecord(1).id).has_value());
  EXPECT_EQ(store->Append(NumberedRecord(2)).code(), StatusCode::kUnavailable);
  fs_.SetDiskFull(false);

  store.reset();
  RecoveryReport report;
  auto reopened = Open(&report);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->size(), 3u);
  EXPECT_EQ(ReadFileForTest(path_), OriginalSample(false));
  ASSERT_TRUE(reopened->Append(NumberedRecord(1)).ok());
  EXPECT_EQ(RecordsInFile(path_).size(), 4u);
}

TEST_F(TempIdStoreCommitTest, ATornAppendIsCutOffAtOnce) {
  WriteFileForTest(path_, OriginalSample(true));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  fs_.TearNextAppend(20);
  EXPECT_EQ(store->Append(NumberedRecord(1)).code(), StatusCode::kIoError);
  EXPECT_EQ(ReadFileForTest(path_), OriginalSample(true));

  store.reset();
  RecoveryReport report;
  auto reopened = Open(&report);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(report.torn_bytes_removed, 0u);
  EXPECT_EQ(reopened->size(), 3u);
  EXPECT_EQ(ReadFileForTest(path_), OriginalSample(true));
}

// `bluetrace-admin verify`'s own check of the file on disk.
std::vector<std::string> VerifyProblems(FileSystem& fs, const std::string& path) {
  auto problems = FileTempIdStore::VerifyFile(fs, path, protocol::TimeZoneMode::kUtc);
  EXPECT_TRUE(problems.ok()) << problems.status().ToString();
  return problems.ok() ? *problems : std::vector<std::string>{"unreadable"};
}

// The disk fills up in the middle of an append: half a line reaches the file. The store
// cuts it off at once, so the file verifies after a clean stop, before any restart.
TEST_F(TempIdStoreCommitTest, AnEnospcMidAppendIsCutOffSoTheFileVerifiesAfterAStop) {
  WriteFileForTest(path_, OriginalSample(true));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(NumberedRecord(1)).ok());  // acknowledged: must survive
  fs_.TearNextAppend(20, ENOSPC);
  const util::Status st = store->Append(NumberedRecord(2));
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("No space left"), std::string::npos) << st.ToString();
  EXPECT_FALSE(store->health().ok());
  EXPECT_EQ(store->Append(NumberedRecord(3)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(VerifyProblems(fs_, path_), std::vector<std::string>{});

  store.reset();  // a clean stop
  EXPECT_EQ(VerifyProblems(fs_, path_), std::vector<std::string>{});
  const auto records = RecordsInFile(path_);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records.back(), NumberedRecord(1));
  RecoveryReport report;
  auto reopened = Open(&report);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(report.torn_bytes_removed, 0u);
  EXPECT_EQ(reopened->size(), 4u);
}

// If cutting fails as well, the clean stop tries again; nothing acknowledged is lost.
TEST_F(TempIdStoreCommitTest, WhenTheCutFailsTooTheCleanStopRepairsTheFile) {
  WriteFileForTest(path_, OriginalSample(true));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(NumberedRecord(1)).ok());
  fs_.TearNextAppend(20, ENOSPC);
  fs_.FailTruncate();
  EXPECT_EQ(store->Append(NumberedRecord(2)).code(), StatusCode::kIoError);
  EXPECT_EQ(VerifyProblems(fs_, path_).size(), 1u);  // the torn line is still there

  store.reset();
  EXPECT_EQ(VerifyProblems(fs_, path_), std::vector<std::string>{});
  const auto records = RecordsInFile(path_);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records.back(), NumberedRecord(1));
}

// And if the stop cannot cut either, the next start does, as after a crash.
TEST_F(TempIdStoreCommitTest, WhenTheStopCannotCutEitherTheNextStartRepairs) {
  WriteFileForTest(path_, OriginalSample(true));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(NumberedRecord(1)).ok());
  fs_.TearNextAppend(20, ENOSPC);
  fs_.FailTruncate();
  EXPECT_EQ(store->Append(NumberedRecord(2)).code(), StatusCode::kIoError);
  fs_.FailTruncate();
  store.reset();
  EXPECT_EQ(VerifyProblems(fs_, path_).size(), 1u);

  RecoveryReport report;
  auto reopened = Open(&report);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(report.torn_bytes_removed, 20u);
  EXPECT_EQ(reopened->size(), 4u);
  EXPECT_TRUE(reopened->Lookup(NumberedRecord(1).id).has_value());
  EXPECT_EQ(VerifyProblems(fs_, path_), std::vector<std::string>{});
}

// A failed fdatasync leaves the batch's bytes in the file, unacknowledged: they are cut
// too, so no record that was never acknowledged appears at the next start.
TEST_F(TempIdStoreCommitTest, AFailedSyncCutsItsUnacknowledgedBatch) {
  WriteFileForTest(path_, OriginalSample(true));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  fs_.FailSync();
  EXPECT_EQ(store->Append(NumberedRecord(1)).code(), StatusCode::kIoError);
  store.reset();
  EXPECT_EQ(ReadFileForTest(path_), OriginalSample(true));
}

}  // namespace
}  // namespace bluetrace::store
