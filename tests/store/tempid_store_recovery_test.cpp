// Start-up after a crash: torn last lines are cut off and reported, complete records
// always survive, and the repaired file takes appends again.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bluetrace/store/files/file_tempid_store.hpp"
#include "store/tempid_test_util.hpp"
#include "support/fake_random.hpp"

namespace bluetrace::store {
namespace {

using protocol::FormatTempIdLine;
using protocol::TempIdRecord;
using tempid_test::OriginalSample;
using tempid_test::Rec;
using tempid_test::RecordsInFile;
using test::ReadFileForTest;
using test::WriteFileForTest;

class TempIdStoreRecoveryTest : public tempid_test::TempIdStoreFixture {
 protected:
  void CrashAtEveryOffset(const std::string& initial);

  // Appends `torn` to the original sample: Open must cut off exactly it, report it, and keep
  // the three complete records.
  void ExpectTornTail(const std::string& torn) {
    const std::string good = OriginalSample(true);
    WriteFileForTest(path_, good + torn);
    RecoveryReport report;
    auto store = Open(&report);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->size(), 3u);
    EXPECT_EQ(report.torn_bytes_removed, torn.size());
    EXPECT_FALSE(report.torn_tail_description.empty());
    EXPECT_EQ(ReadFileForTest(path_), good);
  }
};

const TempIdRecord kNew =
    Rec("+61410666666", "98765432109876543210", "15/05/2020 10:00:00", "15/05/2020 10:14:59");

TEST_F(TempIdStoreRecoveryTest, HalfALineIsCutOffAndReported) {
  const std::string good = OriginalSample(true);
  const std::string torn = "+61410666666 1234567890123";
  WriteFileForTest(path_, good + torn);
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->size(), 3u);
  EXPECT_EQ(report.torn_bytes_removed, torn.size());
  EXPECT_NE(report.torn_tail_description.find("line 4"), std::string::npos)
      << report.torn_tail_description;
  EXPECT_EQ(ReadFileForTest(path_), good);

  ASSERT_TRUE(store->Append(kNew).ok());
  store.reset();
  auto reopened = Open(&report);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(report.torn_bytes_removed, 0u);
  EXPECT_EQ(reopened->size(), 4u);
  EXPECT_EQ(reopened->Lookup(kNew.id), kNew);
}

TEST_F(TempIdStoreRecoveryTest, ALineWithoutItsExpiryIsTorn) {
  // A crash inside an append's last field.
  ExpectTornTail("+61410666666 12345678901234567893 13/05/2020 17:45:06");
}

TEST_F(TempIdStoreRecoveryTest, GarbageBytesAreTorn) {
  ExpectTornTail(std::string("\0\0\0\xff\x01zz", 7));  // what a crash can leave in a new block
}

TEST_F(TempIdStoreRecoveryTest, ALongRunWithoutALineEndIsTorn) {
  ExpectTornTail(std::string(3 << 20, '\0'));  // 3 MiB of zeros: longer than any line, no '\n'
}

TEST_F(TempIdStoreRecoveryTest, AnOverlongLineInTheMiddleIsAnError) {
  WriteFileForTest(path_, std::string(5000, 'x') + "\n" + OriginalSample(true));
  auto store = FileTempIdStore::Open(fs_, clock_, Options());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("line 1"), std::string::npos)
      << store.status().ToString();
}

TEST_F(TempIdStoreRecoveryTest, ACompleteLineMissingOnlyItsLfIsKept) {
  // A crash between the CR and the LF of a CRLF line leaves a complete record.
  const std::string file = OriginalSample(true) + FormatTempIdLine(kNew) + "\r";
  WriteFileForTest(path_, file);
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(report.torn_bytes_removed, 0u);
  EXPECT_TRUE(report.missing_final_newline);
  EXPECT_EQ(store->Lookup(kNew.id), kNew);

  const TempIdRecord next =
      Rec("+61410666666", "11111111111111111111", "15/05/2020 10:15:00", "15/05/2020 10:29:59");
  ASSERT_TRUE(store->Append(next).ok());
  EXPECT_EQ(ReadFileForTest(path_), file + "\n" + FormatTempIdLine(next) + "\r\n");
  EXPECT_EQ(RecordsInFile(path_).size(), 5u);
}

TEST_F(TempIdStoreRecoveryTest, AFileHoldingOnlyATornLineBecomesEmpty) {
  WriteFileForTest(path_, "+614106");
  RecoveryReport report;
  auto store = Open(&report);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(report.torn_bytes_removed, 7u);
  EXPECT_EQ(ReadFileForTest(path_), "");
  ASSERT_TRUE(store->Append(kNew).ok());
  EXPECT_EQ(ReadFileForTest(path_), FormatTempIdLine(kNew) + "\n");
}

// A crash can stop an append after any byte. Cut the file at every offset inside its last
// record (written by the store itself) and check that start-up keeps every complete record,
// leaves a parseable file and accepts the next append.
void TempIdStoreRecoveryTest::CrashAtEveryOffset(const std::string& initial) {
  WriteFileForTest(path_, initial);
  std::vector<TempIdRecord> issued;
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    test::SeededRandom random(11);
    for (int i = 0; i < 3; ++i) {
      auto r = store->Issue("+61410555555", 1589391906 + 60 * i, 1589392805 + 60 * i, random);
      ASSERT_TRUE(r.ok());
      issued.push_back(*r);
    }
  }
  const std::string full = ReadFileForTest(path_);
  const std::string last_line = FormatTempIdLine(issued.back());
  const std::size_t last_start = full.rfind(last_line);
  ASSERT_NE(last_start, std::string::npos);
  const std::size_t before = RecordsInFile(path_).size() - 1;

  for (std::size_t cut = last_start; cut <= full.size(); ++cut) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut) + " of " + std::to_string(full.size()));
    WriteFileForTest(path_, full.substr(0, cut));
    RecoveryReport report;
    auto store = Open(&report);
    ASSERT_NE(store, nullptr);
    // The last record survives exactly when all its fields are there.
    const bool complete = cut >= last_start + last_line.size();
    EXPECT_EQ(store->size(), before + (complete ? 1 : 0));
    for (std::size_t i = 0; i + 1 < issued.size(); ++i) {
      EXPECT_EQ(store->Lookup(issued[i].id), issued[i]);
    }
    EXPECT_EQ(store->Lookup(issued.back().id).has_value(), complete);
    EXPECT_EQ(report.torn_bytes_removed, complete || cut == last_start ? 0 : cut - last_start);

    const TempIdRecord next =
        Rec("+61410444444", "22222222222222222222", "16/05/2020 10:00:00", "16/05/2020 10:14:59");
    ASSERT_TRUE(store->Append(next).ok());
    store.reset();
    RecoveryReport again;
    auto reopened = Open(&again);
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(again.torn_bytes_removed, 0u);
    EXPECT_EQ(reopened->size(), before + (complete ? 2 : 1));
    EXPECT_EQ(RecordsInFile(path_).size(), before + (complete ? 2 : 1));
  }
}

TEST_F(TempIdStoreRecoveryTest, CrashAtEveryOffsetOfTheLastRecordInACrlfFile) {
  CrashAtEveryOffset(OriginalSample(false));
}

TEST_F(TempIdStoreRecoveryTest, CrashAtEveryOffsetOfTheLastRecordInALfFile) {
  CrashAtEveryOffset("");
}

}  // namespace
}  // namespace bluetrace::store
