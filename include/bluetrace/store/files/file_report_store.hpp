// FileReportStore: the contact-check reports for the health authority, one file per upload in
// <state_dir>/reports/ (mode 0640), each written atomically and durably before the upload
// is acknowledged.
//
// File names sort by time: "<YYYYMMDD>T<HHMMSS>Z-<uploader digits>-<n>.txt" (UTC, n makes
// names unique within a second). Only names of that shape are listed or read, so a name
// from a user can never point outside the directory. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/report_store.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

class FileReportStore final : public ReportStore {
 public:
  // Creates the directory (0750) when missing.
  static Result<std::unique_ptr<FileReportStore>> Open(FileSystem& fs, std::string dir);

  // Writes a report; returns its file name (not the path).
  Result<std::string> Write(std::string_view uploader, std::int64_t received_at,
                            std::string_view text) override EXCLUDES(mu_);

  // Report file names, oldest first.
  Result<std::vector<std::string>> List() const override;

  // The text of one report. kInvalidArgument for a name that is not a report's.
  Result<std::string> Read(std::string_view name) const override;
  // From the names alone (one directory listing).
  Result<std::uint64_t> CountSince(std::string_view uploader, std::int64_t since) const override;
  // By the time in each name; one unlink per report.
  Result<std::uint64_t> PruneBefore(std::int64_t cutoff) override;

  const std::string& dir() const { return dir_; }

 private:
  FileReportStore(FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

  FileSystem& fs_;
  const std::string dir_;
  util::Mutex mu_;  // makes the exists-check and the write of one name atomic
};

}  // namespace bluetrace::store
