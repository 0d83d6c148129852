// The fault-injecting FileSystem itself: each fault kind surfaces as the Status a real
// failure gives, and leaves the files as a real failure would.
#include "support/fault_injection_fs.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace bluetrace::test {
namespace {

class FaultInjectingFileSystemTest : public ::testing::Test {
 protected:
  TempDir dir_;
  FaultInjectingFileSystem fs_{store::PosixFileSystem::Instance()};
};

TEST_F(FaultInjectingFileSystemTest, PassesThroughWhenNothingIsArmed) {
  ASSERT_TRUE(fs_.ReplaceFileAtomically(dir_.File("f"), "abc").ok());
  EXPECT_EQ(*fs_.ReadFile(dir_.File("f")), "abc");
  auto file = fs_.OpenForAppend(dir_.File("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("def").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "abcdef");
  EXPECT_EQ(fs_.replace_calls(), 1);
  EXPECT_EQ(fs_.append_calls(), 1);
  EXPECT_EQ(fs_.sync_calls(), 2);
}

TEST_F(FaultInjectingFileSystemTest, FailedSyncDuringReplaceKeepsOldContents) {
  WriteFileForTest(dir_.File("f"), "old");
  fs_.FailSync();
  const util::Status st = fs_.ReplaceFileAtomically(dir_.File("f"), "new");
  EXPECT_EQ(st.code(), util::StatusCode::kIoError);
  EXPECT_NE(st.message().find("fsync"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(dir_.File("f")), std::string::npos) << st.ToString();
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "old");
  // One-shot: the next replace succeeds.
  EXPECT_TRUE(fs_.ReplaceFileAtomically(dir_.File("f"), "new").ok());
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "new");
}

TEST_F(FaultInjectingFileSystemTest, NthSyncFails) {
  auto file = fs_.OpenForAppend(dir_.File("log"));
  ASSERT_TRUE(file.ok());
  fs_.FailSync(3);
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_TRUE((*file)->Sync().ok());
  const util::Status st = (*file)->Sync();
  EXPECT_EQ(st.code(), util::StatusCode::kIoError);
  EXPECT_NE(st.message().find("fdatasync " + dir_.File("log")), std::string::npos);
  // Like the real file: never trusted again after a failed sync.
  EXPECT_EQ((*file)->Sync().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*file)->Append("x").code(), util::StatusCode::kFailedPrecondition);
}

TEST_F(FaultInjectingFileSystemTest, DiskFullFailsEveryWriteUntilCleared) {
  WriteFileForTest(dir_.File("f"), "old");
  auto file = fs_.OpenForAppend(dir_.File("f"));
  ASSERT_TRUE(file.ok());
  fs_.SetDiskFull(true);
  const util::Status append = (*file)->Append("more");
  EXPECT_NE(append.message().find("No space left on device"), std::string::npos);
  const util::Status replace = fs_.ReplaceFileAtomically(dir_.File("f"), "new");
  EXPECT_NE(replace.message().find("No space left on device"), std::string::npos);
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "old");
  fs_.SetDiskFull(false);
  EXPECT_TRUE((*file)->Append("more").ok());
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "oldmore");
}

TEST_F(FaultInjectingFileSystemTest, TornAppendWritesOnlyAPrefix) {
  auto file = fs_.OpenForAppend(dir_.File("log"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("line one\n").ok());
  fs_.TearNextAppend(4);
  EXPECT_EQ((*file)->Append("line two\n").code(), util::StatusCode::kIoError);
  EXPECT_EQ(ReadFileForTest(dir_.File("log")), "line one\nline");
  EXPECT_EQ((*file)->Size(), 13u);
  EXPECT_TRUE((*file)->Append("!").ok());  // one-shot
}

TEST_F(FaultInjectingFileSystemTest, ADiskFillingUpMidAppendTearsItWithEnospc) {
  auto file = fs_.OpenForAppend(dir_.File("log"));
  ASSERT_TRUE(file.ok());
  fs_.TearNextAppend(3, ENOSPC);
  const util::Status st = (*file)->Append("line one\n");
  EXPECT_NE(st.message().find("No space left on device"), std::string::npos) << st.ToString();
  EXPECT_EQ(ReadFileForTest(dir_.File("log")), "lin");
}

TEST_F(FaultInjectingFileSystemTest, AFailedTruncateLeavesTheFileAsItWas) {
  WriteFileForTest(dir_.File("f"), "complete\ntorn");
  fs_.FailTruncate();
  const util::Status st = fs_.Truncate(dir_.File("f"), 9);
  EXPECT_EQ(st.code(), util::StatusCode::kIoError);
  EXPECT_NE(st.message().find("truncate"), std::string::npos) << st.ToString();
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "complete\ntorn");
  EXPECT_TRUE(fs_.Truncate(dir_.File("f"), 9).ok());  // one-shot
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "complete\n");
}

TEST_F(FaultInjectingFileSystemTest, FailedRenameKeepsOldContents) {
  WriteFileForTest(dir_.File("f"), "old");
  fs_.FailRename(2);
  EXPECT_TRUE(fs_.ReplaceFileAtomically(dir_.File("f"), "first").ok());
  const util::Status st = fs_.ReplaceFileAtomically(dir_.File("f"), "second");
  EXPECT_NE(st.message().find("rename"), std::string::npos) << st.ToString();
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "first");
}

TEST_F(FaultInjectingFileSystemTest, RenameReplacesTheTargetUnlessItsFaultIsArmed) {
  WriteFileForTest(dir_.File("f"), "old");
  WriteFileForTest(dir_.File("g"), "new");
  fs_.FailRename();
  const util::Status st = fs_.Rename(dir_.File("g"), dir_.File("f"));
  EXPECT_EQ(st.code(), util::StatusCode::kIoError);
  EXPECT_NE(st.message().find("rename"), std::string::npos) << st.ToString();
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "old");
  ASSERT_TRUE(fs_.Rename(dir_.File("g"), dir_.File("f")).ok());
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "new");
  EXPECT_FALSE(*fs_.Exists(dir_.File("g")));
  EXPECT_EQ(fs_.rename_calls(), 2);
}

TEST_F(FaultInjectingFileSystemTest, TheHookSeesEveryDiskChangeBeforeItHappens) {
  WriteFileForTest(dir_.File("f"), "");
  std::vector<std::string> seen;
  fs_.SetBeforeWriteHook([&](std::string_view op, const std::string& path) {
    // Before, not after: the append has not reached the file yet.
    seen.push_back(std::string(op) + " " + path.substr(path.find_last_of('/') + 1) + " " +
                   std::to_string(ReadFileForTest(dir_.File("f")).size()));
  });
  auto file = fs_.OpenForAppend(dir_.File("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE(fs_.ReadFile(dir_.File("f")).ok());  // not a change: not seen
  ASSERT_TRUE(fs_.Truncate(dir_.File("f"), 1).ok());
  fs_.SetBeforeWriteHook(nullptr);
  EXPECT_EQ(seen, (std::vector<std::string>{"open-for-append f 0", "append f 0", "sync f 3",
                                            "truncate f 3"}));
}

TEST_F(FaultInjectingFileSystemTest, ClearFaultsDisarmsEverything) {
  fs_.FailSync();
  fs_.FailRename();
  fs_.FailTruncate();
  fs_.SetDiskFull(true);
  fs_.ClearFaults();
  WriteFileForTest(dir_.File("t"), "xy");
  EXPECT_TRUE(fs_.Truncate(dir_.File("t"), 1).ok());
  EXPECT_TRUE(fs_.ReplaceFileAtomically(dir_.File("f"), "x").ok());
}

}  // namespace
}  // namespace bluetrace::test
