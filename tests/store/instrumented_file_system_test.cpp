#include "bluetrace/store/instrumented_file_system.hpp"

#include <gtest/gtest.h>

#include "support/fault_injection_fs.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

class InstrumentedFileSystemTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  test::FaultInjectingFileSystem faulty_{PosixFileSystem::Instance()};
  InstrumentedFileSystem fs_{faulty_};
};

TEST_F(InstrumentedFileSystemTest, TimesEverySyncOfAnAppendedFile) {
  auto file = fs_.OpenForAppend(dir_.File("log.txt"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append("one\n").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append("two\n").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  EXPECT_EQ((*file)->Size(), 8u);
  EXPECT_EQ(fs_.sync_latency().Read().count, 2u);
  EXPECT_EQ(fs_.replace_latency().Read().count, 0u);
  auto text = fs_.ReadFile(dir_.File("log.txt"));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "one\ntwo\n");
}

TEST_F(InstrumentedFileSystemTest, AFailedSyncIsTimedAndItsErrorPassedOn) {
  auto file = fs_.OpenForAppend(dir_.File("log.txt"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("x\n").ok());
  faulty_.FailSync();
  const util::Status st = (*file)->Sync();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Input/output error"), std::string::npos) << st.ToString();
  EXPECT_EQ(fs_.sync_latency().Read().count, 1u);
}

TEST_F(InstrumentedFileSystemTest, TimesAtomicReplacesAndPassesTheRestThrough) {
  ASSERT_TRUE(fs_.ReplaceFileAtomically(dir_.File("a.txt"), "v1\n").ok());
  ASSERT_TRUE(fs_.ReplaceFileAtomically(dir_.File("a.txt"), "v2\n", 0640).ok());
  const auto replaces = fs_.replace_latency().Read();
  EXPECT_EQ(replaces.count, 2u);
  EXPECT_GT(replaces.sum_nanos, 0u);
  auto mode = fs_.FileMode(dir_.File("a.txt"));
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, 0640u);
  auto exists = fs_.Exists(dir_.File("b.txt"));
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
  EXPECT_EQ(fs_.sync_latency().Read().count, 0u);
}

}  // namespace
}  // namespace bluetrace::store
