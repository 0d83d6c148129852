// ReportStore: the contact-check reports for the health authority, one per upload, each
// durable before the upload is acknowledged. Implemented by files/file_report_store.hpp
// (<state_dir>/reports/); the contract is proven for every backend by
// tests/store/contract/report_store_contract.cpp.
//
// Contract. Write() is atomic (a report is read whole or not at all) and durable when it
// returns; names are unique, also when several handles write in the same second, sort by
// time of receipt, and have the shape IsReportName accepts: a name from a user can never
// point at anything but a report. Reports written through any handle are listed by every
// handle. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

// True for names of the shape every ReportStore gives:
// "<YYYYMMDD>T<HHMMSS>Z-<uploader digits>-<n>.txt" (UTC; n makes names unique within a
// second).
bool IsReportName(std::string_view name);

// The name of report number `n` of `uploader` received at `received_at` (unix seconds).
std::string ReportName(std::string_view uploader, std::int64_t received_at, std::uint64_t n);

// What a report name says: the uploader's digits ("+" in front: the canonical phone
// number), the second of receipt and the number within that second.
struct ReportNameParts {
  std::string uploader;
  std::int64_t received_at = 0;
  std::uint64_t n = 0;
};
// The inverse of ReportName; kInvalidArgument for a name IsReportName refuses or whose time
// is no calendar time.
util::Result<ReportNameParts> ParseReportName(std::string_view name);

class ReportStore {
 public:
  virtual ~ReportStore() = default;

  // Stores a report; returns its name.
  virtual util::Result<std::string> Write(std::string_view uploader, std::int64_t received_at,
                                          std::string_view text) = 0;
  // Report names, oldest first.
  virtual util::Result<std::vector<std::string>> List() const = 0;
  // The text of one report. kInvalidArgument for a name that is not a report's,
  // kNotFound for one that does not exist.
  virtual util::Result<std::string> Read(std::string_view name) const = 0;
  // How many reports of `uploader` were received at or after `since` (unix seconds): the
  // per-user upload budget, shared by every handle.
  virtual util::Result<std::uint64_t> CountSince(std::string_view uploader,
                                                 std::int64_t since) const = 0;
  // Deletes the reports received before `cutoff` (unix seconds): the report retention.
  // Returns how many went.
  virtual util::Result<std::uint64_t> PruneBefore(std::int64_t cutoff) = 0;
};

}  // namespace bluetrace::store
