#include "bluetrace/store/file_system.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using test::ReadFileForTest;
using test::TempDir;
using test::WriteFileForTest;

class PosixFileSystemTest : public ::testing::Test {
 protected:
  PosixFileSystem& fs_ = PosixFileSystem::Instance();
  TempDir dir_;
};

TEST_F(PosixFileSystemTest, ReadFileReturnsExactBytes) {
  const std::string bytes = std::string("a\r\nb\0c", 6);
  WriteFileForTest(dir_.File("f"), bytes);
  auto got = fs_.ReadFile(dir_.File("f"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, bytes);
}

TEST_F(PosixFileSystemTest, ReadMissingFileIsNotFoundNamingThePath) {
  auto got = fs_.ReadFile(dir_.File("missing.txt"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), util::StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find(dir_.File("missing.txt")), std::string::npos);
  EXPECT_NE(got.status().message().find("No such file"), std::string::npos);
}

TEST_F(PosixFileSystemTest, ReadFileRefusesFilesOverTheLimit) {
  WriteFileForTest(dir_.File("big"), std::string(100, 'x'));
  auto got = fs_.ReadFile(dir_.File("big"), 99);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), util::StatusCode::kResourceExhausted);
  EXPECT_TRUE(fs_.ReadFile(dir_.File("big"), 100).ok());
}

TEST_F(PosixFileSystemTest, OpenForReadReadsInPieces) {
  WriteFileForTest(dir_.File("f"), "hello world");
  auto file = fs_.OpenForRead(dir_.File("f"));
  ASSERT_TRUE(file.ok());
  std::string all;
  char buf[4];
  for (;;) {
    auto n = (*file)->Read(buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    all.append(buf, *n);
  }
  EXPECT_EQ(all, "hello world");
}

TEST_F(PosixFileSystemTest, ReplaceCreatesWithExactModeDespiteUmask) {
  const mode_t old_umask = ::umask(077);
  ASSERT_TRUE(fs_.ReplaceFileAtomically(dir_.File("a"), "one", 0644).ok());
  ::umask(old_umask);
  EXPECT_EQ(ReadFileForTest(dir_.File("a")), "one");
  auto mode = fs_.FileMode(dir_.File("a"));
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, 0644u);
  ASSERT_TRUE(fs_.ReplaceFileAtomically(dir_.File("b"), "two").ok());
  EXPECT_EQ(*fs_.FileMode(dir_.File("b")), 0600u);
}

TEST_F(PosixFileSystemTest, ReplaceOverwritesAndLeavesNoTemporaries) {
  WriteFileForTest(dir_.File("state.txt"), "old contents that are longer");
  ASSERT_TRUE(fs_.ReplaceFileAtomically(dir_.File("state.txt"), "new").ok());
  EXPECT_EQ(ReadFileForTest(dir_.File("state.txt")), "new");
  auto names = fs_.ListDir(dir_.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"state.txt"});
}

TEST_F(PosixFileSystemTest, ReplaceFromSourceWritesEveryPieceInOrder) {
  WriteFileForTest(dir_.File("big.txt"), "old");
  int calls = 0;
  ASSERT_TRUE(fs_.ReplaceFileFromSource(
                     dir_.File("big.txt"),
                     [&](std::string& out) -> Result<bool> {
                       if (calls == 1000) return false;
                       out = std::to_string(calls++) + "\n";
                       return true;
                     },
                     0640)
                  .ok());
  std::string expected;
  for (int i = 0; i < 1000; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(ReadFileForTest(dir_.File("big.txt")), expected);
  EXPECT_EQ(*fs_.FileMode(dir_.File("big.txt")), 0640u);
  EXPECT_EQ(*fs_.ListDir(dir_.path()), std::vector<std::string>{"big.txt"});
}

TEST_F(PosixFileSystemTest, ReplaceFromSourceFailingLeavesTheTargetAndNoTemporary) {
  WriteFileForTest(dir_.File("big.txt"), "old");
  int calls = 0;
  const Status st =
      fs_.ReplaceFileFromSource(dir_.File("big.txt"), [&](std::string& out) -> Result<bool> {
        if (calls++ == 3) {
          return util::Unavailable("database gone");
        }
        out = "piece\n";
        return true;
      });
  EXPECT_EQ(st.code(), util::StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "database gone");
  EXPECT_EQ(ReadFileForTest(dir_.File("big.txt")), "old");
  EXPECT_EQ(*fs_.ListDir(dir_.path()), std::vector<std::string>{"big.txt"});
}

TEST_F(PosixFileSystemTest, FailedReplaceLeavesOldContentsAndNamesThePath) {
  WriteFileForTest(dir_.File("f"), "old");
  // Renaming a file over a non-empty directory fails after the temporary was written.
  ASSERT_TRUE(fs_.CreateDirs(dir_.File("d/sub")).ok());
  const Status st = fs_.ReplaceFileAtomically(dir_.File("d"), "new");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("rename"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(dir_.File("d")), std::string::npos) << st.ToString();
  EXPECT_EQ(*fs_.ListDir(dir_.path()), (std::vector<std::string>{"d", "f"}));
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "old");
}

TEST_F(PosixFileSystemTest, ReplaceInMissingDirectoryFails) {
  const Status st = fs_.ReplaceFileAtomically(dir_.File("nope/f"), "x");
  EXPECT_EQ(st.code(), util::StatusCode::kNotFound);
  EXPECT_NE(st.message().find(dir_.File("nope/")), std::string::npos) << st.ToString();
}

TEST_F(PosixFileSystemTest, ConcurrentReplacesLeaveOneWholeVersion) {
  const std::string path = dir_.File("f");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string body(1000, static_cast<char>('a' + t));
      for (int i = 0; i < 20; ++i) ASSERT_TRUE(fs_.ReplaceFileAtomically(path, body).ok());
    });
  }
  for (auto& th : threads) th.join();
  const std::string got = ReadFileForTest(path);
  ASSERT_EQ(got.size(), 1000u);
  EXPECT_EQ(got, std::string(1000, got[0]));
  EXPECT_EQ(fs_.ListDir(dir_.path())->size(), 1u);
}

TEST_F(PosixFileSystemTest, AppendSyncAndSize) {
  const std::string path = dir_.File("log");
  {
    auto file = fs_.OpenForAppend(path, 0640);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    EXPECT_EQ((*file)->Size(), 0u);
    ASSERT_TRUE((*file)->Append("abc").ok());
    ASSERT_TRUE((*file)->Append("").ok());
    ASSERT_TRUE((*file)->Append("def\n").ok());
    ASSERT_TRUE((*file)->Sync().ok());
    EXPECT_EQ((*file)->Size(), 7u);
    ASSERT_TRUE((*file)->Close().ok());
    EXPECT_FALSE((*file)->Append("x").ok());  // closed
  }
  EXPECT_EQ(*fs_.FileMode(path), 0640u);
  auto again = fs_.OpenForAppend(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Size(), 7u);
  ASSERT_TRUE((*again)->Append("ghi").ok());
  ASSERT_TRUE((*again)->Sync().ok());
  EXPECT_EQ(ReadFileForTest(path), "abcdef\nghi");
  EXPECT_EQ(*fs_.FileSize(path), 10u);
}

TEST_F(PosixFileSystemTest, WriteBehindBetweenAppendsKeepsEveryByte) {
  const std::string path = dir_.File("copy");
  WriteFileForTest(path, "head\n");
  auto file = fs_.OpenForAppend(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::string expected = "head\n";
  ASSERT_TRUE((*file)->WriteBehind().ok());  // nothing appended yet
  for (std::size_t piece = 0; piece < 5; ++piece) {
    const std::string data(70'000 + piece, static_cast<char>('a' + static_cast<int>(piece)));
    ASSERT_TRUE((*file)->Append(data).ok());
    expected += data;
    ASSERT_TRUE((*file)->WriteBehind().ok());
  }
  ASSERT_TRUE((*file)->WriteBehind().ok());  // waits for the last piece, starts nothing
  ASSERT_TRUE((*file)->Sync().ok());
  EXPECT_EQ((*file)->Size(), expected.size());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(ReadFileForTest(path), expected);
  const util::Status closed = (*file)->WriteBehind();
  EXPECT_EQ(closed.code(), util::StatusCode::kFailedPrecondition) << closed.ToString();
}

TEST_F(PosixFileSystemTest, TruncateShortensTheFile) {
  WriteFileForTest(dir_.File("f"), "complete\ntorn-li");
  ASSERT_TRUE(fs_.Truncate(dir_.File("f"), 9).ok());
  EXPECT_EQ(ReadFileForTest(dir_.File("f")), "complete\n");
  const Status st = fs_.Truncate(dir_.File("missing"), 0);
  EXPECT_EQ(st.code(), util::StatusCode::kNotFound);
  EXPECT_NE(st.message().find(dir_.File("missing")), std::string::npos);
}

TEST_F(PosixFileSystemTest, ExistsSizeModeAndRemove) {
  EXPECT_FALSE(*fs_.Exists(dir_.File("f")));
  WriteFileForTest(dir_.File("f"), "12345");
  EXPECT_TRUE(*fs_.Exists(dir_.File("f")));
  EXPECT_EQ(*fs_.FileSize(dir_.File("f")), 5u);
  ASSERT_TRUE(fs_.RemoveFile(dir_.File("f")).ok());
  EXPECT_FALSE(*fs_.Exists(dir_.File("f")));
  const Status st = fs_.RemoveFile(dir_.File("f"));
  EXPECT_EQ(st.code(), util::StatusCode::kNotFound);
  EXPECT_NE(st.message().find("remove " + dir_.File("f")), std::string::npos) << st.ToString();
  EXPECT_EQ(fs_.FileSize(dir_.File("f")).status().code(), util::StatusCode::kNotFound);
}

TEST_F(PosixFileSystemTest, CreateDirsMakesParentsAndIsIdempotent) {
  ASSERT_TRUE(fs_.CreateDirs(dir_.File("a/b/c"), 0750).ok());
  ASSERT_TRUE(fs_.CreateDirs(dir_.File("a/b/c")).ok());
  EXPECT_EQ(*fs_.FileMode(dir_.File("a/b/c")) & 0700u, 0700u);
  WriteFileForTest(dir_.File("file"), "x");
  const Status st = fs_.CreateDirs(dir_.File("file/sub"));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(dir_.File("file")), std::string::npos) << st.ToString();
}

TEST_F(PosixFileSystemTest, ListDirIsSorted) {
  WriteFileForTest(dir_.File("b"), "");
  WriteFileForTest(dir_.File("a"), "");
  WriteFileForTest(dir_.File("c"), "");
  EXPECT_EQ(*fs_.ListDir(dir_.path()), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(fs_.ListDir(dir_.File("nope")).status().code(), util::StatusCode::kNotFound);
}

TEST_F(PosixFileSystemTest, PermissionErrorsAreReportedAsSuch) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file modes";
  WriteFileForTest(dir_.File("secret"), "x");
  ASSERT_EQ(::chmod(dir_.File("secret").c_str(), 0), 0);
  auto got = fs_.ReadFile(dir_.File("secret"));
  EXPECT_EQ(got.status().code(), util::StatusCode::kPermissionDenied);
}

TEST_F(PosixFileSystemTest, LockExcludesASecondLocker) {
  const std::string path = dir_.File("server.lock");
  auto first = fs_.LockFile(path, false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = fs_.LockFile(path, false);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), util::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(path), std::string::npos);
  first->reset();  // releases the lock
  auto third = fs_.LockFile(path, false);
  EXPECT_TRUE(third.ok());
}

TEST_F(PosixFileSystemTest, WaitingLockerGetsTheLockOnRelease) {
  const std::string path = dir_.File("lock");
  auto first = fs_.LockFile(path, false);
  ASSERT_TRUE(first.ok());
  std::thread waiter([&] { EXPECT_TRUE(fs_.LockFile(path, true).ok()); });
  first->reset();
  waiter.join();
}

TEST_F(PosixFileSystemTest, TheTemporaryOfAReplaceHasTheMatchedName) {
  // Renaming over a non-empty directory fails after the temporary was written; the error
  // names the temporary.
  ASSERT_TRUE(fs_.CreateDirs(dir_.File("tempIDs.txt/sub")).ok());
  const Status st = fs_.ReplaceFileAtomically(dir_.File("tempIDs.txt"), "x");
  ASSERT_FALSE(st.ok());
  const std::string prefix = "rename " + dir_.path() + "/";
  const auto at = st.message().find(prefix);
  ASSERT_NE(at, std::string::npos) << st.ToString();
  const std::string rest = st.message().substr(at + prefix.size());
  const std::string name = rest.substr(0, rest.find(" -> "));
  EXPECT_EQ(TempFileTarget(name), std::optional<std::string_view>("tempIDs.txt")) << name;
}

TEST(TempFileNameTest, TheMatcherRecognisesExactlyTheNamesThatAreMade) {
  EXPECT_EQ(TempFileName("credentials.txt", 4242, 7), ".credentials.txt.tmp.4242.7");
  for (const std::string target : {"credentials.txt", "tempIDs.txt", "a", ".hidden", "x.tmp.1.2",
                                   "20200513T175000Z-61410888888-1.txt"}) {
    EXPECT_EQ(TempFileTarget(TempFileName(target, 1, 0)), std::optional<std::string_view>(target));
    EXPECT_EQ(TempFileTarget(TempFileName(target, 4'294'967'295u, UINT64_MAX)),
              std::optional<std::string_view>(target));
  }
  for (const char* other :
       {"credentials.txt", ".credentials.txt", ".credentials.txt.tmp", ".credentials.txt.tmp.1",
        ".credentials.txt.tmp.1.", ".credentials.txt.tmp..1", ".credentials.txt.tmp.x.1",
        ".credentials.txt.tmp.1.x", "credentials.txt.tmp.1.2", ".credentials.txt.tmp1.2",
        ".credentials.txt.temp.1.2", ".tmp.1.2", "..tmp.1.2", "",
        ".credentials.txt.tmp.1.123456789012345678901", ".credentials.txt.tmp.-1.2"}) {
    EXPECT_EQ(TempFileTarget(other), std::nullopt) << other;
  }
}

TEST(JoinPathTest, AddsOneSlash) {
  EXPECT_EQ(JoinPath("/var/lib/bluetrace", "credentials.txt"),
            "/var/lib/bluetrace/credentials.txt");
  EXPECT_EQ(JoinPath("/var/lib/bluetrace/", "x"), "/var/lib/bluetrace/x");
  EXPECT_EQ(JoinPath("", "x"), "x");
}

}  // namespace
}  // namespace bluetrace::store
