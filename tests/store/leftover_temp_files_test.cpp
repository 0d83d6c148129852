#include "bluetrace/store/files/leftover_temp_files.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "bluetrace/store/files/file_user_store.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using test::ReadFileForTest;
using test::WriteFileForTest;

class LeftoverTempFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDirs(dir_.File("reports")).ok());
    WriteFileForTest(dir_.File("credentials.txt"), kCredentials);
    WriteFileForTest(dir_.File("reports/20200513T175000Z-61410888888-1.txt"), "report\n");
  }

  // One leftover of each kind of target, as a crash leaves them; returns their bytes.
  std::uint64_t PlantLeftovers() {
    WriteFileForTest(dir_.File(kCredentialsCopy), kCredentials);
    WriteFileForTest(dir_.File(kLockoutsCopy), "+61410999999 0 1589392206\n");
    WriteFileForTest(dir_.File(kTempIdsCopy), "+61410888888 1234");
    WriteFileForTest(dir_.File(kKeyCopy), "-----BEGIN PRIVATE KEY-----\n");
    WriteFileForTest(dir_.File(kReportCopy), "half a rep");
    return kCredentials.size() + 26 + 17 + 28 + 10;
  }

  // Names that look alike but are not a temporary of ours (or not of a state file).
  std::vector<std::string> PlantLookalikes() {
    const std::vector<std::string> names = {
        ".credentials.txt.tmp.12",           // no counter
        ".credentials.txt.tmp.x.1",          // pid not a number
        "credentials.txt.tmp.1.2",           // no leading dot
        ".contactlog.txt.tmp.3.4",           // a client's file in the same directory
        ".ready.tmp.5.6",                    // not a state file
        "notes.txt",                         // the operator's
        "reports/.notes.txt.tmp.1.2",        // not a report's name
        "reports/20200513T175000Z-1-1.txt",  // a report
    };
    for (const auto& n : names) WriteFileForTest(dir_.File(n), "keep me");
    return names;
  }

  bool Exists(const std::string& name) { return *fs_.Exists(dir_.File(name)); }

  LeftoverTempFiles Run(const LeftoverTempFileOptions& options = {}) {
    auto r = RemoveLeftoverTempFiles(fs_, dir_.path(), options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : LeftoverTempFiles{};
  }

  const std::string kCredentials = "+61410888888 comp3331\n+61410777777 datha457\n";
  static constexpr const char* kCredentialsCopy = ".credentials.txt.tmp.4242.0";
  static constexpr const char* kLockoutsCopy = ".lockouts.txt.tmp.4242.1";
  static constexpr const char* kTempIdsCopy = ".tempIDs.txt.tmp.77.3";
  static constexpr const char* kKeyCopy = ".server.key.tmp.9.0";
  static constexpr const char* kReportCopy = "reports/.20200513T175001Z-61410888888-1.txt.tmp.77.4";

  PosixFileSystem& fs_ = PosixFileSystem::Instance();
  test::TempDir dir_;
};

TEST_F(LeftoverTempFilesTest, RemovesEveryLeftoverOfOursAndNothingElse) {
  const std::uint64_t bytes = PlantLeftovers();
  const auto lookalikes = PlantLookalikes();
  const LeftoverTempFiles r = Run();
  EXPECT_EQ(r.removed_files, 5u);
  EXPECT_EQ(r.removed_bytes, bytes);
  EXPECT_EQ(r.kept_files, 0u);
  EXPECT_TRUE(r.kept_because.empty());
  EXPECT_TRUE(r.errors.empty());
  for (const char* n : {kCredentialsCopy, kLockoutsCopy, kTempIdsCopy, kKeyCopy, kReportCopy}) {
    EXPECT_FALSE(Exists(n)) << n;
  }
  for (const auto& n : lookalikes) EXPECT_EQ(ReadFileForTest(dir_.File(n)), "keep me") << n;
  EXPECT_EQ(ReadFileForTest(dir_.File("credentials.txt")), kCredentials);
  EXPECT_TRUE(Exists("reports/20200513T175000Z-61410888888-1.txt"));

  // A second pass finds nothing.
  const LeftoverTempFiles again = Run();
  EXPECT_EQ(again.removed_files, 0u);
  EXPECT_EQ(again.kept_files, 0u);
}

TEST_F(LeftoverTempFilesTest, WithoutLeftoversNoLockFileIsCreated) {
  PlantLookalikes();
  const LeftoverTempFiles r = Run();
  EXPECT_EQ(r.removed_files + r.kept_files, 0u);
  EXPECT_FALSE(Exists(StateDir::kServerLock));
  EXPECT_FALSE(Exists(StateDir::kCredentialsLock));
  EXPECT_FALSE(Exists(".lock-lockouts"));
}

TEST_F(LeftoverTempFilesTest, WhileAServerHoldsTheDirectoryItsFilesAreKept) {
  const std::uint64_t bytes = PlantLeftovers();
  auto server = fs_.LockFile(dir_.File(StateDir::kServerLock), false);
  ASSERT_TRUE(server.ok());
  const LeftoverTempFiles r = Run();
  // tempIDs.txt, the key and the report may be writes of the running server in progress;
  // credentials.txt and lockouts.txt are written only under their own locks, which are free.
  EXPECT_EQ(r.kept_files, 3u);
  EXPECT_EQ(r.kept_bytes, bytes - kCredentials.size() - 26);
  EXPECT_TRUE(r.server_running);
  EXPECT_TRUE(r.kept_because.empty());
  EXPECT_EQ(r.removed_files, 2u);
  EXPECT_FALSE(Exists(kCredentialsCopy));
  EXPECT_FALSE(Exists(kLockoutsCopy));
  EXPECT_TRUE(Exists(kTempIdsCopy));
  EXPECT_TRUE(Exists(kKeyCopy));
  EXPECT_TRUE(Exists(kReportCopy));
}

TEST_F(LeftoverTempFilesTest, TheServerRemovesThemUnderTheLockItHolds) {
  const std::uint64_t bytes = PlantLeftovers();
  auto server = fs_.LockFile(dir_.File(StateDir::kServerLock), false);
  ASSERT_TRUE(server.ok());
  LeftoverTempFileOptions options;
  options.caller_holds_server_lock = true;
  const LeftoverTempFiles r = Run(options);
  EXPECT_EQ(r.removed_files, 5u);
  EXPECT_EQ(r.removed_bytes, bytes);
  EXPECT_EQ(r.kept_files, 0u);
}

// A prune of audit.log (audit.retention) that died left its temporary: removed under
// .lock-audit, kept while a prune holds it.
TEST_F(LeftoverTempFilesTest, AnInterruptedAuditPruneLeavesATemporaryRemovedUnderItsLock) {
  const char* copy = ".audit.log.tmp.4242.2";
  WriteFileForTest(dir_.File(copy), "3 1700000000 audit_pruned");
  auto pruner = fs_.LockFile(dir_.File(StateDir::kAuditLock), false);
  ASSERT_TRUE(pruner.ok());
  LeftoverTempFileOptions options;
  options.lock_timeout = std::chrono::milliseconds(0);
  LeftoverTempFiles r = Run(options);
  EXPECT_EQ(r.kept_files, 1u);
  ASSERT_EQ(r.kept_because.size(), 1u);
  EXPECT_NE(r.kept_because[0].message().find(StateDir::kAuditLock), std::string::npos);
  EXPECT_TRUE(Exists(copy));
  pruner->reset();
  r = Run();
  EXPECT_EQ(r.removed_files, 1u);
  EXPECT_FALSE(Exists(copy));
}

TEST_F(LeftoverTempFilesTest, ACredentialsRewriteInProgressKeepsItsTemporary) {
  PlantLeftovers();
  auto writer = fs_.LockFile(dir_.File(StateDir::kCredentialsLock), false);
  ASSERT_TRUE(writer.ok());
  LeftoverTempFileOptions options;
  options.lock_timeout = std::chrono::milliseconds(0);
  const LeftoverTempFiles r = Run(options);
  EXPECT_EQ(r.kept_files, 1u);
  EXPECT_EQ(r.kept_bytes, kCredentials.size());
  ASSERT_EQ(r.kept_because.size(), 1u);
  EXPECT_NE(r.kept_because[0].message().find(StateDir::kCredentialsLock), std::string::npos);
  EXPECT_EQ(ReadFileForTest(dir_.File(kCredentialsCopy)), kCredentials);
  EXPECT_FALSE(r.server_running);
  EXPECT_EQ(r.removed_files, 4u);

  writer->reset();  // the rewrite ended (here: died); the next pass removes it
  EXPECT_EQ(Run().removed_files, 1u);
  EXPECT_FALSE(Exists(kCredentialsCopy));
}

TEST_F(LeftoverTempFilesTest, CountingOnlyTakesNoLockAndChangesNothing) {
  const std::uint64_t bytes = PlantLeftovers();
  LeftoverTempFileOptions options;
  options.remove = false;
  const LeftoverTempFiles r = Run(options);
  EXPECT_EQ(r.kept_files, 5u);
  EXPECT_EQ(r.kept_bytes, bytes);
  EXPECT_EQ(r.removed_files, 0u);
  EXPECT_TRUE(r.kept_because.empty());
  EXPECT_TRUE(Exists(kCredentialsCopy));
  EXPECT_FALSE(Exists(StateDir::kServerLock));
  EXPECT_FALSE(Exists(StateDir::kCredentialsLock));
}

TEST(DescribeLeftoversTest, CountsFilesAndBytes) {
  EXPECT_EQ(DescribeLeftovers(1, 812), "1 leftover temporary file (812 bytes)");
  EXPECT_EQ(DescribeLeftovers(3, 8120), "3 leftover temporary files (8120 bytes)");
}

TEST_F(LeftoverTempFilesTest, MissingDirectoriesHoldNoLeftovers) {
  auto r = RemoveLeftoverTempFiles(fs_, dir_.File("nowhere"), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->removed_files + r->kept_files, 0u);
}

}  // namespace
}  // namespace bluetrace::store
