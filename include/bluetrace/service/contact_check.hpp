// Contact-log checking: what the health authority learns from an uploaded contact log.
//
// The whole log is resolved through one TempID lookup (the store's index or one query,
// never a scan of tempIDs.txt) and every entry keeps its place in upload order:
//  - a contact: the TempID is known, so the entry names a phone number. Every contact is
//    printed as the original prints it, with the start time from the uploaded log;
//  - a flagged contact: a contact whose uploaded times differ from the TempID's record
//    (clock skew, another time zone, or a forged entry). Still a contact; the report
//    marks it with the issued times;
//  - unknown: no such TempID (never issued, or compacted away).
// Nothing is dropped: every entry is in the result once. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

struct CheckedEntry {
  protocol::ContactLogEntry entry;               // as uploaded
  std::optional<protocol::TempIdRecord> record;  // as issued (record->user: the contact)
  bool known() const { return record.has_value(); }
  // A contact whose uploaded start or expiry differs from the issued ones.
  bool times_differ() const {
    return record && (record->start != entry.start || record->expiry != entry.expiry);
  }
};

struct ContactCheckResult {
  std::string uploader;               // canonical UserID of the uploading (positive) user
  std::int64_t received_at = 0;       // unix seconds
  std::vector<CheckedEntry> entries;  // the whole log, in upload order
  std::size_t matched = 0;            // contacts whose times agree with the record
  std::size_t mismatched = 0;         // contacts whose times differ (flagged)
  std::size_t unknown = 0;            // entries naming no known TempID
};

// Resolves every TempID of a log in one call (one query for a database), in order.
using TempIdLookup = std::function<util::Result<std::vector<std::optional<protocol::TempIdRecord>>>(
    std::span<const protocol::TempId>)>;

// Matches the log against the records `lookup` finds. The lookup's error is returned as it
// is: a store that cannot answer must never make a contact read as unknown.
util::Result<ContactCheckResult> CheckContacts(std::string uploader, std::int64_t received_at,
                                               std::vector<protocol::ContactLogEntry> entries,
                                               const TempIdLookup& lookup);

// The original's server console lines, exactly, each ending in '\n':
//   received contact log from <uploader>
//   <TempID>, / <start>, / <expiry>;        for every entry
//   Contact log checking
//   <UserID>, / <start>, / <TempID>;        for every contact (flagged ones included)
// followed, only when non-empty, by the section bluetrace adds:
//   Unknown TempIDs: <n>          then <TempID>, / <start>, / <expiry>; for each
std::string FormatConsoleLines(const ContactCheckResult& result, protocol::TimeZoneMode mode);

// The durable report for the health authority (one file per upload): a header with the
// uploader, the time received and the counts, then [matched] (contacts whose times agree),
// [mismatched] (flagged contacts, with the issued times) and [unknown] sections, one line
// per entry. Format documented in docs/PROTOCOL.md.
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

// One entry of a report's sections, its timestamps as the report prints them ("13/05/2020
// 17:45:06"). `phone` is empty for an unknown entry; `issued_*` are set for a mismatched one;
// `start`/`expiry` are the uploaded times (a matched line gives the start only).
struct ReportEntry {
  std::string tempid;
  std::string phone;
  std::string start;
  std::string expiry;
  std::string issued_start;
  std::string issued_expiry;
};

// A whole report read back (the console's report page and its contacts list).
struct ParsedReport {
  ReportHeader header;
  std::string received;  // the header's "received" value, e.g. "13/05/2020 18:10:00 UTC"
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;  // of its timestamps
  std::vector<ReportEntry> matched;
  std::vector<ReportEntry> mismatched;
  std::vector<ReportEntry> unknown;
};

// Reads back what FormatReport writes. kInvalidArgument naming the problem: the header's
// (ParseReportHeader), a line of a section with the wrong fields, or sections whose lengths
// differ from the header's counts.
util::Result<ParsedReport> ParseReport(std::string_view report);

}  // namespace bluetrace::service
