// FileUploadCodeStore's file format (store/files/file_upload_code_store.hpp): the per-day
// counts ("issued <day_start> <codes>") next to the live codes, written back with them, and
// a malformed count refused naming the file and the line. The contract itself is in
// tests/store/contract/upload_code_store_contract.cpp.
#include "bluetrace/store/files/file_upload_code_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

const std::string kDigest(64, 'a');

TEST(FileUploadCodeStoreTest, DayCountsAreReadAndWrittenWithTheCodes) {
  test::TempDir tmp;
  const std::string path = tmp.File("upload-codes.txt");
  // A file of an earlier version: codes only.
  test::WriteFileForTest(path, "+61410000001 " + kDigest + " 1600000000 1600003600\n");
  auto codes = FileUploadCodeStore::Open(PosixFileSystem::Instance(), path, {});
  ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  EXPECT_TRUE((*codes)->CountIssuedPerDay(0)->empty());
  ASSERT_TRUE((*codes)->Put({"+61410000002", kDigest, 1'600'000'100, 1'600'003'700}).ok());
  EXPECT_EQ(test::ReadFileForTest(path), "+61410000001 " + kDigest +
                                             " 1600000000 1600003600\n+61410000002 " + kDigest +
                                             " 1600000100 1600003700\nissued 1599955200 1\n");
}

TEST(FileUploadCodeStoreTest, AMalformedDayCountIsRefusedNamingTheLine) {
  test::TempDir tmp;
  const std::string path = tmp.File("upload-codes.txt");
  const std::pair<std::string, int> cases[] = {
      {"issued 1599955201 1\n", 2},  // not a day's start
      {"issued 1599955200 0\n", 2},
      {"issued 1599955200\n", 2},
      {"issued x 1\n", 2},
      {"issued 1599955200 1\nissued 1599955200 2\n", 3},  // the day twice
  };
  for (const auto& [bad, line] : cases) {
    test::WriteFileForTest(path, "+61410000001 " + kDigest + " 1600000000 1600003600\n" + bad);
    auto codes = FileUploadCodeStore::Open(PosixFileSystem::Instance(), path, {});
    ASSERT_FALSE(codes.ok()) << bad;
    EXPECT_EQ(codes.status().code(), util::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(codes.status().message().find("upload-codes.txt line " + std::to_string(line)),
              std::string::npos)
        << codes.status().ToString();
  }
}

}  // namespace
}  // namespace bluetrace::store
