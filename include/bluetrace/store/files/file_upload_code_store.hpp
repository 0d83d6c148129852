// FileUploadCodeStore: the UploadCodeStore of upload-codes.txt (contract:
// store/upload_code_store.hpp), one line "<phone> <digest> <issued_at> <expires_at>" per
// live code, in byte order, then one line "issued <day_start> <codes>" per UTC day on which
// codes were issued (the activity chart's counts, kept in the same file so that a code and
// its count are written by one atomic replace). The file is small (one line per code issued
// within its lifetime, one per day with codes), so every operation re-reads it and replaces
// it atomically while holding an inter-process lock: bluetrace-admin (`code issue`) and the
// server change it safely at the same time, and a redeemed code is gone for both before
// Redeem returns. Expired codes are dropped by the next rewrite. Thread-safe; the
// FileSystem must outlive it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/upload_code_store.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

class FileUploadCodeStore final : public UploadCodeStore {
 public:
  // Checks that `path` (a missing file is an empty store) parses: a malformed line is
  // kInvalidArgument naming the file and the line. `lock` coordinates the rewrites with
  // other processes; empty: none.
  static Result<std::unique_ptr<FileUploadCodeStore>> Open(FileSystem& fs, std::string path,
                                                           InterProcessLock lock);

  FileUploadCodeStore(const FileUploadCodeStore&) = delete;
  FileUploadCodeStore& operator=(const FileUploadCodeStore&) = delete;

  util::Status Put(const UploadCodeRecord& record) override;
  util::Result<RedeemResult> Redeem(std::string_view phone, std::string_view digest,
                                    std::int64_t now) override;
  util::Status RemoveUser(std::string_view phone) override;
  // Reads the file without the lock: an atomic replace never shows half a file.
  util::Result<std::vector<CodesIssuedOnDay>> CountIssuedPerDay(std::int64_t since) const override;

 private:
  struct Codes {
    std::map<std::string, UploadCodeRecord, std::less<>> live;  // by phone
    std::map<std::int64_t, std::uint64_t> issued;               // codes per day start
  };

  FileUploadCodeStore(FileSystem& fs, std::string path, InterProcessLock lock)
      : fs_(fs), path_(std::move(path)), lock_(std::move(lock)) {}

  Result<Codes> Load() const;
  util::Status Save(const Codes& codes, std::int64_t now) const;
  // Runs `change` on the file's codes under the locks and writes them back when it
  // returns true.
  template <typename Fn>
  util::Status Change(Fn change);

  FileSystem& fs_;
  const std::string path_;
  const InterProcessLock lock_;
  util::Mutex mu_;  // serialises this process's read-change-write cycles
};

// upload-codes.txt as written: its live codes and its counts of codes issued per day.
struct UploadCodesFile {
  std::vector<UploadCodeRecord> codes;                   // sorted by phone
  std::map<std::int64_t, std::uint64_t> issued_per_day;  // by the UTC day's start
};

// The one parser of upload-codes.txt (the layout rules of protocol/text_lines.hpp):
// kInvalidArgument "<file_name> line <n>: ..." for a malformed line (a phone number that is
// not canonical, a digest that is not 64 lower-case hex digits, a bad time, a day that is
// not a UTC day's start, a count that is not positive), a second code for one phone number
// or a second count for one day. Expired codes are kept as written. bluetrace-admin's
// verify and db import read the file through it.
Result<UploadCodesFile> ParseUploadCodesFile(std::string_view content, std::string_view file_name);
// The lines of the file, without their line ends: a code's, then a day's count. The file
// lists the codes by phone in byte order, then the days in order, each line ending in '\n'.
std::string FormatUploadCodeLine(const UploadCodeRecord& record);
std::string FormatIssuedCountLine(std::int64_t day_start, std::uint64_t codes);

}  // namespace bluetrace::store
