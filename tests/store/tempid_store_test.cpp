#include "bluetrace/store/files/file_tempid_store.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/tempid_test_util.hpp"
#include "support/fake_random.hpp"

namespace bluetrace::store {
namespace {

using protocol::TempId;
using protocol::TempIdRecord;
using test::ReadFileForTest;
using test::WriteFileForTest;
using util::StatusCode;

using tempid_test::OriginalSample;
using tempid_test::Rec;
using tempid_test::RecordsInFile;
using TempIdStoreTest = tempid_test::TempIdStoreFixture;

const TempIdRecord kSample2 =
    Rec("+61410888888", "12345678901234567891", "13/05/2020 17:54:06", "13/05/2020 18:09:05");
const TempIdRecord kNew =
    Rec("+61410666666", "98765432109876543210", "15/05/2020 10:00:00", "15/05/2020 10:14:59");

TEST_F(TempIdStoreTest, CreatesAMissingFile) {
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(report.created);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(ReadFileForTest(path_), "");
  auto mode = fs_.FileMode(path_);
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, 0600u);
}

TEST_F(TempIdStoreTest, LoadsTheOriginalSampleWithAFinalNewline) {
  WriteFileForTest(path_, OriginalSample(true));
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->size(), 3u);
  EXPECT_EQ(report.records, 3u);
  EXPECT_EQ(report.lines, 3u);
  EXPECT_FALSE(report.missing_final_newline);
  EXPECT_EQ(report.torn_bytes_removed, 0u);
  EXPECT_EQ(store->Lookup(kSample2.id), kSample2);
}

TEST_F(TempIdStoreTest, AppendAfterAFileWithoutFinalNewlineKeepsBothRecordsParseable) {
  const std::string sample = OriginalSample(false);
  WriteFileForTest(path_, sample);
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(report.missing_final_newline);
  EXPECT_EQ(report.torn_bytes_removed, 0u);
  EXPECT_EQ(store->size(), 3u);

  ASSERT_TRUE(store->Append(kNew).ok());
  // The last line is completed first, and the new one keeps the file's CRLF style.
  EXPECT_EQ(ReadFileForTest(path_), sample + "\r\n" + protocol::FormatTempIdLine(kNew) + "\r\n");
  store.reset();

  auto reopened = Open(&report);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->size(), 4u);
  EXPECT_FALSE(report.missing_final_newline);
  EXPECT_EQ(reopened->Lookup(kNew.id), kNew);
  EXPECT_EQ(RecordsInFile(path_).size(), 4u);
}

TEST_F(TempIdStoreTest, AppendsUseLfInALfFile) {
  WriteFileForTest(path_, protocol::FormatTempIdLine(kSample2) + "\n");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(kNew).ok());
  EXPECT_EQ(ReadFileForTest(path_),
            protocol::FormatTempIdLine(kSample2) + "\n" + protocol::FormatTempIdLine(kNew) + "\n");
}

TEST_F(TempIdStoreTest, AcceptsBlankLinesAndMixedLineEnds) {
  WriteFileForTest(path_, "\r\n" + protocol::FormatTempIdLine(kSample2) + "\n  \t\r\n" +
                              protocol::FormatTempIdLine(kNew) + "\r\n\n");
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->size(), 2u);
  EXPECT_EQ(report.lines, 5u);
}

TEST_F(TempIdStoreTest, AMalformedMiddleLineStopsStartUpNamingFileAndLine) {
  const std::string content = OriginalSample(true);
  std::string broken = content;
  broken.replace(broken.find("13/05/2020 17:54:06"), 2, "32");  // day 32, line 2
  WriteFileForTest(path_, broken);
  auto store = FileTempIdStore::Open(fs_, clock_, Options());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find(path_ + " line 2"), std::string::npos)
      << store.status().ToString();
  EXPECT_EQ(ReadFileForTest(path_), broken);  // nothing is "repaired" in the middle
}

TEST_F(TempIdStoreTest, AMalformedTerminatedLastLineIsAnErrorNotATornTail) {
  // A torn append never ends in a line end, so this is corruption, not a crash.
  WriteFileForTest(path_, OriginalSample(true) + "+61410666666 1234\r\n");
  auto store = FileTempIdStore::Open(fs_, clock_, Options());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("line 4"), std::string::npos);
}

TEST_F(TempIdStoreTest, ADuplicateTempIdKeepsItsFirstRecord) {
  const TempIdRecord other =
      Rec("+61410777777", "12345678901234567891", "14/05/2020 09:00:00", "14/05/2020 09:14:59");
  WriteFileForTest(path_, protocol::FormatTempIdLine(kSample2) + "\n" +
                              protocol::FormatTempIdLine(other) + "\n");
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(report.duplicate_lines, 1u);
  EXPECT_EQ(store->size(), 1u);
  EXPECT_EQ(store->Lookup(kSample2.id), kSample2);
}

// Start-up parses on a second thread and hands records over in batches of thousands with a
// few batches in flight (store/files/tempid_file.hpp); these files span many batches.
constexpr int kManyBatchesOfLines = 50'000;

// Line `n` (1-based) of a large test file: distinct TempIDs, a few users, 15-minute records.
TempIdRecord ManyLine(int n) {
  TempIdRecord r;
  r.user = "+614100" + std::to_string(10000 + n % 7);
  r.id = *TempId::Parse(std::to_string(10000000000000000000ull + static_cast<unsigned>(n)));
  r.start = 1'589'328'000 + n;
  r.expiry = r.start + 899;
  return r;
}

std::string ManyLines(int count, int replaced_line = 0, const std::string& replacement = "") {
  std::string text;
  for (int n = 1; n <= count; ++n) {
    text += n == replaced_line ? replacement : protocol::FormatTempIdLine(ManyLine(n));
    text += "\n";
  }
  return text;
}

TEST_F(TempIdStoreTest, AFileOfManyBatchesLoadsInFileOrder) {
  // Line 40,000 repeats line 3's TempID: the first record of a TempID wins, so file order
  // must survive the hand-over between the threads.
  TempIdRecord repeat = ManyLine(40'000);
  repeat.id = ManyLine(3).id;
  WriteFileForTest(path_,
                   ManyLines(kManyBatchesOfLines, 40'000, protocol::FormatTempIdLine(repeat)));
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(report.lines, static_cast<std::uint64_t>(kManyBatchesOfLines));
  EXPECT_EQ(report.duplicate_lines, 1u);
  EXPECT_EQ(store->size(), static_cast<std::size_t>(kManyBatchesOfLines - 1));
  EXPECT_EQ(store->Lookup(ManyLine(3).id), ManyLine(3));
  EXPECT_EQ(store->Lookup(ManyLine(kManyBatchesOfLines).id), ManyLine(kManyBatchesOfLines));
  EXPECT_EQ(store->Lookup(ManyLine(1).id), ManyLine(1));
}

TEST_F(TempIdStoreTest, AMalformedLineManyBatchesInNamesItsLine) {
  WriteFileForTest(path_, ManyLines(kManyBatchesOfLines, 37'123, "+61410010000 123 x y"));
  auto store = FileTempIdStore::Open(fs_, clock_, Options());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find(path_ + " line 37123:"), std::string::npos)
      << store.status().ToString();
}

TEST_F(TempIdStoreTest, ARecordTheIndexRefusesStopsTheLoadWhileTheParserIsAhead) {
  // Parses, but spans more than the index's 136 years: the inserting side fails on line
  // 2,000 while the parser has batches queued and more to read; Open must stop it, not hang.
  TempIdRecord too_long = ManyLine(2'000);
  too_long.expiry = too_long.start + (std::int64_t{1} << 32);
  WriteFileForTest(path_,
                   ManyLines(kManyBatchesOfLines, 2'000, protocol::FormatTempIdLine(too_long)));
  auto store = FileTempIdStore::Open(fs_, clock_, Options());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kOutOfRange) << store.status().ToString();
  EXPECT_NE(store.status().message().find(path_ + " line 2000"), std::string::npos)
      << store.status().ToString();
}

TEST_F(TempIdStoreTest, AppendRejectsAKnownTempId) {
  WriteFileForTest(path_, OriginalSample(true));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  TempIdRecord again = kNew;
  again.id = kSample2.id;
  EXPECT_EQ(store->Append(again).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFileForTest(path_), OriginalSample(true));
  EXPECT_EQ(store->Lookup(kSample2.id), kSample2);
}

TEST_F(TempIdStoreTest, IssueRecordsAFreshTempIdDurably) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  test::SeededRandom random(1);
  const std::int64_t start = clock_.NowUnixSeconds();
  auto issued = store->Issue("+61410888888", start, start + 899, random);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->user, "+61410888888");
  EXPECT_EQ(issued->expiry, start + 899);
  EXPECT_EQ(store->Lookup(issued->id), *issued);
  EXPECT_EQ(ReadFileForTest(path_), protocol::FormatTempIdLine(*issued) + "\n");
  EXPECT_EQ(store->stats().syncs, 1u);
  EXPECT_EQ(store->stats().records_appended, 1u);
}

TEST_F(TempIdStoreTest, IssueRejectsRecordsThatWouldNotReadBack) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  test::SeededRandom random(1);
  const std::int64_t now = clock_.NowUnixSeconds();
  // Not canonical (the file would say +61410888888), a space inside, expiry before start,
  // a year the format cannot write.
  EXPECT_EQ(store->Issue("+61-410-888-888", now, now + 899, random).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Issue("+61410 888888", now, now + 899, random).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Issue("+61410888888", now, now - 1, random).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Issue("+61410888888", -100, 0, random).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(ReadFileForTest(path_), "");
}

TEST_F(TempIdStoreTest, IssueDrawsAgainWhenTheTempIdIsTaken) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const std::int64_t now = clock_.NowUnixSeconds();
  test::SeededRandom first_random(7);
  auto first = store->Issue("+61410888888", now, now + 899, first_random);
  ASSERT_TRUE(first.ok());
  // The same seed draws the same TempID first: the store must notice and draw again.
  test::SeededRandom probe(7);
  ASSERT_EQ(*TempId::Generate(probe), first->id);
  test::SeededRandom repeat(7);
  auto second = store->Issue("+61410999999", now, now + 899, repeat);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->id, first->id);
  EXPECT_EQ(store->Lookup(first->id)->user, "+61410888888");
  EXPECT_EQ(store->Lookup(second->id)->user, "+61410999999");
  EXPECT_EQ(RecordsInFile(path_).size(), 2u);
}

TEST_F(TempIdStoreTest, IssueGivesUpAfterTheConfiguredDraws) {
  TempIdStoreOptions options = Options();
  options.max_issue_attempts = 1;
  auto store = OpenWith(options);
  ASSERT_NE(store, nullptr);
  const std::int64_t now = clock_.NowUnixSeconds();
  test::SeededRandom a(7);
  ASSERT_TRUE(store->Issue("+61410888888", now, now + 899, a).ok());
  test::SeededRandom b(7);
  EXPECT_EQ(store->Issue("+61410999999", now, now + 899, b).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(store->size(), 1u);
}

TEST_F(TempIdStoreTest, IssuePropagatesAGeneratorFailure) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  test::ScriptedRandom empty({});
  EXPECT_EQ(store->Issue("+61410888888", 0, 899, empty).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->size(), 0u);
}

TEST_F(TempIdStoreTest, ReopenSeesEveryAppendedRecord) {
  WriteFileForTest(path_, OriginalSample(false));
  std::vector<TempIdRecord> issued;
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    test::SeededRandom random(3);
    for (int i = 0; i < 20; ++i) {
      auto r = store->Issue("+6141088888" + std::to_string(i % 10), 1589391906 + i,
                            1589391906 + i + 899, random);
      ASSERT_TRUE(r.ok());
      issued.push_back(*r);
    }
  }
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->size(), 23u);
  EXPECT_EQ(report.torn_bytes_removed, 0u);
  for (const TempIdRecord& r : issued) EXPECT_EQ(store->Lookup(r.id), r);
}

TEST_F(TempIdStoreTest, RejectsBadOptions) {
  TempIdStoreOptions options = Options();
  options.retention_seconds = -1;
  EXPECT_EQ(FileTempIdStore::Open(fs_, clock_, options).status().code(),
            StatusCode::kInvalidArgument);
  options = Options();
  options.path.clear();
  EXPECT_EQ(FileTempIdStore::Open(fs_, clock_, options).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bluetrace::store
