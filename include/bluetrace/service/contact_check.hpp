// Contact-log checking: what the health authority learns from an uploaded contact log.
//
// Every entry of the log is resolved through a TempID lookup (the TempID store's
// in-memory index, never a scan of tempIDs.txt) and lands in exactly one section:
//  - matched:    the TempID is known and the entry's start and expiry equal the record's;
//  - mismatched: the TempID is known but the times disagree (a forged or corrupted entry);
//  - unknown:    no such TempID (never issued, or compacted away).
// Nothing is dropped: the three counts always add up to the number of entries
// (ASSIGNMENT.md 6.6). The printed encounter time is the start time from the uploaded log.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

struct ContactMatch {
  protocol::ContactLogEntry entry;  // as uploaded
  protocol::TempIdRecord record;    // as issued (record.user is the contact's phone)
};

struct ContactCheckResult {
  std::string uploader;          // canonical UserID of the uploading (positive) user
  std::int64_t received_at = 0;  // unix seconds
  std::vector<protocol::ContactLogEntry> entries;  // the whole log, in upload order
  std::vector<ContactMatch> matched;
  std::vector<ContactMatch> mismatched;
  std::vector<protocol::ContactLogEntry> unknown;
};

using TempIdLookup = std::function<std::optional<protocol::TempIdRecord>(const protocol::TempId&)>;

ContactCheckResult CheckContacts(std::string uploader, std::int64_t received_at,
                                 std::vector<protocol::ContactLogEntry> entries,
                                 const TempIdLookup& lookup);

// The original's server console lines, exactly (ASSIGNMENT.md 3), each ending in '\n':
//   received contact log from <uploader>
//   <TempID>, / <start>, / <expiry>;        for every entry
//   Contact log checking
//   <UserID>, / <start>, / <TempID>;        for every match
// followed, only when non-empty, by the sections bluetrace adds:
//   Unknown TempIDs: <n>          then <TempID>, / <start>, / <expiry>; for each
//   Mismatched times: <n>         then <TempID>, / <start>, / <expiry>; for each
std::string FormatConsoleLines(const ContactCheckResult& result, protocol::TimeZoneMode mode);

// The durable report for the health authority (one file per upload): a header with the
// uploader, the time received and the counts, then [matched], [mismatched] and [unknown]
// sections, one line per entry. Format documented in docs/PROTOCOL.md.
std::string FormatReport(const ContactCheckResult& result, protocol::TimeZoneMode mode);

// What the header of a report says (bluetrace-admin's summaries read it back).
struct ReportHeader {
  std::string uploader;
  std::uint64_t entries = 0;
  std::uint64_t matched = 0;
  std::uint64_t mismatched = 0;
  std::uint64_t unknown = 0;
};

// Reads the header FormatReport writes, up to its first empty line. kInvalidArgument
// naming the problem: not a report, a line missing or malformed, or counts that do not
// add up to `entries`.
util::Result<ReportHeader> ParseReportHeader(std::string_view report);

}  // namespace bluetrace::service
