// ConsoleService (service/console_service.hpp) on both backends: staff login, lockout,
// sessions and their timeouts (an injected clock), logout, admin-only data, the contacts
// merged across reports, status changes, the CSV export, upload codes issued from the
// console (and counted per day in the activity) and the audit records.
#include "bluetrace/service/console_service.hpp"
#include "bluetrace/service/upload_code.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/files/file_audit_trail.hpp"
#include "bluetrace/store/files/file_contact_status_store.hpp"
#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/store/files/file_report_store.hpp"
#include "bluetrace/store/files/file_staff_store.hpp"
#include "bluetrace/store/files/file_upload_code_store.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/postgres/pg_audit_trail.hpp"
#include "bluetrace/store/postgres/pg_contact_status_store.hpp"
#include "bluetrace/store/postgres/pg_report_store.hpp"
#include "bluetrace/store/postgres/pg_staff_store.hpp"
#include "bluetrace/store/postgres/pg_upload_code_store.hpp"
#include "support/fake_random.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

using store::ContactStatus;
using store::StaffRole;

constexpr store::Argon2Params kFast{.memory_kib = 8, .iterations = 1, .parallelism = 1};

// The report of one upload naming `contacts` (phone, start) as matched, and one unknown.
std::string ReportText(const std::string& uploader,
                       const std::vector<std::pair<std::string, std::string>>& contacts) {
  std::string out =
      "# bluetrace contact check report\nuploader: " + uploader +
      "\nreceived: 13/05/2020 18:10:00 UTC\nentries: " + std::to_string(contacts.size() + 1) +
      "\nmatched: " + std::to_string(contacts.size()) +
      "\nmismatched: 0\nunknown: 1\n\n[matched]\n# <contact UserID> <encounter "
      "start> <TempID>\n";
  int n = 0;
  for (const auto& [phone, start] : contacts) {
    out += phone + " " + start + " 1234567890123456789" + std::to_string(n++) + "\n";
  }
  out +=
      "\n[mismatched]\n# contacts all the same\n# <TempID> ...\n\n[unknown]\n# <TempID> "
      "<uploaded start> <uploaded expiry>\n99999999999999999999 13/05/2020 17:45:06 13/05/2020 "
      "18:00:05\n";
  return out;
}

class ConsoleServiceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "Files") {
      auto& fs = store::PosixFileSystem::Instance();
      const store::StateDir dir(tmp_.path());
      staff_ = store::FileStaffStore::Open(fs, dir.staff(), dir.staff_lock()).value();
      statuses_ =
          store::FileContactStatusStore::Open(fs, dir.contact_status(), dir.contact_status_lock())
              .value();
      reports_ = store::FileReportStore::Open(fs, dir.reports()).value();
      audit_ = store::FileAuditTrail::Open(fs, clock_, dir.audit_log(), dir.audit_lock(), nullptr)
                   .value();
      codes_ = store::FileUploadCodeStore::Open(fs, dir.upload_codes(), {}).value();
    } else {
      db_ = test::FreshPgDatabase::Create();
      ASSERT_TRUE(db_);
      store::PgPool* pool = db_->NewPool();
      ASSERT_NE(pool, nullptr);
      staff_ = store::PgStaffStore::Open(*pool);
      statuses_ = store::PgContactStatusStore::Open(*pool);
      reports_ = store::PgReportStore::Open(*pool);
      audit_ = store::PgAuditTrail::Open(*pool, clock_);
      codes_ = store::PgUploadCodeStore::Open(*pool);
    }
    // Wrong codes are never counted here (nothing redeems): a file store serves both backends.
    code_failures_ = store::FileLockoutStore::Open(store::PosixFileSystem::Instance(),
                                                   tmp_.File("code-failures.txt"), {}, clock_)
                         .value();
    code_service_ = std::make_unique<UploadCodeService>(
        UploadCodeDeps{*codes_, *code_failures_, *audit_, clock_, random_, nullptr},
        util::SecretString(std::string(64, 'k')), 3600);
    options_.argon2 = kFast;
    options_.idle_timeout_seconds = 600;
    options_.absolute_timeout_seconds = 3600;
    options_.max_failed_logins = 3;
    options_.block_seconds = 300;
    service_ = std::make_unique<ConsoleService>(
        ConsoleStores{*staff_, *statuses_, *reports_, *audit_, *codes_}, code_service_.get(),
        clock_, random_, options_);
    AddStaff("ana", StaffRole::kTracer, "tracer password 1");
    AddStaff("root", StaffRole::kAdmin, "admin password 12");
  }

  void AddStaff(const std::string& name, StaffRole role, const std::string& password) {
    auto hash = store::HashPassword(password, kFast, random_);
    ASSERT_TRUE(hash.ok());
    ASSERT_TRUE(staff_->Add({name, role, *hash}).ok());
  }

  StaffIdentity LoginOk(const std::string& name, const std::string& password) {
    auto login = service_->Login(name, password, "127.0.0.1");
    EXPECT_TRUE(login.ok()) << login.status().ToString();
    if (!login.ok()) return {};
    token_ = login->token;
    return login->who;
  }

  test::TempDir tmp_;
  std::unique_ptr<test::FreshPgDatabase> db_;
  util::ManualClock clock_{1'600'000'000};
  test::SeededRandom random_{7};
  ConsoleOptions options_;
  std::unique_ptr<store::StaffStore> staff_;
  std::unique_ptr<store::ContactStatusStore> statuses_;
  std::unique_ptr<store::ReportStore> reports_;
  std::unique_ptr<store::AuditTrail> audit_;
  std::unique_ptr<store::UploadCodeStore> codes_;
  std::unique_ptr<store::LockoutStore> code_failures_;
  std::unique_ptr<UploadCodeService> code_service_;
  std::unique_ptr<ConsoleService> service_;
  std::string token_;
};

TEST_P(ConsoleServiceTest, LoginOpensASessionWithLongRandomTokens) {
  const StaffIdentity who = LoginOk("ana", "tracer password 1");
  EXPECT_EQ(who.name, "ana");
  EXPECT_EQ(token_.size(), 64u);  // 256 bits, hex
  EXPECT_EQ(who.csrf_token.size(), 64u);
  EXPECT_NE(token_, who.csrf_token);
  // Only the hash is stored.
  EXPECT_FALSE(staff_->FindSession(token_)->has_value());
  auto again = service_->Authenticate(token_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->name, "ana");
  EXPECT_EQ(again->csrf_token, who.csrf_token);
}

TEST_P(ConsoleServiceTest, AWrongPasswordOrAnUnknownNameIsRefusedAlike) {
  auto wrong = service_->Login("ana", "not it at all", "127.0.0.1");
  auto unknown = service_->Login("nobody", "tracer password 1", "127.0.0.1");
  EXPECT_EQ(wrong.status().code(), util::StatusCode::kPermissionDenied);
  EXPECT_EQ(unknown.status(), wrong.status());
}

TEST_P(ConsoleServiceTest, ConsecutiveFailuresBlockEvenTheRightPasswordUntilTheBlockEnds) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(service_->Login("ana", "wrong", "127.0.0.1").status().code(),
              util::StatusCode::kPermissionDenied);
  }
  auto blocked = service_->Login("ana", "tracer password 1", "127.0.0.1");
  EXPECT_EQ(blocked.status().code(), util::StatusCode::kUnavailable);
  EXPECT_NE(blocked.status().message().find("blocked for 300 s"), std::string::npos);
  clock_.AdvanceSeconds(300);
  LoginOk("ana", "tracer password 1");
}

TEST_P(ConsoleServiceTest, AnIdleSessionEnds) {
  LoginOk("ana", "tracer password 1");
  clock_.AdvanceSeconds(599);
  EXPECT_TRUE(service_->Authenticate(token_).ok());  // touched: idle from here
  clock_.AdvanceSeconds(599);
  EXPECT_TRUE(service_->Authenticate(token_).ok());
  clock_.AdvanceSeconds(600);
  EXPECT_EQ(service_->Authenticate(token_).status().code(), util::StatusCode::kPermissionDenied);
}

TEST_P(ConsoleServiceTest, ASessionEndsAtItsAbsoluteTimeoutHoweverBusy) {
  LoginOk("ana", "tracer password 1");
  for (int i = 0; i < 11; ++i) {
    clock_.AdvanceSeconds(300);
    EXPECT_TRUE(service_->Authenticate(token_).ok()) << i;
  }
  clock_.AdvanceSeconds(300);  // 3600 s after login
  EXPECT_EQ(service_->Authenticate(token_).status().code(), util::StatusCode::kPermissionDenied);
}

TEST_P(ConsoleServiceTest, ATokenReplayedAfterLogoutIsRefused) {
  const StaffIdentity who = LoginOk("ana", "tracer password 1");
  ASSERT_TRUE(service_->Logout(who).ok());
  EXPECT_EQ(service_->Authenticate(token_).status().code(), util::StatusCode::kPermissionDenied);
}

TEST_P(ConsoleServiceTest, TheStaffListIsForAdminsOnly) {
  const StaffIdentity tracer = LoginOk("ana", "tracer password 1");
  EXPECT_EQ(service_->Staff(tracer).status().code(), util::StatusCode::kPermissionDenied);
  const StaffIdentity admin = LoginOk("root", "admin password 12");
  auto staff = service_->Staff(admin);
  ASSERT_TRUE(staff.ok());
  ASSERT_EQ(staff->size(), 2u);
  EXPECT_TRUE((*staff)[0].password_hash.empty());
}

TEST_P(ConsoleServiceTest, ContactsAreMergedAcrossReportsWithTheirStatus) {
  ASSERT_TRUE(reports_
                  ->Write("+61410000001", 1'589'393'400,
                          ReportText("+61410000001", {{"+61410000009", "13/05/2020 17:45:06"},
                                                      {"+61410000008", "13/05/2020 17:50:00"}}))
                  .ok());
  ASSERT_TRUE(reports_
                  ->Write("+61410000002", 1'589'479'800,
                          ReportText("+61410000002", {{"+61410000009", "14/05/2020 09:00:00"}}))
                  .ok());
  const StaffIdentity who = LoginOk("ana", "tracer password 1");
  ASSERT_TRUE(
      service_
          ->SetContactStatus(who, "+61410000008", ContactStatus::kReached, "called, <b>fine</b>")
          .ok());
  EXPECT_EQ(service_->SetContactStatus(who, "+61410000007", ContactStatus::kReached, "").code(),
            util::StatusCode::kInvalidArgument);  // no report names it
  auto rows = service_->Contacts(who);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  const ContactRow& open = (*rows)[0];  // still to call: first
  EXPECT_EQ(open.phone, "+61410000009");
  EXPECT_EQ(open.first_encounter, "13/05/2020 17:45:06");
  EXPECT_EQ(open.last_encounter, "14/05/2020 09:00:00");
  EXPECT_EQ(open.reports.size(), 2u);
  EXPECT_EQ((*rows)[1].status, ContactStatus::kReached);
  EXPECT_EQ((*rows)[1].note, "called, <b>fine</b>");
  EXPECT_EQ((*rows)[1].updated_by, "ana");

  auto days = service_->Activity(who);
  ASSERT_TRUE(days.ok());
  ASSERT_EQ(days->size(), 2u);
  EXPECT_EQ((*days)[0].day, "2020-05-13");
  EXPECT_EQ((*days)[0].uploads, 1u);
  EXPECT_EQ((*days)[0].matched_contacts, 2u);
}

TEST_P(ConsoleServiceTest, TheCsvQuotesEveryFieldAndDefusesFormulas) {
  ContactRow row;
  row.phone = "+61410000009";
  row.first_encounter = "13/05/2020 17:45:06";
  row.last_encounter = "13/05/2020 17:45:06";
  row.reports = {"r1.txt"};
  row.note = "=HYPERLINK(\"http://x\",\"y\"), line\nbreak";
  row.updated_by = "@ana";
  const std::string csv = FormatContactsCsv({row});
  EXPECT_EQ(csv,
            "\"phone\",\"first_encounter\",\"last_encounter\",\"uploads\",\"reports\",\"status\","
            "\"note\",\"updated_by\"\r\n"
            "\"'+61410000009\",\"13/05/2020 17:45:06\",\"13/05/2020 17:45:06\",\"1\",\"r1.txt\","
            "\"to call\",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\"), line\nbreak\",\"'@ana\"\r\n");
  row.note = "-2+3";
  EXPECT_NE(FormatContactsCsv({row}).find("\"'-2+3\""), std::string::npos);
}

// An audit trail that cannot be written: audited views and changes fail closed.
class FailingAudit final : public store::AuditTrail {
 public:
  util::Status Record(std::string_view, const store::AuditFields&) override {
    return util::Unavailable("disk full");
  }
  bool healthy() override { return false; }
  util::Result<store::AuditPruneResult> Prune(std::int64_t, const store::AuditFields&) override {
    return util::Unavailable("disk full");
  }
};

TEST_P(ConsoleServiceTest, NothingIsShownOrChangedWhileTheAuditTrailCannotBeWritten) {
  ASSERT_TRUE(reports_
                  ->Write("+61410000001", 1'589'393'400,
                          ReportText("+61410000001", {{"+61410000009", "13/05/2020 17:45:06"}}))
                  .ok());
  LoginOk("ana", "tracer password 1");
  FailingAudit failing;
  ConsoleService blind(ConsoleStores{*staff_, *statuses_, *reports_, failing, *codes_},
                       code_service_.get(), clock_, random_, options_);
  auto who = blind.Authenticate(token_);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(blind.Contacts(*who).status().code(), util::StatusCode::kUnavailable);
  EXPECT_EQ(blind.ContactsCsv(*who).status().code(), util::StatusCode::kUnavailable);
  EXPECT_EQ(blind.Reports(*who).status().code(), util::StatusCode::kUnavailable);
  EXPECT_EQ(blind.SetContactStatus(*who, "+61410000009", ContactStatus::kReached, "").code(),
            util::StatusCode::kUnavailable);
  EXPECT_TRUE(statuses_->List()->empty());
  EXPECT_EQ(blind.Login("ana", "tracer password 1", "127.0.0.1").status().code(),
            util::StatusCode::kUnavailable);
}

TEST_P(ConsoleServiceTest, StaffIssueUploadCodesAndTheActivityCountsThemPerDay) {
  ASSERT_TRUE(reports_
                  ->Write("+61410000001", 1'589'393'400,
                          ReportText("+61410000001", {{"+61410000009", "13/05/2020 17:45:06"}}))
                  .ok());
  const StaffIdentity ana = LoginOk("ana", "tracer password 1");  // a tracer may
  const StaffIdentity root = LoginOk("root", "admin password 12");
  auto code = service_->IssueUploadCode(ana, "+61 410 000 002");
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(code->phone, "+61410000002");  // the one phone rule: canonical
  EXPECT_EQ(code->expires_at, clock_.NowUnixSeconds() + 3600);
  EXPECT_EQ(code->code.view().size(), kUploadCodeLength);
  ASSERT_TRUE(service_->IssueUploadCode(root, "+61410000003").ok());
  clock_.AdvanceSeconds(86400);
  ASSERT_TRUE(service_->IssueUploadCode(ana, "+61410000002").ok());
  auto bad = service_->IssueUploadCode(ana, "0410 000 002");
  EXPECT_EQ(bad.status().code(), util::StatusCode::kInvalidArgument);

  auto days = service_->Activity(ana);
  ASSERT_TRUE(days.ok()) << days.status().ToString();
  ASSERT_EQ(days->size(), 3u);
  EXPECT_EQ((*days)[0].day, "2020-05-13");
  EXPECT_EQ((*days)[0].uploads, 1u);
  EXPECT_EQ((*days)[0].codes_issued, 0u);
  EXPECT_EQ((*days)[1].day, "2020-09-13");  // 1,600,000,000
  EXPECT_EQ((*days)[1].uploads, 0u);
  EXPECT_EQ((*days)[1].codes_issued, 2u);
  EXPECT_EQ((*days)[2].day, "2020-09-14");
  EXPECT_EQ((*days)[2].codes_issued, 1u);

  // Without upload.require_code the console issues none, and says why.
  ConsoleService no_codes(ConsoleStores{*staff_, *statuses_, *reports_, *audit_, *codes_}, nullptr,
                          clock_, random_, options_);
  EXPECT_FALSE(no_codes.upload_codes_required());
  auto refused = no_codes.IssueUploadCode(ana, "+61410000002");
  EXPECT_EQ(refused.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("not required"), std::string::npos);
}

std::string NameOf(const ::testing::TestParamInfo<std::string>& param) { return param.param; }
INSTANTIATE_TEST_SUITE_P(Backends, ConsoleServiceTest, ::testing::Values("Files", "Postgres"),
                         NameOf);

}  // namespace
}  // namespace bluetrace::service
