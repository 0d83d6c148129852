// Compaction: records past the retention leave the file and the index by an atomic rewrite;
// everything else, the file's style and its permissions stay.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "bluetrace/store/files/file_tempid_store.hpp"
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
};

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
