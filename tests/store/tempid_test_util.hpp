// Shared by the FileTempIdStore tests: sample data, an independent reader of tempIDs.txt and a
// fixture that opens a store over a temporary directory through a fault-injecting
// FileSystem.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/protocol/text_lines.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/store/files/file_tempid_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "support/fault_injection_fs.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store::tempid_test {

// The original's sample tempIDs.txt (CRLF), as shipped with and without a final newline.
inline std::string OriginalSample(bool final_newline) {
  return test::ReadFileForTest(
      test::SourcePath(final_newline ? "tests/data/original/tempIDs-final-newline.txt"
                                     : "tests/data/original/tempIDs.txt"));
}

inline protocol::TempIdRecord Rec(std::string user, std::string_view id, std::string_view start,
                                  std::string_view expiry) {
  protocol::TempIdRecord r;
  r.user = std::move(user);
  r.id = *protocol::TempId::Parse(id);
  r.start = *protocol::ParseTimestamp(start);
  r.expiry = *protocol::ParseTimestamp(expiry);
  return r;
}

// Every record of a file, read with the protocol parsers rather than the store; fails the
// calling test when the file does not parse.
inline std::vector<protocol::TempIdRecord> RecordsInFile(const std::string& path) {
  std::vector<protocol::TempIdRecord> out;
  const std::string content = test::ReadFileForTest(path);
  util::Status st = protocol::ForEachLine(content, path, [&](const protocol::TextLine& line) {
    auto r = protocol::ParseTempIdLine(line.text);
    if (!r.ok()) return r.status();
    out.push_back(*r);
    return util::Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

class TempIdStoreFixture : public ::testing::Test {
 protected:
  TempIdStoreOptions Options() const {
    TempIdStoreOptions options;
    options.path = path_;
    return options;
  }

  std::unique_ptr<FileTempIdStore> Open(RecoveryReport* report = nullptr) {
    return OpenWith(Options(), report);
  }

  std::unique_ptr<FileTempIdStore> OpenWith(const TempIdStoreOptions& options,
                                            RecoveryReport* report = nullptr) {
    auto store = FileTempIdStore::Open(fs_, clock_, options, report);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  test::TempDir dir_;
  std::string path_ = dir_.File("tempIDs.txt");
  util::ManualClock clock_{1'589'391'906};  // 13/05/2020 17:45:06 UTC
  test::FaultInjectingFileSystem fs_{PosixFileSystem::Instance()};
};

}  // namespace bluetrace::store::tempid_test
