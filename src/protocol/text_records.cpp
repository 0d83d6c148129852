// tempIDs.txt lines "<UserID> <TempID> <start> <expiry>" and contact-log lines
// "<TempID> <start> <expiry>". Credentials lines live in credentials_line.cpp.
#include "bluetrace/protocol/text_records.hpp"

#include <string>
#include <utility>

#include "bluetrace/protocol/text_lines.hpp"
#include "text_detail.hpp"

namespace bluetrace::protocol {
namespace {

// Whitespace defects are reported as such before any field is looked at, so a doubled
// space reads "two spaces" rather than a puzzling "day must be 2 digits".
util::Status CheckSingleSpaces(std::string_view line) {
  if (line.empty()) return util::InvalidArgument("line is empty");
  const std::size_t tab = line.find('\t');
  if (tab != std::string_view::npos) {
    return util::InvalidArgument("tab at byte " + std::to_string(tab + 1) +
                                 "; fields are separated by a single space");
  }
  if (line.front() == ' ') return util::InvalidArgument("line starts with a space");
  if (line.back() == ' ') return util::InvalidArgument("line ends with a space");
  const std::size_t twice = line.find("  ");
  if (twice != std::string_view::npos) {
    return util::InvalidArgument("two spaces at byte " + std::to_string(twice + 1) +
                                 "; fields are separated by a single space");
  }
  return util::Status::Ok();
}

util::Result<std::int64_t> ParseField(std::string_view text, const char* field, TimeZoneMode mode) {
  auto t = ParseTimestamp(text, mode);
  if (!t.ok()) return t.status().WithContext(field);
  return t;
}

// Parses "<TempID> <start> <expiry>" (already checked by CheckSingleSpaces).
util::Status ParseIdAndTimes(std::string_view text, TimeZoneMode mode, TempId& id,
                             std::int64_t& start, std::int64_t& expiry) {
  const std::size_t space = text.find(' ');
  BLUETRACE_ASSIGN_OR_RETURN(auto parsed_id, TempId::Parse(text.substr(0, space)));
  if (space == std::string_view::npos) {
    return util::InvalidArgument("missing start and expiry timestamps after the TempID");
  }
  const std::string_view times = text.substr(space + 1);
  const std::string_view start_text = times.substr(0, kTimestampSize);
  BLUETRACE_ASSIGN_OR_RETURN(auto parsed_start, ParseField(start_text, "start", mode));
  if (times.size() == kTimestampSize) {
    return util::InvalidArgument("missing expiry timestamp after the start");
  }
  if (times[kTimestampSize] != ' ') {
    return util::InvalidArgument("expected a space after the start timestamp, found " +
                                 detail::DescribeByte(times[kTimestampSize]));
  }
  const std::string_view expiry_text = times.substr(kTimestampSize + 1);
  if (expiry_text.size() > kTimestampSize &&
      ParseTimestamp(expiry_text.substr(0, kTimestampSize), mode).ok()) {
    return util::InvalidArgument("unexpected text after the expiry timestamp");
  }
  BLUETRACE_ASSIGN_OR_RETURN(auto parsed_expiry, ParseField(expiry_text, "expiry", mode));
  if (parsed_expiry < parsed_start) {
    return util::InvalidArgument("expiry " + std::string(expiry_text) + " precedes start " +
                                 std::string(start_text));
  }
  id = parsed_id;
  start = parsed_start;
  expiry = parsed_expiry;
  return util::Status::Ok();
}

std::string FormatIdAndTimes(const TempId& id, std::int64_t start, std::int64_t expiry,
                             TimeZoneMode mode) {
  std::string s;
  s.reserve(TempId::kSize + 2 * (1 + kTimestampSize));
  s.append(id.view());
  s += ' ';
  s += FormatTimestamp(start, mode);
  s += ' ';
  s += FormatTimestamp(expiry, mode);
  return s;
}

}  // namespace

util::Result<TempIdRecord> ParseTempIdLine(std::string_view line, TimeZoneMode mode) {
  BLUETRACE_RETURN_IF_ERROR(CheckSingleSpaces(line));
  const std::size_t space = line.find(' ');
  auto user = detail::ParseUserIdField(line);
  if (!user.ok()) return user.status();
  if (space == std::string_view::npos) {
    return util::InvalidArgument("missing TempID, start and expiry after the UserID");
  }
  TempIdRecord record;
  BLUETRACE_RETURN_IF_ERROR(
      ParseIdAndTimes(line.substr(space + 1), mode, record.id, record.start, record.expiry));
  record.user = std::move(*user);
  return record;
}

std::string FormatTempIdLine(const TempIdRecord& record, TimeZoneMode mode) {
  return record.user + ' ' + FormatIdAndTimes(record.id, record.start, record.expiry, mode);
}

util::Result<ContactLogEntry> ParseContactLogLine(std::string_view line, TimeZoneMode mode) {
  BLUETRACE_RETURN_IF_ERROR(CheckSingleSpaces(line));
  ContactLogEntry entry;
  BLUETRACE_RETURN_IF_ERROR(ParseIdAndTimes(line, mode, entry.id, entry.start, entry.expiry));
  return entry;
}

std::string FormatContactLogLine(const ContactLogEntry& entry, TimeZoneMode mode) {
  return FormatIdAndTimes(entry.id, entry.start, entry.expiry, mode);
}

util::Result<std::vector<ContactLogEntry>> ParseContactLog(std::string_view content,
                                                           std::string_view file_name,
                                                           TimeZoneMode mode,
                                                           std::size_t max_entries) {
  std::vector<ContactLogEntry> entries;
  const util::Status st = ForEachLine(content, file_name, [&](const TextLine& line) {
    if (entries.size() >= max_entries) {
      return util::ResourceExhausted("contact log has more than " + std::to_string(max_entries) +
                                     " entries");
    }
    BLUETRACE_ASSIGN_OR_RETURN(auto entry, ParseContactLogLine(line.text, mode));
    entries.push_back(entry);
    return util::Status::Ok();
  });
  if (!st.ok()) return st;
  return entries;
}

}  // namespace bluetrace::protocol
