#include "bluetrace/service/console_service.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/util/digest.hpp"

namespace bluetrace::service {
namespace {

constexpr std::size_t kTokenBytes = 32;  // 256 bits

std::string Hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

util::Status Denied() { return util::PermissionDenied("wrong name or password"); }
util::Status NoSession() { return util::PermissionDenied("not logged in, or the session ended"); }

std::string CsvField(std::string_view s) {
  std::string out = "\"";
  if (!s.empty() &&
      (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r')) {
    out += '\'';
  }
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// "YYYY-MM-DD" of a unix time, UTC.
std::string Day(std::int64_t t) {
  const std::string ts = protocol::FormatTimestamp(t);  // DD/MM/YYYY HH:MM:SS
  return ts.substr(6, 4) + "-" + ts.substr(3, 2) + "-" + ts.substr(0, 2);
}

}  // namespace

ConsoleService::ConsoleService(ConsoleStores stores, UploadCodeService* upload_codes,
                               util::Clock& clock, util::Random& random, ConsoleOptions options)
    : stores_(stores),
      upload_codes_(upload_codes),
      clock_(clock),
      random_(random),
      options_(options) {}

util::Result<std::string> ConsoleService::RandomHex(std::size_t bytes) {
  std::vector<std::uint8_t> buf(bytes);
  BLUETRACE_RETURN_IF_ERROR(random_.Fill(buf));
  return Hex(buf);
}

util::Status ConsoleService::Audit(std::string_view event, store::AuditFields fields) {
  util::Status st = stores_.audit.Record(event, fields);
  if (!st.ok()) return util::Unavailable("the audit log cannot be written: " + st.message());
  return st;
}

util::Result<ConsoleLogin> ConsoleService::Login(std::string_view name, std::string_view password,
                                                 std::string_view peer) {
  const std::int64_t now = clock_.NowUnixSeconds();
  // Old sessions go now and then; a failure here must not stop a login.
  (void)stores_.staff.DeleteExpiredSessions(now - options_.idle_timeout_seconds,
                                            now - options_.absolute_timeout_seconds);
  std::optional<store::StaffMember> member;
  if (store::ValidateStaffName(name).ok()) {
    BLUETRACE_ASSIGN_OR_RETURN(member, stores_.staff.Find(name));
  }
  if (member) {
    BLUETRACE_ASSIGN_OR_RETURN(std::int64_t until, stores_.staff.BlockedUntil(name, now));
    if (until > now) {
      BLUETRACE_RETURN_IF_ERROR(
          Audit("console_login_blocked", {{"staff", member->name}, {"peer", std::string(peer)}}));
      return util::Unavailable("too many failed logins: blocked for " +
                               std::to_string(until - now) + " s");
    }
  }
  std::string hash;
  if (member) {
    hash = member->password_hash;
  } else {
    util::MutexLock l(mu_);
    if (dummy_hash_.empty()) {
      BLUETRACE_ASSIGN_OR_RETURN(dummy_hash_, store::MakeDummyHash(options_.argon2, random_));
    }
    hash = dummy_hash_;
  }
  bool ok = false;
  if (!password.empty() && password.size() <= store::kMaxPasswordBytes) {
    BLUETRACE_ASSIGN_OR_RETURN(ok, store::VerifyPassword(hash, password));
  }
  if (!member) {
    // Not the name itself: a mistyped password in the name field must not reach the log.
    BLUETRACE_RETURN_IF_ERROR(
        Audit("console_login_failed", {{"staff", "(unknown)"}, {"peer", std::string(peer)}}));
    return Denied();
  }
  if (!ok) {
    BLUETRACE_ASSIGN_OR_RETURN(
        std::int64_t until,
        stores_.staff.RecordFailure(name, now, options_.max_failed_logins, options_.block_seconds));
    BLUETRACE_RETURN_IF_ERROR(
        Audit("console_login_failed", {{"staff", member->name},
                                       {"peer", std::string(peer)},
                                       {"blocked", until > now ? "yes" : "no"}}));
    return Denied();
  }
  BLUETRACE_RETURN_IF_ERROR(stores_.staff.RecordSuccess(name));
  ConsoleLogin login;
  BLUETRACE_ASSIGN_OR_RETURN(login.token, RandomHex(kTokenBytes));
  BLUETRACE_ASSIGN_OR_RETURN(std::string csrf, RandomHex(kTokenBytes));
  const std::string token_hash = util::Sha256Hex(login.token);
  BLUETRACE_RETURN_IF_ERROR(
      stores_.staff.CreateSession({token_hash, member->name, csrf, now, now}));
  BLUETRACE_RETURN_IF_ERROR(
      Audit("console_login", {{"staff", member->name},
                              {"role", std::string(store::StaffRoleName(member->role))},
                              {"peer", std::string(peer)}}));
  login.who = StaffIdentity{member->name, member->role, std::move(csrf), token_hash};
  return login;
}

util::Result<StaffIdentity> ConsoleService::Authenticate(std::string_view token) {
  if (token.size() != 2 * kTokenBytes) return NoSession();
  const std::string token_hash = util::Sha256Hex(token);
  BLUETRACE_ASSIGN_OR_RETURN(auto session, stores_.staff.FindSession(token_hash));
  if (!session) return NoSession();
  const std::int64_t now = clock_.NowUnixSeconds();
  if (now - session->last_seen >= options_.idle_timeout_seconds ||
      now - session->created_at >= options_.absolute_timeout_seconds) {
    BLUETRACE_RETURN_IF_ERROR(stores_.staff.DeleteSession(token_hash));
    return NoSession();
  }
  BLUETRACE_ASSIGN_OR_RETURN(auto member, stores_.staff.Find(session->staff));
  if (!member) return NoSession();
  if (now > session->last_seen) {
    BLUETRACE_RETURN_IF_ERROR(stores_.staff.TouchSession(token_hash, now));
  }
  return StaffIdentity{member->name, member->role, session->csrf_token, token_hash};
}

util::Status ConsoleService::Logout(const StaffIdentity& who) {
  BLUETRACE_RETURN_IF_ERROR(stores_.staff.DeleteSession(who.token_hash));
  return Audit("console_logout", {{"staff", who.name}});
}

bool ConsoleService::CsrfMatches(const StaffIdentity& who, std::string_view token) {
  return !who.csrf_token.empty() && token.size() == who.csrf_token.size() &&
         CRYPTO_memcmp(token.data(), who.csrf_token.data(), token.size()) == 0;
}

util::Result<std::vector<std::pair<std::string, ParsedReport>>> ConsoleService::ReadReports() {
  BLUETRACE_ASSIGN_OR_RETURN(auto names, stores_.reports.List());
  if (names.size() > options_.max_reports) {
    names.erase(names.begin(), names.end() - static_cast<std::ptrdiff_t>(options_.max_reports));
  }
  std::vector<std::pair<std::string, ParsedReport>> out;
  for (auto& name : names) {
    auto text = stores_.reports.Read(name);
    if (!text.ok()) continue;
    auto parsed = ParseReport(*text);
    if (!parsed.ok()) continue;
    out.emplace_back(std::move(name), std::move(*parsed));
  }
  return out;
}

util::Result<std::vector<ContactRow>> ConsoleService::MergeContacts() {
  BLUETRACE_ASSIGN_OR_RETURN(auto reports, ReadReports());
  struct Acc {
    ContactRow row;
    std::int64_t first = INT64_MAX;
    std::int64_t last = INT64_MIN;
  };
  std::map<std::string, Acc> by_phone;
  for (const auto& [name, report] : reports) {
    for (const auto* section : {&report.matched, &report.mismatched}) {
      for (const ReportEntry& e : *section) {
        Acc& acc = by_phone[e.phone];
        acc.row.phone = e.phone;
        if (acc.row.reports.empty() || acc.row.reports.back() != name) {
          acc.row.reports.push_back(name);
        }
        auto t = protocol::ParseTimestamp(e.start, report.time_mode);
        if (!t.ok()) continue;
        if (*t < acc.first) {
          acc.first = *t;
          acc.row.first_encounter = e.start;
        }
        if (*t > acc.last) {
          acc.last = *t;
          acc.row.last_encounter = e.start;
        }
      }
    }
  }
  BLUETRACE_ASSIGN_OR_RETURN(auto statuses, stores_.statuses.List());
  for (auto& s : statuses) {
    auto it = by_phone.find(s.phone);
    if (it == by_phone.end()) continue;
    it->second.row.status = s.status;
    it->second.row.note = std::move(s.note);
    it->second.row.updated_by = std::move(s.updated_by);
    it->second.row.updated_at = s.updated_at;
  }
  std::vector<std::pair<std::int64_t, ContactRow>> sorted;
  for (auto& [phone, acc] : by_phone) sorted.emplace_back(acc.last, std::move(acc.row));
  // Those still to call first, then the most recent encounter first.
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    const bool a_open = a.second.status == store::ContactStatus::kToCall;
    const bool b_open = b.second.status == store::ContactStatus::kToCall;
    if (a_open != b_open) return a_open;
    return a.first > b.first;
  });
  std::vector<ContactRow> out;
  for (auto& [t, row] : sorted) out.push_back(std::move(row));
  return out;
}

util::Result<std::vector<ContactRow>> ConsoleService::Contacts(const StaffIdentity& who) {
  BLUETRACE_ASSIGN_OR_RETURN(auto rows, MergeContacts());
  BLUETRACE_RETURN_IF_ERROR(Audit(
      "console_view_contacts", {{"staff", who.name}, {"contacts", std::to_string(rows.size())}}));
  return rows;
}

util::Result<std::string> ConsoleService::ContactsCsv(const StaffIdentity& who) {
  BLUETRACE_ASSIGN_OR_RETURN(auto rows, MergeContacts());
  BLUETRACE_RETURN_IF_ERROR(Audit(
      "console_export_contacts", {{"staff", who.name}, {"contacts", std::to_string(rows.size())}}));
  return FormatContactsCsv(rows);
}

util::Result<std::vector<ReportSummary>> ConsoleService::Reports(const StaffIdentity& who) {
  BLUETRACE_ASSIGN_OR_RETURN(auto reports, ReadReports());
  std::vector<ReportSummary> out;
  for (auto it = reports.rbegin(); it != reports.rend(); ++it) {  // newest first
    out.push_back({it->first, it->second.received, it->second.header});
  }
  BLUETRACE_RETURN_IF_ERROR(Audit("console_view_reports",
                                  {{"staff", who.name}, {"reports", std::to_string(out.size())}}));
  return out;
}

util::Result<ParsedReport> ConsoleService::Report(const StaffIdentity& who, std::string_view name) {
  BLUETRACE_ASSIGN_OR_RETURN(std::string text, stores_.reports.Read(name));
  BLUETRACE_ASSIGN_OR_RETURN(ParsedReport report, ParseReport(text));
  BLUETRACE_RETURN_IF_ERROR(
      Audit("console_view_report", {{"staff", who.name}, {"report", std::string(name)}}));
  return report;
}

util::Result<std::vector<ActivityDay>> ConsoleService::Activity(const StaffIdentity&) {
  BLUETRACE_ASSIGN_OR_RETURN(auto reports, ReadReports());
  std::map<std::string, ActivityDay> days;
  for (const auto& [name, report] : reports) {
    auto parts = store::ParseReportName(name);
    if (!parts.ok()) continue;
    ActivityDay& d = days[Day(parts->received_at)];
    d.day = Day(parts->received_at);
    ++d.uploads;
    d.matched_contacts += report.header.matched + report.header.mismatched;
  }
  // One row per day with codes (a few thousand in ten years): all of them.
  BLUETRACE_ASSIGN_OR_RETURN(auto issued, stores_.upload_codes.CountIssuedPerDay(0));
  for (const auto& c : issued) {
    ActivityDay& d = days[Day(c.day)];
    d.day = Day(c.day);
    d.codes_issued = c.codes;
  }
  std::vector<ActivityDay> out;
  for (auto& [day, d] : days) out.push_back(d);
  return out;
}

util::Result<IssuedCode> ConsoleService::IssueUploadCode(const StaffIdentity& who,
                                                         std::string_view phone) {
  if (upload_codes_ == nullptr) {
    return util::FailedPrecondition(
        "upload codes are not required on this server (upload.require_code is off): uploads "
        "need no code");
  }
  return upload_codes_->Issue(phone, who.name);
}

util::Result<std::vector<store::StaffMember>> ConsoleService::Staff(const StaffIdentity& who) {
  if (!who.admin()) return util::PermissionDenied("this page is for admins");
  BLUETRACE_ASSIGN_OR_RETURN(auto members, stores_.staff.List());
  for (auto& m : members) m.password_hash.clear();  // never leaves the service
  BLUETRACE_RETURN_IF_ERROR(Audit("console_view_staff", {{"staff", who.name}}));
  return members;
}

util::Status ConsoleService::SetContactStatus(const StaffIdentity& who, std::string_view phone,
                                              store::ContactStatus status, std::string_view note) {
  BLUETRACE_ASSIGN_OR_RETURN(auto rows, MergeContacts());
  const bool named =
      std::any_of(rows.begin(), rows.end(), [&](const ContactRow& r) { return r.phone == phone; });
  if (!named) return util::InvalidArgument("no report names this phone number");
  store::ContactStatusRecord record{std::string(phone), status, std::string(note), who.name,
                                    clock_.NowUnixSeconds()};
  BLUETRACE_RETURN_IF_ERROR(store::ValidateContactStatusRecord(record));
  // The record first: a change that cannot be audited is not made.
  BLUETRACE_RETURN_IF_ERROR(
      Audit("console_contact_status", {{"staff", who.name},
                                       {"contact", std::string(phone)},
                                       {"status", std::string(store::ContactStatusName(status))},
                                       {"note_bytes", std::to_string(note.size())}}));
  return stores_.statuses.Set(record);
}

std::string FormatContactsCsv(const std::vector<ContactRow>& rows) {
  std::string out =
      "\"phone\",\"first_encounter\",\"last_encounter\",\"uploads\",\"reports\",\"status\","
      "\"note\",\"updated_by\"\r\n";
  for (const auto& r : rows) {
    std::string reports;
    for (const auto& n : r.reports) reports += (reports.empty() ? "" : " ") + n;
    out += CsvField(r.phone) + "," + CsvField(r.first_encounter) + "," +
           CsvField(r.last_encounter) + "," + CsvField(std::to_string(r.reports.size())) + "," +
           CsvField(reports) + "," + CsvField(store::ContactStatusLabel(r.status)) + "," +
           CsvField(r.note) + "," + CsvField(r.updated_by) + "\r\n";
  }
  return out;
}

}  // namespace bluetrace::service
