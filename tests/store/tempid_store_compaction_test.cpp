// Compaction: records past the retention leave the file and the index by an atomic rewrite;
// everything else, the file's style and its permissions stay.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bluetrace/store/files/file_tempid_store.hpp"
#include "bluetrace/store/files/leftover_temp_files.hpp"
#include "store/tempid_test_util.hpp"
#include "support/fake_random.hpp"

namespace bluetrace::store {
namespace {

using protocol::FormatTempIdLine;
using protocol::TempId;
using protocol::TempIdRecord;
using tempid_test::OriginalSample;
using tempid_test::Rec;
using tempid_test::RecordsInFile;
using test::ReadFileForTest;
using test::WriteFileForTest;
using util::StatusCode;

constexpr std::int64_t kDay = 24 * 3600;
constexpr std::int64_t kRetention = 21 * kDay;

class TempIdStoreCompactionTest : public tempid_test::TempIdStoreFixture {
 protected:
  // A 15-minute record of `user` that expires at `expiry`.
  static TempIdRecord Expiring(std::string user, std::string_view id, std::int64_t expiry) {
    TempIdRecord r;
    r.user = std::move(user);
    r.id = *TempId::Parse(id);
    r.start = expiry - 899;
    r.expiry = expiry;
    return r;
  }

  std::int64_t now() const { return clock_.NowUnixSeconds(); }

  // `count` records of distinct users (TempIDs from `first_id` on), expiring at `expiry`.
  static std::vector<TempIdRecord> Batch(int count, std::uint64_t first_id, std::int64_t expiry) {
    std::vector<TempIdRecord> out;
    for (int i = 0; i < count; ++i) {
      TempIdRecord r =
          Expiring("+6141" + std::to_string(1000000 + i), "00000000000000000000", expiry);
      r.id = TempId::FromInteger(first_id + static_cast<unsigned>(i));
      out.push_back(r);
    }
    return out;
  }

  static std::string Lines(const std::vector<TempIdRecord>& records) {
    std::string out;
    for (const TempIdRecord& r : records) out += FormatTempIdLine(r) + "\n";
    return out;
  }

  // Names in the directory other than tempIDs.txt (temporary files, leftovers).
  std::vector<std::string> OtherFiles(const std::string& dir) {
    std::vector<std::string> out;
    const auto names = fs_.ListDir(dir);
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    if (!names.ok()) return out;
    for (const std::string& name : *names) {
      if (name != "tempIDs.txt") out.push_back(name);
    }
    return out;
  }
};

// Start-up compacts (tempid.retention set); with nothing past the retention it must not
// write: the issue measured 2.4 s of rewrite and a new inode for 0 records dropped at 10
// million lines.
TEST_F(TempIdStoreCompactionTest, NothingToDropLeavesTheFileUntouched) {
  const std::vector<TempIdRecord> records = Batch(50, 1000, now() - kRetention);  // at the edge
  const std::string content = Lines(records);
  WriteFileForTest(path_, content);
  const FileInfo before = *fs_.Stat(path_);
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(report.expired_records, 0u);

  auto stats = store->Compact();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->records_dropped, 0u);
  EXPECT_EQ(stats->records_kept, 50u);
  EXPECT_EQ(stats->bytes_before, content.size());
  EXPECT_EQ(stats->bytes_after, content.size());
  EXPECT_EQ(fs_.append_calls(), 0);
  EXPECT_EQ(fs_.sync_calls(), 0);
  EXPECT_EQ(fs_.replace_calls(), 0);
  EXPECT_EQ(fs_.rename_calls(), 0);
  EXPECT_EQ(*fs_.Stat(path_), before);  // same inode, size and modification time
  EXPECT_EQ(store->size(), 50u);

  // Records issued since count too: still nothing to drop an instant later.
  test::SeededRandom random(3);
  ASSERT_TRUE(store->Issue("+61410888888", now(), now() + 899, random).ok());
  const FileInfo after_issue = *fs_.Stat(path_);
  ASSERT_TRUE(store->Compact().ok());
  EXPECT_EQ(*fs_.Stat(path_), after_issue);
  EXPECT_EQ(fs_.rename_calls(), 0);

  // One second later the first records are past the retention: now it rewrites.
  clock_.AdvanceSeconds(1);
  stats = store->Compact();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->records_dropped, 50u);
  EXPECT_EQ(store->size(), 1u);
  EXPECT_NE(fs_.Stat(path_)->inode, before.inode);
}

TEST_F(TempIdStoreCompactionTest, OpenCountsWhatTheRetentionWouldDrop) {
  std::vector<TempIdRecord> records = Batch(3, 1000, now() - kRetention - 1);
  const std::vector<TempIdRecord> kept = Batch(2, 2000, now());
  records.insert(records.end(), kept.begin(), kept.end());
  WriteFileForTest(path_, Lines(records));
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(report.expired_records, 3u);
  EXPECT_EQ(store->size(), 5u);  // Open drops nothing itself
  auto stats = store->Compact();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->records_dropped, 3u);
  EXPECT_EQ(RecordsInFile(path_), kept);
  EXPECT_TRUE(OtherFiles(dir_.path()).empty());
}

// The copy of the bulk runs while TempIDs are issued: an Issue started during it completes
// before the compaction ends, and its record reaches the new file through the tail copy.
TEST_F(TempIdStoreCompactionTest, IssuesCompleteWhileTheBulkIsCopied) {
  const std::vector<TempIdRecord> old = Batch(100, 1000, now() - kRetention - 1);
  const std::vector<TempIdRecord> kept = Batch(100, 5000, now());
  WriteFileForTest(path_, Lines(old) + Lines(kept));
  auto store = Open();
  ASSERT_NE(store, nullptr);

  std::atomic<bool> fired{false};
  bool completed_during_copy = false;
  util::Result<TempIdRecord> issued = util::Internal("not issued");
  std::thread issuer;
  fs_.SetBeforeWriteHook([&](std::string_view op, const std::string& path) {
    if (op != "append" || path.find(".tmp.") == std::string::npos || fired.exchange(true)) return;
    // The compaction is in its first phase: an Issue must not wait for it.
    std::promise<void> promise;
    std::future<void> done = promise.get_future();
    issuer = std::thread([&, promise = std::move(promise)]() mutable {
      test::SeededRandom random(5);
      issued = store->Issue("+61410888888", now(), now() + 899, random);
      promise.set_value();
    });
    // A bound, not a sleep: were the Issue held back until the compaction ends, this would
    // otherwise wait forever.
    completed_during_copy = done.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  });
  auto stats = store->Compact();
  fs_.SetBeforeWriteHook(nullptr);
  if (issuer.joinable()) issuer.join();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(completed_during_copy);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(stats->records_dropped, 100u);
  EXPECT_EQ(stats->records_kept, 101u);

  std::vector<TempIdRecord> expected = kept;
  expected.push_back(*issued);
  EXPECT_EQ(RecordsInFile(path_), expected);
  EXPECT_EQ(store->Lookup(issued->id), *issued);
  EXPECT_FALSE(store->Lookup(old[0].id).has_value());
  EXPECT_TRUE(OtherFiles(dir_.path()).empty());

  // Appends after the compaction go to the new file.
  test::SeededRandom random(6);
  auto later = store->Issue("+61410888888", now(), now() + 899, random);
  ASSERT_TRUE(later.ok());
  expected.push_back(*later);
  EXPECT_EQ(RecordsInFile(path_), expected);
}

// A failure in any phase leaves the file as it was, the store writable and no temporary
// file behind; the next compaction succeeds.
TEST_F(TempIdStoreCompactionTest, AFailureInEachPhaseChangesNothing) {
  const std::vector<TempIdRecord> old = Batch(20, 1000, now() - kRetention - 1);
  const std::vector<TempIdRecord> kept = Batch(20, 5000, now());
  WriteFileForTest(path_, Lines(old) + Lines(kept));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  test::SeededRandom random(8);
  std::vector<TempIdRecord> all = old;
  all.insert(all.end(), kept.begin(), kept.end());

  struct Fault {
    const char* name;
    std::function<void()> arm;
  };
  const std::vector<Fault> faults = {
      {"disk full while copying", [&] { fs_.SetDiskFull(true); }},
      {"write-behind of the copy", [&] { fs_.FailWriteBehind(1); }},
      {"fsync of the copy", [&] { fs_.FailSync(1); }},
      {"fsync after the tail", [&] { fs_.FailSync(2); }},
      {"rename", [&] { fs_.FailRename(1); }},
  };
  for (const Fault& fault : faults) {
    SCOPED_TRACE(fault.name);
    const std::string before = ReadFileForTest(path_);
    fault.arm();
    EXPECT_EQ(store->Compact().status().code(), StatusCode::kIoError);
    fs_.ClearFaults();
    EXPECT_EQ(ReadFileForTest(path_), before);
    EXPECT_TRUE(OtherFiles(dir_.path()).empty());
    EXPECT_TRUE(store->health().ok());
    EXPECT_EQ(store->Lookup(old[0].id), old[0]);
    // Still writing to the original file.
    auto r = store->Issue("+61410888888", now(), now() + 899, random);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    all.push_back(*r);
    EXPECT_EQ(RecordsInFile(path_), all);
  }
  ASSERT_TRUE(store->Compact().ok());
  EXPECT_EQ(RecordsInFile(path_), std::vector<TempIdRecord>(all.begin() + 20, all.end()));
}

// A crash before any disk operation of a compaction (and one issue during its copy) leaves
// a directory from which the store opens with every acknowledged record, and with either
// all of the expired records or none; a leftover temporary file is removed at start-up.
TEST_F(TempIdStoreCompactionTest, ACrashInEachPhaseLosesNothing) {
  const std::vector<TempIdRecord> old = Batch(30, 1000, now() - kRetention - 1);
  const std::vector<TempIdRecord> kept = Batch(30, 5000, now());
  WriteFileForTest(path_, Lines(old) + Lines(kept));
  auto store = Open();
  ASSERT_NE(store, nullptr);

  struct Snapshot {
    std::string op;
    std::string dir;
    bool issued_acknowledged;
  };
  std::mutex mu;
  std::vector<Snapshot> snapshots;
  std::vector<std::unique_ptr<test::TempDir>> dirs;
  std::atomic<bool> issued_done{false};
  std::atomic<bool> fired{false};
  util::Result<TempIdRecord> issued = util::Internal("not issued");
  const auto snapshot = [&](std::string_view op, const std::string& path) {
    std::lock_guard lock(mu);
    auto dir = std::make_unique<test::TempDir>();
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      std::filesystem::copy(entry.path(), dir->path() + "/" + entry.path().filename().string());
    }
    std::string name = std::string(op) + " " + path.substr(path.find_last_of('/') + 1);
    snapshots.push_back({std::move(name), dir->path(), issued_done.load()});
    dirs.push_back(std::move(dir));
  };
  fs_.SetBeforeWriteHook([&](std::string_view op, const std::string& path) {
    snapshot(op, path);
    if (op == "append" && path.find(".tmp.") != std::string::npos && !fired.exchange(true)) {
      std::thread([&] {
        test::SeededRandom random(5);
        issued = store->Issue("+61410888888", now(), now() + 899, random);
        issued_done = true;
      }).join();
    }
  });
  ASSERT_TRUE(store->Compact().ok());
  fs_.SetBeforeWriteHook(nullptr);
  snapshot("after", path_);
  ASSERT_TRUE(issued.ok());

  // Every phase was crashed in: creating the copy, copying and writing it behind, syncing
  // the bulk, the tail's
  // append and sync, the rename, and reopening the new file.
  std::vector<std::string> ops;
  for (const Snapshot& s : snapshots) ops.push_back(s.op);
  const auto saw = [&](const std::string& prefix, int times) {
    int n = 0;
    for (const std::string& op : ops) n += op.rfind(prefix, 0) == 0 ? 1 : 0;
    return n >= times;
  };
  EXPECT_TRUE(saw("open-for-append .tempIDs.txt.tmp.", 1)) << testing::PrintToString(ops);
  EXPECT_TRUE(saw("append .tempIDs.txt.tmp.", 2)) << testing::PrintToString(ops);
  EXPECT_TRUE(saw("write-behind .tempIDs.txt.tmp.", 1)) << testing::PrintToString(ops);
  EXPECT_TRUE(saw("sync .tempIDs.txt.tmp.", 2)) << testing::PrintToString(ops);
  EXPECT_TRUE(saw("rename ", 1)) << testing::PrintToString(ops);
  EXPECT_TRUE(saw("open-for-append tempIDs.txt", 1)) << testing::PrintToString(ops);

  for (const Snapshot& s : snapshots) {
    SCOPED_TRACE("crash before: " + s.op);
    LeftoverTempFileOptions cleanup;
    cleanup.caller_holds_server_lock = true;
    auto leftovers = RemoveLeftoverTempFiles(PosixFileSystem::Instance(), s.dir, cleanup);
    ASSERT_TRUE(leftovers.ok()) << leftovers.status().ToString();
    TempIdStoreOptions options = Options();
    options.path = s.dir + "/tempIDs.txt";
    auto reopened = FileTempIdStore::Open(PosixFileSystem::Instance(), clock_, options);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    for (const TempIdRecord& r : kept) EXPECT_EQ((*reopened)->Lookup(r.id), r);
    if (s.issued_acknowledged) {
      EXPECT_EQ((*reopened)->Lookup(issued->id), *issued);
    }
    std::size_t expired_present = 0;
    for (const TempIdRecord& r : old) expired_present += (*reopened)->Lookup(r.id) ? 1u : 0u;
    EXPECT_TRUE(expired_present == 0 || expired_present == old.size()) << expired_present;
    EXPECT_LE((*reopened)->size(), old.size() + kept.size() + 1);
    std::vector<std::string> names = *PosixFileSystem::Instance().ListDir(s.dir);
    EXPECT_EQ(names, std::vector<std::string>{"tempIDs.txt"});
  }
  EXPECT_TRUE(snapshots.back().issued_acknowledged);
}

TEST_F(TempIdStoreCompactionTest, DropsRecordsExpiredBeforeTheRetentionAndKeepsTheRest) {
  const TempIdRecord old = Expiring("+61410111111", "11111111111111111111", now() - kRetention - 1);
  const TempIdRecord edge = Expiring("+61410222222", "22222222222222222222", now() - kRetention);
  const TempIdRecord recent = Expiring("+61410333333", "33333333333333333333", now());
  WriteFileForTest(path_, FormatTempIdLine(old) + "\r\n" + FormatTempIdLine(edge) + "\r\n" +
                              FormatTempIdLine(recent) + "\r\n");
  ASSERT_EQ(chmod(path_.c_str(), 0640), 0);
  auto store = Open();
  ASSERT_NE(store, nullptr);

  auto stats = store->Compact();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->records_dropped, 1u);
  EXPECT_EQ(stats->records_kept, 2u);
  EXPECT_EQ(stats->cutoff, now() - kRetention);
  EXPECT_GT(stats->bytes_before, stats->bytes_after);

  EXPECT_FALSE(store->Lookup(old.id).has_value());
  EXPECT_EQ(store->Lookup(edge.id), edge);
  EXPECT_EQ(store->Lookup(recent.id), recent);
  EXPECT_EQ(store->size(), 2u);
  // Same order, same CRLF line ends, same permissions.
  EXPECT_EQ(ReadFileForTest(path_),
            FormatTempIdLine(edge) + "\r\n" + FormatTempIdLine(recent) + "\r\n");
  EXPECT_EQ(*fs_.FileMode(path_), 0640u);
  EXPECT_EQ(store->stats().compactions, 1u);

  // Appends go to the new file, and a restart agrees with the index.
  const TempIdRecord next = Expiring("+61410444444", "44444444444444444444", now() + 899);
  ASSERT_TRUE(store->Append(next).ok());
  store.reset();
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->size(), 3u);
  EXPECT_FALSE(reopened->Lookup(old.id).has_value());
  EXPECT_EQ(reopened->Lookup(next.id), next);
}

TEST_F(TempIdStoreCompactionTest, FollowsTheClockAndTheConfiguredRetention) {
  TempIdStoreOptions options = Options();
  options.retention_seconds = 3 * 60;  // the original's contact-log retention
  auto store = OpenWith(options);
  ASSERT_NE(store, nullptr);
  test::SeededRandom random(9);
  auto first = store->Issue("+61410888888", now(), now() + 899, random);
  ASSERT_TRUE(first.ok());
  clock_.AdvanceSeconds(899 + 180);  // exactly at the retention limit: kept
  ASSERT_EQ(store->Compact()->records_dropped, 0u);
  auto second = store->Issue("+61410888888", now(), now() + 899, random);
  ASSERT_TRUE(second.ok());
  clock_.AdvanceSeconds(1);
  auto stats = store->Compact();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->records_dropped, 1u);
  EXPECT_FALSE(store->Lookup(first->id).has_value());
  EXPECT_EQ(RecordsInFile(path_), std::vector<TempIdRecord>{*second});
}

TEST_F(TempIdStoreCompactionTest, DropsDuplicateAndBlankLines) {
  const TempIdRecord a = Expiring("+61410111111", "11111111111111111111", now());
  TempIdRecord a_again = a;
  a_again.user = "+61410999999";
  const TempIdRecord b = Expiring("+61410222222", "22222222222222222222", now());
  WriteFileForTest(path_, FormatTempIdLine(a) + "\n\n" + FormatTempIdLine(a_again) + "\n" +
                              FormatTempIdLine(b) + "\n" + FormatTempIdLine(a) + "\n");
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(report.duplicate_lines, 2u);

  auto stats = store->Compact();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->duplicates_dropped, 2u);
  EXPECT_EQ(stats->records_kept, 2u);
  EXPECT_EQ(ReadFileForTest(path_), FormatTempIdLine(a) + "\n" + FormatTempIdLine(b) + "\n");
  store.reset();
  auto reopened = Open(&report);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(report.duplicate_lines, 0u);
  EXPECT_EQ(reopened->Lookup(a.id), a);  // the first record of the TempID won
}

TEST_F(TempIdStoreCompactionTest, TerminatesAnUnterminatedLastLine) {
  WriteFileForTest(path_, OriginalSample(false));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto stats = store->Compact();  // now is 13/05/2020: nothing is 21 days old
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->records_kept, 3u);
  EXPECT_EQ(ReadFileForTest(path_), OriginalSample(true));
  const TempIdRecord next = Expiring("+61410444444", "44444444444444444444", now() + 899);
  ASSERT_TRUE(store->Append(next).ok());
  EXPECT_EQ(ReadFileForTest(path_), OriginalSample(true) + FormatTempIdLine(next) + "\r\n");
}

TEST_F(TempIdStoreCompactionTest, AFailedRewriteChangesNothing) {
  const TempIdRecord old = Expiring("+61410111111", "11111111111111111111", now() - kRetention - 1);
  const std::string content = FormatTempIdLine(old) + "\n";
  WriteFileForTest(path_, content);
  auto store = Open();
  ASSERT_NE(store, nullptr);

  fs_.FailRename();
  EXPECT_EQ(store->Compact().status().code(), StatusCode::kIoError);
  fs_.FailSync();  // the temporary file's fsync
  EXPECT_EQ(store->Compact().status().code(), StatusCode::kIoError);
  EXPECT_EQ(ReadFileForTest(path_), content);
  EXPECT_EQ(store->Lookup(old.id), old);
  EXPECT_TRUE(store->health().ok());

  // The store still writes to the original file, and a later compaction works.
  const TempIdRecord next = Expiring("+61410444444", "44444444444444444444", now() + 899);
  ASSERT_TRUE(store->Append(next).ok());
  auto stats = store->Compact();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(RecordsInFile(path_), std::vector<TempIdRecord>{next});
}

TEST_F(TempIdStoreCompactionTest, IssuesDuringCompactionsAllLand) {
  // Old records to give each compaction work to do.
  std::string content;
  for (int i = 0; i < 2000; ++i) {
    TempIdRecord r = Expiring("+61410111111", "11111111111111111111", now() - kRetention - 1);
    r.id = TempId::FromInteger(r.id.ToInteger() + static_cast<unsigned>(i));
    content += FormatTempIdLine(r) + "\n";
  }
  WriteFileForTest(path_, content);
  auto store = Open();
  ASSERT_NE(store, nullptr);

  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::vector<std::vector<TempIdRecord>> issued(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      test::SeededRandom random(static_cast<std::uint64_t>(t) + 1);
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store->Issue("+6141077777" + std::to_string(t), now(), now() + 899, random);
        if (r.ok()) {
          issued[static_cast<std::size_t>(t)].push_back(*r);
        } else {
          ++failures;
        }
      }
    });
  }
  for (int c = 0; c < 5; ++c) ASSERT_TRUE(store->Compact().ok());
  for (auto& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->size(), static_cast<std::size_t>(kThreads * kPerThread));
  store.reset();
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (const auto& per_thread : issued) {
    for (const TempIdRecord& r : per_thread) EXPECT_EQ(reopened->Lookup(r.id), r);
  }
}

}  // namespace
}  // namespace bluetrace::store
