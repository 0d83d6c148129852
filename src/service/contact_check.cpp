#include "bluetrace/service/contact_check.hpp"

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

ContactCheckResult CheckContacts(std::string uploader, std::int64_t received_at,
                                 std::vector<protocol::ContactLogEntry> entries,
                                 const TempIdLookup& lookup) {
  ContactCheckResult r;
  r.uploader = std::move(uploader);
  r.received_at = received_at;
  for (const auto& e : entries) {
    std::optional<protocol::TempIdRecord> rec = lookup(e.id);
    if (!rec) {
      r.unknown.push_back(e);
    } else if (rec->start == e.start && rec->expiry == e.expiry) {
      r.matched.push_back({e, std::move(*rec)});
    } else {
      r.mismatched.push_back({e, std::move(*rec)});
    }
  }
  r.entries = std::move(entries);
  return r;
}

std::string FormatConsoleLines(const ContactCheckResult& r, protocol::TimeZoneMode mode) {
  std::string out = "received contact log from " + r.uploader + "\n";
  for (const auto& e : r.entries) AppendEntryLines(out, e, mode);
  out += "Contact log checking\n";
  for (const auto& m : r.matched) {
    out.append(m.record.user).append(",\n");
    out.append(FormatTimestamp(m.entry.start, mode)).append(",\n");
    out.append(m.entry.id.view()).append(";\n");
  }
  if (!r.unknown.empty()) {
    out += "Unknown TempIDs: " + std::to_string(r.unknown.size()) + "\n";
    for (const auto& e : r.unknown) AppendEntryLines(out, e, mode);
  }
  if (!r.mismatched.empty()) {
    out += "Mismatched times: " + std::to_string(r.mismatched.size()) + "\n";
    for (const auto& m : r.mismatched) AppendEntryLines(out, m.entry, mode);
  }
  return out;
}

std::string FormatReport(const ContactCheckResult& r, protocol::TimeZoneMode mode) {
  std::string out = "# bluetrace contact check report\n";
  out += "uploader: " + r.uploader + "\n";
  out += "received: " + FormatTimestamp(r.received_at, mode) + " " + ZoneName(mode) + "\n";
  out += "entries: " + std::to_string(r.entries.size()) + "\n";
  out += "matched: " + std::to_string(r.matched.size()) + "\n";
  out += "mismatched: " + std::to_string(r.mismatched.size()) + "\n";
  out += "unknown: " + std::to_string(r.unknown.size()) + "\n";
  out += "\n[matched]\n# <contact UserID> <encounter start> <TempID>\n";
  for (const auto& m : r.matched) {
    out += m.record.user + " " + FormatTimestamp(m.entry.start, mode) + " " +
           m.entry.id.ToString() + "\n";
  }
  out += "\n[mismatched]\n";
  out += "# <TempID> <uploaded start> <uploaded expiry> <UserID> <issued start> <issued expiry>\n";
  for (const auto& m : r.mismatched) {
    out += m.entry.id.ToString() + " " + FormatTimestamp(m.entry.start, mode) + " " +
           FormatTimestamp(m.entry.expiry, mode) + " " + m.record.user + " " +
           FormatTimestamp(m.record.start, mode) + " " + FormatTimestamp(m.record.expiry, mode) +
           "\n";
  }
  out += "\n[unknown]\n# <TempID> <uploaded start> <uploaded expiry>\n";
  for (const auto& e : r.unknown) out += protocol::FormatContactLogLine(e, mode) + "\n";
  return out;
}

}  // namespace bluetrace::service
