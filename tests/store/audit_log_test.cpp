// AuditLog: the chain holds across appends, reopening and several writers; tampering
// (a changed, removed or reordered line) is named by line; torn tails are repaired.
#include "bluetrace/store/files/audit_log.hpp"

#include <gtest/gtest.h>

#include <future>
#include <sstream>
#include <thread>
#include <vector>

#include "bluetrace/store/files/file_audit_trail.hpp"
#include "support/fault_injection_fs.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using test::ReadFileForTest;
using test::WriteFileForTest;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

class AuditLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<AuditLog> OpenLog(std::string* note = nullptr) {
    auto log = AuditLog::Open(fs_, clock_, path_, dir_.File(".lock-audit"), note);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }
  AuditVerifyResult VerifyFile() {
    auto r = AuditLog::Verify(fs_, path_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AuditVerifyResult{};
  }
  void WriteThree() {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append("login_ok", {{"user", "+61400000001"}, {"peer", "127.0.0.1"}}).ok());
    ASSERT_TRUE(log->Append("login_failed", {{"user", "+61400000002"}}).ok());
    ASSERT_TRUE(log->Append("upload", {{"user", "+61400000001"}, {"matched", "3"}}).ok());
  }

  test::TempDir dir_;
  PosixFileSystem& fs_ = PosixFileSystem::Instance();
  util::ManualClock clock_{1'700'000'000};
  std::string path_ = dir_.File("audit.log");
};

TEST_F(AuditLogTest, RecordsCarrySequenceTimeEventFieldsAndVerify) {
  WriteThree();
  auto lines = Lines(ReadFileForTest(path_));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("1 1700000000 login_ok user=+61400000001 peer=127.0.0.1 ", 0), 0u)
      << lines[0];
  EXPECT_EQ(lines[0].substr(lines[0].find("127.0.0.1 ") + 10, 64), std::string(64, '0'));
  EXPECT_EQ(lines[2].rfind("3 1700000000 upload ", 0), 0u);
  auto r = VerifyFile();
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.records, 3u);
}

TEST_F(AuditLogTest, ReadGivesEachRecordWithItsValuesUnescapedAndChangesNothing) {
  WriteThree();
  {
    auto log = OpenLog();
    clock_.Advance(std::chrono::seconds(5));
    ASSERT_TRUE(log->Append("login_failed", {{"user", "a b=c\nd"}}).ok());
  }
  const std::string before = ReadFileForTest(path_);
  std::vector<AuditRecord> records;
  auto r = AuditLog::Read(fs_, path_, [&](const AuditRecord& rec) { records.push_back(rec); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok()) << r->problem;
  EXPECT_EQ(r->records, 4u);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].seq, 1u);
  EXPECT_EQ(records[0].unix_time, 1'700'000'000);
  EXPECT_EQ(records[0].event, "login_ok");
  EXPECT_EQ(records[0].fields, (AuditFields{{"user", "+61400000001"}, {"peer", "127.0.0.1"}}));
  EXPECT_EQ(records[3].unix_time, 1'700'000'005);
  EXPECT_EQ(records[3].fields, (AuditFields{{"user", "a b=c\nd"}}));
  EXPECT_EQ(ReadFileForTest(path_), before);

  // Records before a broken line are given; the broken one and those after are not.
  auto lines = Lines(before);
  lines[2].replace(lines[2].find("matched=3"), 9, "matched=4");
  WriteFileForTest(path_, Join(lines) + "5 170");
  records.clear();
  r = AuditLog::Read(fs_, path_, [&](const AuditRecord& rec) { records.push_back(rec); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bad_line, 3u);
  EXPECT_FALSE(r->incomplete_last_line);
  EXPECT_EQ(records.size(), 2u);

  // A last line still being written (or torn) is said apart from a broken one.
  WriteFileForTest(path_, before + "5 170");
  r = AuditLog::Read(fs_, path_, [](const AuditRecord&) {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bad_line, 5u);
  EXPECT_TRUE(r->incomplete_last_line);
  EXPECT_EQ(r->records, 4u);
}

TEST_F(AuditLogTest, ReopeningContinuesTheChain) {
  WriteThree();
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append("user_added", {{"user", "+61400000009"}}).ok());
  }
  auto lines = Lines(ReadFileForTest(path_));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3].rfind("4 ", 0), 0u);
  EXPECT_EQ(VerifyFile().records, 4u);
}

TEST_F(AuditLogTest, AChangedLineIsNamed) {
  WriteThree();
  auto lines = Lines(ReadFileForTest(path_));
  lines[1].replace(lines[1].find("+61400000002"), 12, "+61400000003");
  WriteFileForTest(path_, Join(lines));
  auto r = VerifyFile();
  EXPECT_EQ(r.bad_line, 2u);
  EXPECT_NE(r.problem.find("changed"), std::string::npos) << r.problem;
  EXPECT_EQ(r.records, 1u);
}

TEST_F(AuditLogTest, ARemovedLineIsNamed) {
  WriteThree();
  auto lines = Lines(ReadFileForTest(path_));
  lines.erase(lines.begin() + 1);
  WriteFileForTest(path_, Join(lines));
  auto r = VerifyFile();
  EXPECT_EQ(r.bad_line, 2u);
  EXPECT_NE(r.problem.find("removed"), std::string::npos) << r.problem;
}

TEST_F(AuditLogTest, RemovingTheFirstLineIsNamed) {
  WriteThree();
  auto lines = Lines(ReadFileForTest(path_));
  lines.erase(lines.begin());
  WriteFileForTest(path_, Join(lines));
  EXPECT_EQ(VerifyFile().bad_line, 1u);
}

TEST_F(AuditLogTest, ReorderedLinesAreNamed) {
  WriteThree();
  auto lines = Lines(ReadFileForTest(path_));
  std::swap(lines[1], lines[2]);
  WriteFileForTest(path_, Join(lines));
  EXPECT_EQ(VerifyFile().bad_line, 2u);
}

TEST_F(AuditLogTest, ARecomputedHashStillBreaksTheNextLink) {
  // A forger who edits a line and fixes its own hash is caught by the next line's prev.
  WriteThree();
  auto lines = Lines(ReadFileForTest(path_));
  auto r0 = VerifyFile();
  ASSERT_TRUE(r0.ok());
  lines[1] = lines[0];  // a valid record, but out of place
  WriteFileForTest(path_, Join(lines));
  EXPECT_EQ(VerifyFile().bad_line, 2u);
}

TEST_F(AuditLogTest, ValuesCannotForgeFieldsOrLines) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append("login_failed", {{"user", "x outcome=ok\n1 2 login_ok"}}).ok());
  }
  auto lines = Lines(ReadFileForTest(path_));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("user=x%20outcome%3Dok%0A1%202%20login_ok "), std::string::npos)
      << lines[0];
  auto back = AuditLog::UnescapeValue("x%20outcome%3Dok%0A1");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "x outcome=ok\n1");
  EXPECT_FALSE(AuditLog::UnescapeValue("%4").ok());
  EXPECT_FALSE(AuditLog::UnescapeValue("%zz").ok());
  EXPECT_TRUE(VerifyFile().ok());
}

TEST_F(AuditLogTest, BadEventOrKeyNamesAreRefused) {
  auto log = OpenLog();
  EXPECT_EQ(log->Append("login ok", {}).code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Append("login", {{"Us=er", "x"}}).code(), util::StatusCode::kInvalidArgument);
}

TEST_F(AuditLogTest, ATornTailIsCutOffAtOpenAndTheChainContinues) {
  WriteThree();
  const std::string good = ReadFileForTest(path_);
  WriteFileForTest(path_, good + "4 1700000000 login_ok user=+6140");
  auto torn = VerifyFile();
  EXPECT_EQ(torn.bad_line, 4u);
  EXPECT_NE(torn.problem.find("incomplete"), std::string::npos);
  std::string note;
  auto log = OpenLog(&note);
  EXPECT_NE(note.find("torn"), std::string::npos) << note;
  EXPECT_EQ(ReadFileForTest(path_), good);
  ASSERT_TRUE(log->Append("login_ok", {{"user", "+61400000001"}}).ok());
  auto r = VerifyFile();
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.records, 4u);
}

TEST_F(AuditLogTest, AGarbledLastLineStopsOpenNamingTheLine) {
  WriteFileForTest(path_, "not a record\n");
  auto log = AuditLog::Open(fs_, clock_, path_, "");
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(log.status().message().find("line 1"), std::string::npos);
}

TEST_F(AuditLogTest, TwoWritersOnOneFileKeepOneChain) {
  // The server and bluetrace-admin each hold their own AuditLog on the same file.
  auto a = OpenLog();
  auto b = OpenLog();
  ASSERT_TRUE(a->Append("a", {}).ok());
  ASSERT_TRUE(b->Append("b", {}).ok());
  ASSERT_TRUE(a->Append("a", {}).ok());
  auto r = VerifyFile();
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.records, 3u);
}

TEST_F(AuditLogTest, ConcurrentAppendsFromThreadsAndTwoLogsStayChained) {
  auto a = OpenLog();
  auto b = OpenLog();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      AuditLog& log = t % 2 ? *a : *b;
      for (int i = 0; i < 25; ++i) {
        EXPECT_TRUE(log.Append("login_ok", {{"n", std::to_string(i)}}).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto r = VerifyFile();
  EXPECT_TRUE(r.ok()) << r.problem << " at line " << r.bad_line;
  EXPECT_EQ(r.records, 100u);
}

TEST_F(AuditLogTest, AHugeValueIsCutSoTheLogStillVerifiesAndReopens) {
  // A login name may be 64 KiB on the wire; escaped it would pass the 64 KiB line limit
  // of the reader, and the log would look tampered with and refuse to reopen.
  const std::string name(60000, ' ');
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append("login_failed", {{"user", name}, {"peer", "127.0.0.1"}}).ok());
  }
  const auto lines = Lines(ReadFileForTest(path_));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(
      lines[0].find(" user=" + AuditLog::EscapeValue(std::string(1024, ' ') + "...(60000 bytes)") +
                    " peer=127.0.0.1 "),
      std::string::npos);
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append("login_ok", {{"user", std::string(1024, '%')}}).ok());
  const auto r = VerifyFile();
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.records, 2u);
}

TEST_F(AuditLogTest, ARecordTooLongToReadBackIsRefused) {
  auto log = OpenLog();
  AuditFields fields(30, {"user", std::string(1024, ' ')});
  EXPECT_EQ(log->Append("login_failed", fields).code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFileForTest(path_), "");
  ASSERT_TRUE(log->Append("login_ok", {{"user", "+61400000001"}}).ok());
  EXPECT_TRUE(VerifyFile().ok());
}

TEST_F(AuditLogTest, VerifyOfAMissingFileIsNotFound) {
  auto r = AuditLog::Verify(fs_, dir_.File("none.log"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), util::StatusCode::kNotFound);
}

// --- Retention (Prune): the oldest records go, an anchor at line 1 keeps the rest verifiable.

class AuditPruneTest : public AuditLogTest {
 protected:
  // Three records at t0, two at t0 + 100 s; returns the file's lines.
  std::vector<std::string> WriteFive() {
    WriteThree();
    clock_.AdvanceSeconds(100);
    auto log = OpenLog();
    EXPECT_TRUE(log->Append("login_ok", {{"user", "+61400000003"}}).ok());
    EXPECT_TRUE(log->Append("upload", {{"user", "+61400000003"}, {"matched", "0"}}).ok());
    return Lines(ReadFileForTest(path_));
  }
  static std::string HashOf(const std::string& line) { return line.substr(line.size() - 64); }
  static std::string PrevOf(const std::string& line) { return line.substr(line.size() - 129, 64); }
  static constexpr std::int64_t kT0 = 1'700'000'000;
};

TEST_F(AuditPruneTest, TheOldRecordsGoAndTheRestVerifiesFromTheAnchor) {
  const auto before = WriteFive();
  clock_.AdvanceSeconds(1000);
  auto log = OpenLog();
  auto pruned = log->Prune(kT0 + 50, {{"by", "ana"}});
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(pruned->records_dropped, 3u);
  EXPECT_EQ(pruned->anchor_seq, 3u);

  auto lines = Lines(ReadFileForTest(path_));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("3 1700001100 audit_pruned before=1700000050 records=3 by=ana ", 0), 0u)
      << lines[0];
  EXPECT_EQ(PrevOf(lines[0]), HashOf(before[2]));  // the last dropped record's hash
  EXPECT_EQ(lines[1], before[3]);                  // the kept lines, byte for byte
  EXPECT_EQ(lines[2], before[4]);
  auto r = VerifyFile();
  EXPECT_TRUE(r.ok()) << r.problem << " at line " << r.bad_line;
  EXPECT_TRUE(r.anchored);
  EXPECT_EQ(r.chain_from, 4u);
  EXPECT_EQ(r.records, 3u);

  // The chain continues, through this log and a reopened one.
  ASSERT_TRUE(log->Append("login_ok", {{"user", "+61400000001"}}).ok());
  ASSERT_TRUE(OpenLog()->Append("login_ok", {{"user", "+61400000002"}}).ok());
  lines = Lines(ReadFileForTest(path_));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[3].rfind("6 ", 0), 0u);
  EXPECT_EQ(lines[4].rfind("7 ", 0), 0u);
  EXPECT_TRUE(VerifyFile().ok());
}

TEST_F(AuditPruneTest, NothingOldEnoughWritesNothing) {
  WriteFive();
  const std::string before = ReadFileForTest(path_);
  auto pruned = OpenLog()->Prune(kT0, {});
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->records_dropped, 0u);
  EXPECT_EQ(ReadFileForTest(path_), before);
  EXPECT_FALSE(VerifyFile().anchored);
}

TEST_F(AuditPruneTest, PruningEveryRecordLeavesTheAnchorAndTheChainGoesOn) {
  const auto before = WriteFive();
  auto log = OpenLog();
  auto pruned = log->Prune(kT0 + 500, {});
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->records_dropped, 5u);
  auto lines = Lines(ReadFileForTest(path_));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("5 1700000100 audit_pruned before=1700000500 records=5 ", 0), 0u);
  EXPECT_EQ(VerifyFile().records, 1u);
  // The next record carries the anchor's prev hash (the last dropped record's hash), here
  // and from a log opened on the anchor alone.
  ASSERT_TRUE(log->Append("login_ok", {}).ok());
  {
    auto other = OpenLog();
    ASSERT_TRUE(other->Append("login_ok", {}).ok());
  }
  lines = Lines(ReadFileForTest(path_));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].rfind("6 ", 0), 0u);
  EXPECT_EQ(PrevOf(lines[1]), HashOf(before[4]));
  auto r = VerifyFile();
  EXPECT_TRUE(r.ok()) << r.problem << " at line " << r.bad_line;
  EXPECT_EQ(r.chain_from, 6u);
}

TEST_F(AuditPruneTest, ASecondPruneReplacesTheFirstAnchor) {
  WriteFive();
  auto log = OpenLog();
  ASSERT_EQ(log->Prune(kT0 + 50, {})->records_dropped, 3u);
  clock_.AdvanceSeconds(1000);
  ASSERT_TRUE(log->Append("login_ok", {}).ok());  // seq 6, at t0 + 1100
  auto pruned = log->Prune(kT0 + 500, {});
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->records_dropped, 2u);  // records 4 and 5; the old anchor goes unsaid
  auto lines = Lines(ReadFileForTest(path_));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("5 1700001100 audit_pruned before=1700000500 records=2 ", 0), 0u);
  EXPECT_EQ(lines[1].rfind("6 ", 0), 0u);
  EXPECT_TRUE(VerifyFile().ok());
}

TEST_F(AuditPruneTest, AnotherWriterAppendsToThePrunedFile) {
  // The server's log is open while bluetrace-admin prunes: its next record must go into the
  // new file (not the unlinked old one) and continue the chain.
  WriteFive();
  auto server = OpenLog();
  ASSERT_TRUE(OpenLog()->Prune(kT0 + 50, {{"by", "root"}}).ok());
  ASSERT_TRUE(server->Append("login_ok", {{"user", "+61400000001"}}).ok());
  auto lines = Lines(ReadFileForTest(path_));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3].rfind("6 ", 0), 0u);
  auto r = VerifyFile();
  EXPECT_TRUE(r.ok()) << r.problem << " at line " << r.bad_line;
}

TEST_F(AuditPruneTest, TamperingAfterAPruneIsStillNamed) {
  WriteFive();
  ASSERT_TRUE(OpenLog()->Prune(kT0 + 50, {})->records_dropped == 3u);
  const auto pruned = Lines(ReadFileForTest(path_));

  auto lines = pruned;  // a kept record changed
  lines[2].replace(lines[2].find("matched=0"), 9, "matched=7");
  WriteFileForTest(path_, Join(lines));
  EXPECT_EQ(VerifyFile().bad_line, 3u);

  lines = pruned;  // the anchor's count changed
  lines[0].replace(lines[0].find("records=3"), 9, "records=2");
  WriteFileForTest(path_, Join(lines));
  auto r = VerifyFile();
  EXPECT_EQ(r.bad_line, 1u);
  EXPECT_NE(r.problem.find("changed"), std::string::npos) << r.problem;

  lines = pruned;  // the anchor removed: the chain no longer starts at record 1
  lines.erase(lines.begin());
  WriteFileForTest(path_, Join(lines));
  EXPECT_EQ(VerifyFile().bad_line, 1u);

  lines = pruned;  // a kept record removed after the anchor
  lines.erase(lines.begin() + 1);
  WriteFileForTest(path_, Join(lines));
  EXPECT_EQ(VerifyFile().bad_line, 2u);

  lines = pruned;  // an anchor anywhere but line 1
  lines.push_back(pruned[0]);
  WriteFileForTest(path_, Join(lines));
  r = VerifyFile();
  EXPECT_EQ(r.bad_line, 4u);
  EXPECT_NE(r.problem.find("after line 1"), std::string::npos) << r.problem;
}

TEST_F(AuditPruneTest, ABrokenChainIsNotPruned) {
  auto lines = WriteFive();
  lines[3].replace(lines[3].find("+61400000003"), 12, "+61400000004");
  WriteFileForTest(path_, Join(lines));
  const std::string tampered = ReadFileForTest(path_);
  auto pruned = OpenLog()->Prune(kT0 + 50, {});
  ASSERT_FALSE(pruned.ok());
  EXPECT_EQ(pruned.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(pruned.status().message().find("line 4"), std::string::npos);
  EXPECT_EQ(ReadFileForTest(path_), tampered);
}

TEST_F(AuditPruneTest, OnlyAPruneWritesAnAnchor) {
  auto log = OpenLog();
  EXPECT_EQ(log->Append("audit_pruned", {{"before", "1"}, {"records", "1"}}).code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFileForTest(path_), "");
}

// A prune that fails before its rename (a failed fsync of the new file, a failed rename: what
// a crash there leaves) keeps the old file whole, leaves no temporary file, and the log
// appends on to the old chain.
TEST_F(AuditPruneTest, AFailedPruneLeavesTheOldFile) {
  WriteFive();
  const std::string before = ReadFileForTest(path_);
  test::FaultInjectingFileSystem faulty(fs_);
  auto log = AuditLog::Open(faulty, clock_, path_, dir_.File(".lock-audit"));
  ASSERT_TRUE(log.ok());
  for (int fault = 0; fault < 3; ++fault) {
    if (fault == 0) faulty.FailSync();
    if (fault == 1) faulty.FailRename();
    if (fault == 2) faulty.SetDiskFull(true);
    auto pruned = (*log)->Prune(kT0 + 50, {});
    faulty.ClearFaults();
    EXPECT_FALSE(pruned.ok()) << fault;
    EXPECT_EQ(ReadFileForTest(path_), before) << fault;
    auto names = fs_.ListDir(dir_.path());
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{".lock-audit", "audit.log"})) << fault;
  }
  ASSERT_TRUE((*log)->Append("login_ok", {}).ok());
  auto r = VerifyFile();
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.records, 6u);
  EXPECT_FALSE(r.anchored);
}

// FileAuditTrail::healthy() is asked on every login, on an I/O thread: while the log is
// open it must not wait for the lock another record holds through its fsync.
TEST(FileAuditTrailTest, HealthyDoesNotWaitForARecordsFsync) {
  test::TempDir dir;
  test::FaultInjectingFileSystem fs(PosixFileSystem::Instance());
  util::ManualClock clock(1'700'000'000);
  auto trail =
      FileAuditTrail::Open(fs, clock, dir.File("audit.log"), dir.File(".lock-audit"), nullptr);
  ASSERT_TRUE(trail.ok()) << trail.status().ToString();

  std::promise<void> syncing;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  fs.SetBeforeWriteHook([&, first = true](std::string_view op, const std::string&) mutable {
    if (op != "sync" || !first) return;
    first = false;
    syncing.set_value();
    released.wait();
  });
  std::thread recorder([&] { EXPECT_TRUE((*trail)->Record("login_ok", {{"user", "x"}}).ok()); });
  syncing.get_future().wait();  // the record holds the lock in its fsync now
  auto healthy = std::async(std::launch::async, [&] { return (*trail)->healthy(); });
  const bool answered = healthy.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  release.set_value();
  recorder.join();
  fs.SetBeforeWriteHook(nullptr);
  ASSERT_TRUE(answered) << "healthy() waited for the record's fsync";
  EXPECT_TRUE(healthy.get());
}

}  // namespace
}  // namespace bluetrace::store
