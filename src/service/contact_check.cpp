#include "bluetrace/service/contact_check.hpp"

#include <charconv>
#include <utility>

namespace bluetrace::service {
namespace {

using protocol::FormatTimestamp;

void AppendEntryLines(std::string& out, const protocol::ContactLogEntry& e,
                      protocol::TimeZoneMode mode) {
  out.append(e.id.view()).append(",\n");
  out.append(FormatTimestamp(e.start, mode)).append(",\n");
  out.append(FormatTimestamp(e.expiry, mode)).append(";\n");
}

std::string ZoneName(protocol::TimeZoneMode mode) {
  return mode == protocol::TimeZoneMode::kUtc ? "UTC" : "local time";
}

}  // namespace

util::Result<ContactCheckResult> CheckContacts(std::string uploader, std::int64_t received_at,
                                               std::vector<protocol::ContactLogEntry> entries,
                                               const TempIdLookup& lookup) {
  ContactCheckResult r;
  r.uploader = std::move(uploader);
  r.received_at = received_at;
  std::vector<protocol::TempId> ids;
  ids.reserve(entries.size());
  for (const auto& e : entries) ids.push_back(e.id);
  BLUETRACE_ASSIGN_OR_RETURN(std::vector<std::optional<protocol::TempIdRecord>> records,
                             lookup(ids));
  records.resize(entries.size());  // a short answer leaves the rest unknown
  r.entries.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    CheckedEntry c{std::move(entries[i]), std::move(records[i])};
    if (!c.known()) {
      ++r.unknown;
    } else if (c.times_differ()) {
      ++r.mismatched;
    } else {
      ++r.matched;
    }
    r.entries.push_back(std::move(c));
  }
  return r;
}

std::string FormatConsoleLines(const ContactCheckResult& r, protocol::TimeZoneMode mode) {
  std::string out = "received contact log from " + r.uploader + "\n";
  for (const auto& c : r.entries) AppendEntryLines(out, c.entry, mode);
  out += "Contact log checking\n";
  for (const auto& c : r.entries) {
    if (!c.known()) continue;
    out.append(c.record->user).append(",\n");
    out.append(FormatTimestamp(c.entry.start, mode)).append(",\n");
    out.append(c.entry.id.view()).append(";\n");
  }
  if (r.unknown > 0) {
    out += "Unknown TempIDs: " + std::to_string(r.unknown) + "\n";
    for (const auto& c : r.entries) {
      if (!c.known()) AppendEntryLines(out, c.entry, mode);
    }
  }
  return out;
}

std::string FormatReport(const ContactCheckResult& r, protocol::TimeZoneMode mode) {
  std::string out = "# bluetrace contact check report\n";
  out += "uploader: " + r.uploader + "\n";
  out += "received: " + FormatTimestamp(r.received_at, mode) + " " + ZoneName(mode) + "\n";
  out += "entries: " + std::to_string(r.entries.size()) + "\n";
  out += "matched: " + std::to_string(r.matched) + "\n";
  out += "mismatched: " + std::to_string(r.mismatched) + "\n";
  out += "unknown: " + std::to_string(r.unknown) + "\n";
  std::string matched = "\n[matched]\n# <contact UserID> <encounter start> <TempID>\n";
  std::string mismatched =
      "\n[mismatched]\n# contacts all the same, flagged: their times differ from the TempID's\n"
      "# <TempID> <uploaded start> <uploaded expiry> <UserID> <issued start> <issued expiry>\n";
  std::string unknown = "\n[unknown]\n# <TempID> <uploaded start> <uploaded expiry>\n";
  for (const auto& c : r.entries) {
    if (!c.known()) {
      unknown += protocol::FormatContactLogLine(c.entry, mode) + "\n";
    } else if (c.times_differ()) {
      mismatched += c.entry.id.ToString() + " " + FormatTimestamp(c.entry.start, mode) + " " +
                    FormatTimestamp(c.entry.expiry, mode) + " " + c.record->user + " " +
                    FormatTimestamp(c.record->start, mode) + " " +
                    FormatTimestamp(c.record->expiry, mode) + "\n";
    } else {
      matched += c.record->user + " " + FormatTimestamp(c.entry.start, mode) + " " +
                 c.entry.id.ToString() + "\n";
    }
  }
  return out + matched + mismatched + unknown;
}

util::Result<ReportHeader> ParseReportHeader(std::string_view report) {
  constexpr std::string_view kTitle = "# bluetrace contact check report\n";
  if (report.substr(0, kTitle.size()) != kTitle) {
    return util::InvalidArgument("not a contact check report (no title line)");
  }
  ReportHeader h;
  const std::pair<std::string_view, std::uint64_t*> counts[] = {{"entries", &h.entries},
                                                                {"matched", &h.matched},
                                                                {"mismatched", &h.mismatched},
                                                                {"unknown", &h.unknown}};
  bool seen[std::size(counts)] = {};
  bool uploader_seen = false;
  std::string_view rest = report.substr(kTitle.size());
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    if (end == std::string_view::npos) return util::InvalidArgument("report header cut short");
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    if (line.empty()) break;
    const std::size_t colon = line.find(": ");
    if (colon == std::string_view::npos) {
      return util::InvalidArgument("malformed report header line: " + std::string(line));
    }
    const std::string_view key = line.substr(0, colon), value = line.substr(colon + 2);
    if (key == "uploader") {
      h.uploader = std::string(value);
      uploader_seen = true;
    }
    for (std::size_t i = 0; i < std::size(counts); ++i) {
      if (key != counts[i].first) continue;
      const auto [p, ec] =
          std::from_chars(value.data(), value.data() + value.size(), *counts[i].second);
      if (ec != std::errc() || p != value.data() + value.size()) {
        return util::InvalidArgument("malformed report header line: " + std::string(line));
      }
      seen[i] = true;
    }
  }
  if (!uploader_seen) return util::InvalidArgument("report header has no uploader line");
  for (std::size_t i = 0; i < std::size(counts); ++i) {
    if (!seen[i]) {
      return util::InvalidArgument("report header has no " + std::string(counts[i].first) +
                                   " line");
    }
  }
  if (h.matched + h.mismatched + h.unknown != h.entries) {
    return util::InvalidArgument("report header counts do not add up to its entries");
  }
  return h;
}

util::Result<ParsedReport> ParseReport(std::string_view report) {
  ParsedReport r;
  BLUETRACE_ASSIGN_OR_RETURN(r.header, ParseReportHeader(report));
  if (const auto at = report.find("\nreceived: "); at != std::string_view::npos) {
    const auto value = report.substr(at + 11);
    r.received = std::string(value.substr(0, value.find('\n')));
    if (!r.received.ends_with(" UTC")) r.time_mode = protocol::TimeZoneMode::kLocal;
  }
  std::vector<ReportEntry>* section = nullptr;
  std::string_view rest = report.substr(report.find("\n\n") + 2);
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    if (end == std::string_view::npos) return util::InvalidArgument("report cut short");
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    if (line.empty() || line[0] == '#') continue;
    if (line == "[matched]") {
      section = &r.matched;
      continue;
    }
    if (line == "[mismatched]") {
      section = &r.mismatched;
      continue;
    }
    if (line == "[unknown]") {
      section = &r.unknown;
      continue;
    }
    std::vector<std::string> f;
    for (std::size_t pos = 0; pos <= line.size();) {
      std::size_t sp = line.find(' ', pos);
      if (sp == std::string_view::npos) sp = line.size();
      f.emplace_back(line.substr(pos, sp - pos));
      pos = sp + 1;
    }
    auto bad = [&] { return util::InvalidArgument("malformed report line: " + std::string(line)); };
    ReportEntry e;
    if (section == &r.matched && f.size() == 4) {
      e = ReportEntry{f[3], f[0], f[1] + " " + f[2], "", "", ""};
    } else if (section == &r.mismatched && f.size() == 10) {
      e = ReportEntry{
          f[0], f[5], f[1] + " " + f[2], f[3] + " " + f[4], f[6] + " " + f[7], f[8] + " " + f[9]};
    } else if (section == &r.unknown && f.size() == 5) {
      e = ReportEntry{f[0], "", f[1] + " " + f[2], f[3] + " " + f[4], "", ""};
    } else {
      return bad();
    }
    section->push_back(std::move(e));
  }
  if (r.matched.size() != r.header.matched || r.mismatched.size() != r.header.mismatched ||
      r.unknown.size() != r.header.unknown) {
    return util::InvalidArgument("report sections do not match the header's counts");
  }
  return r;
}

}  // namespace bluetrace::service
