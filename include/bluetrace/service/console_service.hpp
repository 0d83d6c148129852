// ConsoleService: the business rules of the contact tracers' web console (net/console_server
// maps HTTP to it): staff login with a lockout, console sessions (idle and absolute
// timeouts, logout), CSRF tokens, the pages' data (contacts merged across every report,
// each report, activity per day, the staff list for admins), contact status changes, the
// CSV export and upload codes issued from the console (through UploadCodeService, which
// holds the code rules). Every view of phone numbers and every change is recorded in the audit
// trail with the staff member's name first, and refused when it cannot be recorded.
//
// Tokens: the session token and the CSRF token are 32 bytes of the injected util::Random
// (hex); the store keeps only the SHA-256 of the session token. Time comes from the injected
// util::Clock. The stores, the upload code service, clock and random must outlive the
// service. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/service/contact_check.hpp"
#include "bluetrace/service/upload_code_service.hpp"
#include "bluetrace/store/audit_trail.hpp"
#include "bluetrace/store/contact_status_store.hpp"
#include "bluetrace/store/password_hash.hpp"
#include "bluetrace/store/report_store.hpp"
#include "bluetrace/store/staff_store.hpp"
#include "bluetrace/store/upload_code_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::service {

struct ConsoleOptions {
  std::int64_t idle_timeout_seconds = 15 * 60;       // no request for this long: logged out
  std::int64_t absolute_timeout_seconds = 8 * 3600;  // a session's whole life
  std::uint32_t max_failed_logins = 5;               // consecutive, then a block
  std::int64_t block_seconds = 15 * 60;              // how long the block lasts
  std::size_t max_reports = 10000;                   // newest reports the pages read
  store::Argon2Params argon2;                        // of the dummy hash (unknown names)
};

struct ConsoleStores {
  store::StaffStore& staff;
  store::ContactStatusStore& statuses;
  store::ReportStore& reports;
  store::AuditTrail& audit;
  store::UploadCodeStore& upload_codes;  // read only: the codes issued per day
};

// Who a request comes from, once its session cookie checked out.
struct StaffIdentity {
  std::string name;
  store::StaffRole role = store::StaffRole::kTracer;
  std::string csrf_token;
  std::string token_hash;
  bool admin() const { return role == store::StaffRole::kAdmin; }
};

struct ConsoleLogin {
  std::string token;  // the cookie's value; never logged
  StaffIdentity who;
};

// One row of the contacts list: a phone number named by any report.
struct ContactRow {
  std::string phone;
  std::string first_encounter;  // as the reports print it
  std::string last_encounter;
  std::vector<std::string> reports;  // names of the reports naming it, oldest first
  store::ContactStatus status = store::ContactStatus::kToCall;
  std::string note;
  std::string updated_by;  // empty: never changed
  std::int64_t updated_at = 0;
};

struct ReportSummary {
  std::string name;
  std::string received;
  ReportHeader header;
};

struct ActivityDay {
  std::string day;  // "YYYY-MM-DD" (UTC)
  std::uint64_t uploads = 0;
  std::uint64_t matched_contacts = 0;  // matched and mismatched entries
  std::uint64_t codes_issued = 0;      // upload codes issued (console and bluetrace-admin)
};

class ConsoleService {
 public:
  // `upload_codes`: the server's code service, or null when the server does not require
  // upload codes (upload.require_code off).
  ConsoleService(ConsoleStores stores, UploadCodeService* upload_codes, util::Clock& clock,
                 util::Random& random, ConsoleOptions options);
  ConsoleService(const ConsoleService&) = delete;
  ConsoleService& operator=(const ConsoleService&) = delete;

  // Checks the password (Argon2id; an unknown name costs the same work) and opens a session.
  // Errors: kUnavailable "blocked" (the message says for how long) while the account is
  // blocked, without checking the password; kPermissionDenied "wrong name or password";
  // the stores' errors. `peer` goes to the audit trail.
  util::Result<ConsoleLogin> Login(std::string_view name, std::string_view password,
                                   std::string_view peer);
  // The session of `token`, touched. kPermissionDenied when there is none, it expired (it is
  // ended then) or its account is gone.
  util::Result<StaffIdentity> Authenticate(std::string_view token);
  // Ends the session: the cookie no longer works, wherever it is replayed.
  util::Status Logout(const StaffIdentity& who);
  // Whether `token` is the session's CSRF token (constant time).
  static bool CsrfMatches(const StaffIdentity& who, std::string_view token);

  // The pages' data; each audited. Errors: the stores' and the audit trail's.
  util::Result<std::vector<ContactRow>> Contacts(const StaffIdentity& who);
  util::Result<std::string> ContactsCsv(const StaffIdentity& who);
  util::Result<std::vector<ReportSummary>> Reports(const StaffIdentity& who);
  // kNotFound / kInvalidArgument as ReportStore::Read gives them.
  util::Result<ParsedReport> Report(const StaffIdentity& who, std::string_view name);
  // Shows no phone number; not audited. Days with reports or codes issued, oldest first.
  util::Result<std::vector<ActivityDay>> Activity(const StaffIdentity& who);
  // Whether this server requires upload codes (so that the console issues them).
  bool upload_codes_required() const { return upload_codes_ != nullptr; }
  // A fresh upload code for `phone` (any accepted form), for `who` to read out to the
  // person once. Tracers and admins alike may issue codes (a tracer on the phone with a
  // positive case is who needs one). UploadCodeService::Issue records the issue in the audit
  // trail with the staff member's name and the canonical number, never the code. Errors:
  // kFailedPrecondition when the server does not require codes; kInvalidArgument for a
  // phone number that is none (the message says why); the stores' and the audit trail's
  // (then no code is handed out).
  util::Result<IssuedCode> IssueUploadCode(const StaffIdentity& who, std::string_view phone);
  // Admins only (kPermissionDenied otherwise).
  util::Result<std::vector<store::StaffMember>> Staff(const StaffIdentity& who);

  // kInvalidArgument for a phone no report names, or a bad note (ContactStatusRecord's).
  util::Status SetContactStatus(const StaffIdentity& who, std::string_view phone,
                                store::ContactStatus status, std::string_view note);

 private:
  util::Result<std::string> RandomHex(std::size_t bytes);
  util::Status Audit(std::string_view event, store::AuditFields fields);
  // The newest options_.max_reports reports, parsed, oldest first; unreadable ones skipped.
  util::Result<std::vector<std::pair<std::string, ParsedReport>>> ReadReports();
  util::Result<std::vector<ContactRow>> MergeContacts();

  ConsoleStores stores_;
  UploadCodeService* const upload_codes_;
  util::Clock& clock_;
  util::Random& random_;
  const ConsoleOptions options_;
  util::Mutex mu_;
  std::string dummy_hash_ GUARDED_BY(mu_);  // made at the first unknown name
};

// The contacts as CSV (RFC 4180, CRLF): every field quoted, and a field starting with =, +,
// -, @, a tab or a carriage return prefixed with ' so a spreadsheet never runs it as a
// formula. Pure.
std::string FormatContactsCsv(const std::vector<ContactRow>& rows);

}  // namespace bluetrace::service
