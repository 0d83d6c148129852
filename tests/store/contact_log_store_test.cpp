#include "bluetrace/store/contact_log_store.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/fault_injection_fs.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using protocol::ContactLogEntry;
using protocol::FormatContactLogLine;
using protocol::ParseTimestamp;
using protocol::TempId;
using util::StatusCode;

constexpr char kId1[] = "12345678901234567890";
constexpr char kId2[] = "12345678901234567891";
constexpr char kId3[] = "00000000000000000003";

ContactLogEntry Entry(const char* id, std::int64_t start, std::int64_t expiry) {
  return ContactLogEntry{*TempId::Parse(id), start, expiry};
}

std::string Line(const ContactLogEntry& e) { return FormatContactLogLine(e) + "\n"; }

class ContactLogStoreTest : public ::testing::Test {
 protected:
  ContactLogOptions Options(std::int64_t retention = 180) const {
    ContactLogOptions o;
    o.dir = dir_.path();
    o.retention_seconds = retention;
    return o;
  }
  std::unique_ptr<ContactLogStore> OpenWith(FileSystem& fs, const ContactLogOptions& o) {
    auto s = ContactLogStore::Open(fs, clock_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::unique_ptr<ContactLogStore> Open(std::int64_t retention = 180) {
    return OpenWith(fs_, Options(retention));
  }
  std::string Log() const { return test::ReadFileForTest(dir_.File("contactlog.txt")); }
  std::string Receipts() const { return test::ReadFileForTest(dir_.File("contactlog.received")); }

  test::TempDir dir_;
  PosixFileSystem& fs_ = PosixFileSystem::Instance();
  util::ManualClock clock_{1'600'000'000};
  const std::int64_t t0_ = 1'600'000'000;
};

TEST_F(ContactLogStoreTest, AValidBeaconIsStoredOnceInTheOriginalFormat) {
  auto store = Open();
  const auto e = Entry(kId1, t0_ - 100, t0_ + 799);
  auto added = store->Add(e, t0_);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(*added, ContactLogStore::AddOutcome::kAdded);
  EXPECT_EQ(Log(), Line(e));
  EXPECT_EQ(Receipts(), std::string(kId1) + " 1600000000\n");
  // The server's own parser reads it back.
  auto parsed =
      protocol::ParseContactLog(Log(), "contactlog.txt", protocol::TimeZoneMode::kUtc, 10);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->at(0), e);

  auto again = store->Add(e, t0_ + 5);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, ContactLogStore::AddOutcome::kDuplicate);
  EXPECT_EQ(Log(), Line(e));
  ASSERT_EQ(store->size(), 1u);
  EXPECT_EQ(store->Records()[0].received, t0_);  // the first receipt counts
}

TEST_F(ContactLogStoreTest, RetentionCountsFromReceiptNotFromTheBeaconsTimes) {
  auto store = Open(180);
  // Started ten minutes before it was received: counting from its start would drop it now.
  ASSERT_TRUE(store->Add(Entry(kId1, t0_ - 600, t0_ + 299), t0_).ok());
  clock_.AdvanceSeconds(179);
  auto removed = store->Prune();
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0u);
  EXPECT_EQ(store->size(), 1u);
  clock_.AdvanceSeconds(1);
  removed = store->Prune();
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(Log(), "");
  EXPECT_EQ(Receipts(), "");
}

TEST_F(ContactLogStoreTest, ReceiptTimesSurviveARestart) {
  const auto e1 = Entry(kId1, t0_, t0_ + 899);
  const auto e2 = Entry(kId2, t0_, t0_ + 899);
  {
    auto store = Open();
    ASSERT_TRUE(store->Add(e1, t0_).ok());
    clock_.AdvanceSeconds(100);
    ASSERT_TRUE(store->Add(e2, t0_ + 100).ok());
  }
  clock_.SetUnixSeconds(t0_ + 179);
  {
    auto store = Open();
    EXPECT_EQ(store->Records(), (std::vector<ContactLogRecord>{{e1, t0_}, {e2, t0_ + 100}}));
  }
  clock_.SetUnixSeconds(t0_ + 180);  // pruned while opening
  auto store = Open();
  EXPECT_EQ(store->Records(), (std::vector<ContactLogRecord>{{e2, t0_ + 100}}));
  EXPECT_EQ(Log(), Line(e2));
  EXPECT_EQ(Receipts(), std::string(kId2) + " 1600000100\n");
}

TEST_F(ContactLogStoreTest, AFileFromTheOriginalCountsAsReceivedAtExpiry) {
  // The original's sample: CRLF line ends, no final newline, no receipt times.
  test::WriteFileForTest(dir_.File("contactlog.txt"),
                         "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\r\n"
                         "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05");
  const std::int64_t expiry1 = *ParseTimestamp("13/05/2020 18:00:05");
  const std::int64_t expiry2 = *ParseTimestamp("13/05/2020 18:09:05");
  clock_.SetUnixSeconds(expiry1 + 179);
  {
    auto store = Open(180);
    EXPECT_EQ(store->size(), 2u);
    // Rewritten in canonical form so appends start on a line of their own.
    ASSERT_TRUE(store->Add(Entry(kId3, expiry1, expiry1 + 899), expiry1 + 179).ok());
    auto parsed = protocol::ParseContactLog(Log(), "x", protocol::TimeZoneMode::kUtc, 10);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->size(), 3u);
  }
  clock_.SetUnixSeconds(expiry1 + 180);
  auto store = Open(180);
  const auto records = store->Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].entry.id.ToString(), kId2);
  EXPECT_EQ(records[0].received, expiry2);
  EXPECT_EQ(records[1].entry.id.ToString(), kId3);
}

TEST_F(ContactLogStoreTest, ACanonicalFileIsNotRewrittenOnOpen) {
  test::FaultInjectingFileSystem fs(fs_);
  {
    auto store = OpenWith(fs, Options());
    ASSERT_TRUE(store->Add(Entry(kId1, t0_, t0_ + 899), t0_).ok());
  }
  const int replaces = fs.replace_calls();
  ASSERT_TRUE(ContactLogStore::Open(fs, clock_, Options()).ok());
  EXPECT_EQ(fs.replace_calls(), replaces);
}

TEST_F(ContactLogStoreTest, DuplicatesInAnOldFileAreStoredOnce) {
  const auto e = Entry(kId1, t0_, t0_ + 899);
  test::WriteFileForTest(dir_.File("contactlog.txt"), Line(e) + "\n" + Line(e));
  auto store = Open();
  EXPECT_EQ(store->size(), 1u);
  EXPECT_EQ(Log(), Line(e));
}

TEST_F(ContactLogStoreTest, AMalformedLogIsAnErrorNamingTheLine) {
  test::WriteFileForTest(dir_.File("contactlog.txt"),
                         Line(Entry(kId1, t0_, t0_ + 899)) + "12345 13/05/2020 17:45:06\n");
  auto store = ContactLogStore::Open(fs_, clock_, Options());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("contactlog.txt line 2"), std::string::npos)
      << store.status().message();
}

TEST_F(ContactLogStoreTest, AMalformedSidecarLineIsCorruptionButATornTailIsIgnored) {
  const auto e = Entry(kId1, t0_, t0_ + 899);
  test::WriteFileForTest(dir_.File("contactlog.txt"), Line(e));
  test::WriteFileForTest(dir_.File("contactlog.received"),
                         std::string(kId1) + " 1600000000\n" + "123456");  // torn append
  {
    auto store = Open();
    ASSERT_EQ(store->size(), 1u);
    EXPECT_EQ(store->Records()[0].received, t0_);
  }
  EXPECT_EQ(Receipts(), std::string(kId1) + " 1600000000\n");  // repaired
  test::WriteFileForTest(dir_.File("contactlog.received"), "garbage\n" + Receipts());
  auto broken = ContactLogStore::Open(fs_, clock_, Options());
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), StatusCode::kCorruption);
  EXPECT_NE(broken.status().message().find("contactlog.received line 1"), std::string::npos)
      << broken.status().message();
}

TEST_F(ContactLogStoreTest, AStrayCarriageReturnInTheSidecarIsCorruptionToo) {
  // Found by the contact_log_received fuzz target: the line splitter's own error was
  // kInvalidArgument, which the header promises only for contactlog.txt.
  const auto e = Entry(kId1, t0_, t0_ + 899);
  test::WriteFileForTest(dir_.File("contactlog.txt"), Line(e));
  test::WriteFileForTest(dir_.File("contactlog.received"), std::string(kId1) + " 16\r00\n");
  auto broken = ContactLogStore::Open(fs_, clock_, Options());
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), StatusCode::kCorruption);
  EXPECT_NE(broken.status().message().find("contactlog.received line 1"), std::string::npos)
      << broken.status().message();
}

TEST_F(ContactLogStoreTest, TheLastReceiptLineForATempIdCounts) {
  const auto e = Entry(kId1, t0_, t0_ + 899);
  test::WriteFileForTest(dir_.File("contactlog.txt"), Line(e));
  test::WriteFileForTest(dir_.File("contactlog.received"),
                         std::string(kId1) + " 1600000000\n" + kId1 + " 1600000050\n");
  auto store = Open();
  EXPECT_EQ(store->Records()[0].received, t0_ + 50);
}

TEST_F(ContactLogStoreTest, ACrashBetweenTheTwoRewritesIsHarmless) {
  test::FaultInjectingFileSystem fs(fs_);
  const auto e1 = Entry(kId1, t0_, t0_ + 899);
  const auto e2 = Entry(kId2, t0_, t0_ + 899);
  {
    auto store = OpenWith(fs, Options(180));
    ASSERT_TRUE(store->Add(e1, t0_).ok());
    ASSERT_TRUE(store->Add(e2, t0_ + 60).ok());
    clock_.AdvanceSeconds(180);
    fs.FailRename(2);  // the log is replaced, the sidecar is not: a crash in between
    EXPECT_FALSE(store->Prune().ok());
  }
  EXPECT_EQ(Log(), Line(e2));
  EXPECT_EQ(Receipts(), std::string(kId1) + " 1600000000\n" + kId2 + " 1600000060\n");
  auto store = Open(180);
  EXPECT_EQ(store->Records(), (std::vector<ContactLogRecord>{{e2, t0_ + 60}}));
  EXPECT_EQ(Receipts(), std::string(kId2) + " 1600000060\n");  // the stray line is gone
}

TEST_F(ContactLogStoreTest, ACrashBetweenTheTwoAppendsLeavesNoEntryWithoutItsTime) {
  const auto e1 = Entry(kId1, t0_, t0_ + 899);
  // The sidecar line was written, the log line was not.
  test::WriteFileForTest(dir_.File("contactlog.txt"), "");
  test::WriteFileForTest(dir_.File("contactlog.received"), std::string(kId1) + " 1600000000\n");
  auto store = Open();
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(Receipts(), "");
  ASSERT_TRUE(store->Add(e1, t0_ + 10).ok());
  EXPECT_EQ(store->Records()[0].received, t0_ + 10);
}

TEST_F(ContactLogStoreTest, AFailedSyncIsReportedAndTheEntryIsNotKept) {
  test::FaultInjectingFileSystem fs(fs_);
  auto store = OpenWith(fs, Options());
  const auto e1 = Entry(kId1, t0_, t0_ + 899);
  const auto e2 = Entry(kId2, t0_, t0_ + 899);
  ASSERT_TRUE(store->Add(e1, t0_).ok());
  fs.FailSync(2);  // the log's sync, after the sidecar's
  auto failed = store->Add(e2, t0_);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kIoError);
  EXPECT_EQ(store->size(), 1u);
  EXPECT_EQ(Log(), Line(e1));  // rewritten from memory
  // The next beacon is stored normally.
  ASSERT_TRUE(store->Add(e2, t0_).ok());
  EXPECT_EQ(Log(), Line(e1) + Line(e2));
}

TEST_F(ContactLogStoreTest, ATornAppendIsRepaired) {
  test::FaultInjectingFileSystem fs(fs_);
  auto store = OpenWith(fs, Options());
  const auto e1 = Entry(kId1, t0_, t0_ + 899);
  ASSERT_TRUE(store->Add(e1, t0_).ok());
  fs.TearNextAppend(7);
  EXPECT_FALSE(store->Add(Entry(kId2, t0_, t0_ + 899), t0_).ok());
  EXPECT_EQ(Log(), Line(e1));
  EXPECT_EQ(Receipts(), std::string(kId1) + " 1600000000\n");
}

TEST_F(ContactLogStoreTest, TheNumberOfEntriesIsBounded) {
  ContactLogOptions o = Options();
  o.max_entries = 2;
  auto store = OpenWith(fs_, o);
  ASSERT_TRUE(store->Add(Entry(kId1, t0_, t0_ + 899), t0_).ok());
  ASSERT_TRUE(store->Add(Entry(kId2, t0_, t0_ + 899), t0_).ok());
  auto third = store->Add(Entry(kId3, t0_, t0_ + 899), t0_);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(store->size(), 2u);
}

TEST_F(ContactLogStoreTest, PruneAndReadReturnsTheBytesAndTheirEntries) {
  auto store = Open(180);
  const auto e1 = Entry(kId1, t0_, t0_ + 899);
  const auto e2 = Entry(kId2, t0_, t0_ + 899);
  ASSERT_TRUE(store->Add(e1, t0_).ok());
  ASSERT_TRUE(store->Add(e2, t0_ + 30).ok());
  clock_.AdvanceSeconds(200);
  auto snap = store->PruneAndRead();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->text, Line(e2));
  EXPECT_EQ(snap->entries, std::vector<ContactLogEntry>{e2});
}

}  // namespace
}  // namespace bluetrace::store
