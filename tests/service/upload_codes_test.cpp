// Upload codes and the withdrawal of consent, driven through protocol Sessions in memory
// on the file backend: the rules of docs/SECURITY.md ("Upload codes") and README
// ("Withdrawal of consent"), and how version 1/2 clients fare.
#include <gtest/gtest.h>

#include "bluetrace/protocol/upload.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/service/storage_config.hpp"
#include "bluetrace/service/upload_code.hpp"
#include "bluetrace/service/upload_code_service.hpp"
#include "bluetrace/store/files/file_audit_trail.hpp"
#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/store/files/file_upload_code_store.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "service_harness.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

using namespace bluetrace::protocol;  // NOLINT: message types read best unqualified
using test::Call;
using test::LoginMsg;
using test::Only;

constexpr char kUser[] = "+61410888888";  // tests/data/original/credentials.txt
constexpr char kOther[] = "+61410999999";

template <typename T>
std::unique_ptr<T> Must(util::Result<std::unique_ptr<T>> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// What bluetrace-admin does: a second handle on the state directory issuing codes.
class Issuer {
 public:
  explicit Issuer(test::ServiceHarness& h) {
    const store::StateDir dir(h.dir.path());
    auto& fs = store::PosixFileSystem::Instance();
    codes_ = Must(store::FileUploadCodeStore::Open(fs, dir.upload_codes(), {}));
    audit_ = Must(
        store::FileAuditTrail::Open(fs, h.clock(), dir.audit_log(), dir.audit_lock(), nullptr));
    failures_ =
        Must(store::FileLockoutStore::Open(fs, dir.Path("issuer-failures.txt"), {}, h.clock()));
    auto key = OpenUploadCodeKey(h.config, fs, random_);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    service_ = std::make_unique<UploadCodeService>(
        UploadCodeDeps{*codes_, *failures_, *audit_, h.clock(), random_, nullptr}, std::move(*key),
        h.config.upload_code_lifetime_seconds);
  }
  std::string Issue(const std::string& phone) {
    auto issued = service_->Issue(phone, "tester");
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? FormatUploadCode(issued->code.view()) : "";
  }

 private:
  test::SeededRandom random_{7};
  std::unique_ptr<store::UploadCodeStore> codes_;
  std::unique_ptr<store::AuditTrail> audit_;
  std::unique_ptr<store::LockoutStore> failures_;
  std::unique_ptr<UploadCodeService> service_;
};

class UploadCodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.UseOriginal("credentials.txt");
    h_.UseOriginal("tempIDs.txt");
    h_.config.upload_require_code = true;
    h_.config.upload_code_max_failures = 3;
    h_.config.upload_code_block_seconds = 600;
  }
  void Open() {
    ASSERT_TRUE(h_.Open().ok());
    issuer_ = std::make_unique<Issuer>(h_);
  }

  std::unique_ptr<Session> LoggedIn(std::uint16_t version, const std::string& user = kUser,
                                    const std::string& peer = "127.0.0.1") {
    auto s = h_.NewSession(peer);
    auto ok = Only<HelloOk>(Call(*s, Hello{1, version, "test"}));
    EXPECT_EQ(ok.version, version);
    Only<Welcome>(Call(*s, LoginMsg(user, Password(user))));
    return s;
  }

  // The sample credentials' passwords.
  static std::string Password(const std::string& user) {
    return user == kUser ? "comp3331" : "bada4568";
  }

  // The original's sample log, sent with CodedUploadBegin carrying `code` (nullopt: the
  // plain UploadBegin).
  SessionReply Upload(Session& s, std::optional<std::string> code) {
    const std::string log =
        test::ReadFileForTest(test::SourcePath("tests/data/original/contactlog.txt"));
    auto parts = SplitUpload(log, 4096);
    if (code) parts.front() = CodedUploadBegin{log.size(), util::SecretString(*code)};
    // An upload gets exactly one answer: to its UploadEnd, or to the part that was refused.
    SessionReply answer;
    for (auto& m : parts) {
      SessionReply r = Call(s, std::move(m));
      if (!r.messages.empty() && answer.messages.empty()) answer = std::move(r);
    }
    return answer;
  }

  std::string Audit() { return test::ReadFileForTest(h_.dir.File("audit.log")); }

  test::ServiceHarness h_;
  std::unique_ptr<Issuer> issuer_;
};

TEST_F(UploadCodesTest, HelloOkSaysCodesAreRequiredToVersion3Only) {
  Open();
  auto s3 = h_.NewSession();
  EXPECT_EQ(Only<HelloOk>(Call(*s3, Hello{1, 3, "t"})).flags, kHelloFlagUploadCodeRequired);
  auto s2 = h_.NewSession();
  auto ok2 = Only<HelloOk>(Call(*s2, Hello{1, 2, "t"}));
  EXPECT_EQ(ok2.version, 2);
  EXPECT_EQ(ok2.flags, 0);
}

TEST_F(UploadCodesTest, ACodeIsSingleUseAndItsUploadIsChecked) {
  Open();
  const std::string code = issuer_->Issue(kUser);
  ASSERT_EQ(code.size(), kUploadCodeLength + 1);
  auto s = LoggedIn(3);
  EXPECT_EQ(Only<UploadAck>(Upload(*s, code)).entries_received, 2u);
  // Used twice: refused, and counted.
  auto again = Only<Error>(Upload(*s, code));
  EXPECT_EQ(again.code, ErrorCode::kWrongUploadCode);
  EXPECT_NE(again.message.find("2 tries left"), std::string::npos) << again.message;
  // The code never reaches the audit log; what happened does.
  const std::string audit = Audit();
  EXPECT_NE(audit.find(" upload_code_issued user=+61410888888 by=tester "), std::string::npos)
      << audit;
  EXPECT_NE(audit.find(" upload_code_redeemed user=+61410888888"), std::string::npos);
  EXPECT_NE(audit.find(" upload_code_failed user=+61410888888 peer=127.0.0.1 reason=wrong"),
            std::string::npos);
  const std::string bare = code.substr(0, 5) + code.substr(6);
  EXPECT_EQ(audit.find(bare), std::string::npos);
  EXPECT_EQ(audit.find(code), std::string::npos);
  EXPECT_EQ(test::ReadFileForTest(h_.dir.File("upload-codes.txt")).find(bare), std::string::npos);
}

TEST_F(UploadCodesTest, CodesAreReadIgnoringCaseSpacesAndHyphens) {
  Open();
  std::string code = issuer_->Issue(kUser);
  for (char& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  code.replace(5, 1, " ");
  auto s = LoggedIn(3);
  EXPECT_EQ(Only<UploadAck>(Upload(*s, code)).entries_received, 2u);
}

TEST_F(UploadCodesTest, AnExpiredCodeIsRefused) {
  Open();
  const std::string code = issuer_->Issue(kUser);
  h_.clock().Advance(std::chrono::seconds(h_.config.upload_code_lifetime_seconds));
  auto s = LoggedIn(3);
  EXPECT_EQ(Only<Error>(Upload(*s, code)).code, ErrorCode::kWrongUploadCode);
  EXPECT_NE(Audit().find("reason=expired"), std::string::npos);
}

TEST_F(UploadCodesTest, AnotherUsersCodeIsRefusedAndStaysTheirs) {
  Open();
  const std::string theirs = issuer_->Issue(kOther);
  auto mine = LoggedIn(3);
  EXPECT_EQ(Only<Error>(Upload(*mine, theirs)).code, ErrorCode::kWrongUploadCode);
  auto other = LoggedIn(3, kOther);
  EXPECT_EQ(Only<UploadAck>(Upload(*other, theirs)).entries_received, 2u);
}

TEST_F(UploadCodesTest, WrongCodesBlockTheUserAcrossSessionsThenTheBlockRunsOut) {
  Open();
  const std::string code = issuer_->Issue(kUser);
  auto s = LoggedIn(3);
  EXPECT_EQ(Only<Error>(Upload(*s, "AAAAA-AAAAA")).code, ErrorCode::kWrongUploadCode);
  EXPECT_EQ(Only<Error>(Upload(*s, "not a code")).code, ErrorCode::kWrongUploadCode);
  // The third wrong code blocks (version 3 hears RateLimited, with the wait).
  auto blocked = Only<RateLimited>(Upload(*s, "CCCCC-CCCCC"));
  EXPECT_EQ(blocked.retry_after_ms, 600'000u);
  // Blocked for the user whatever the session, even with the right code.
  auto s2 = LoggedIn(3, kUser, "192.0.2.9");
  EXPECT_TRUE(std::holds_alternative<RateLimited>(Upload(*s2, code).messages.at(0)));
  h_.clock().Advance(std::chrono::seconds(600));
  EXPECT_EQ(Only<UploadAck>(Upload(*s2, code)).entries_received, 2u);
}

TEST_F(UploadCodesTest, WrongCodesAreAlsoLimitedPerAddress) {
  h_.config.upload_code_failures_per_address = 2;
  h_.config.upload_code_max_failures = 100;
  Open();
  auto a = LoggedIn(3, kUser, "192.0.2.1");
  auto b = LoggedIn(3, kOther, "192.0.2.1");
  EXPECT_EQ(Only<Error>(Upload(*a, "AAAAA-AAAAA")).code, ErrorCode::kWrongUploadCode);
  EXPECT_EQ(Only<Error>(Upload(*b, "AAAAA-AAAAA")).code, ErrorCode::kWrongUploadCode);
  // A third try from that address, for whichever user, waits.
  EXPECT_TRUE(std::holds_alternative<RateLimited>(Upload(*a, "AAAAA-AAAAA").messages.at(0)));
  auto c = LoggedIn(3, kOther, "192.0.2.2");
  EXPECT_EQ(Only<Error>(Upload(*c, "AAAAA-AAAAA")).code, ErrorCode::kWrongUploadCode);
}

TEST_F(UploadCodesTest, AVersion2ClientGetsAClearRefusalWhereCodesAreRequired) {
  Open();
  for (std::uint16_t v : {std::uint16_t{1}, std::uint16_t{2}}) {
    auto s = LoggedIn(v);
    auto e = Only<Error>(Upload(*s, std::nullopt));
    EXPECT_EQ(e.code, ErrorCode::kUploadCodeRequired);
    EXPECT_NE(e.message.find("update the client"), std::string::npos) << e.message;
    // The session goes on: TempIDs still work.
    EXPECT_TRUE(std::holds_alternative<TempIdResponse>(Call(*s, TempIdRequest{}).messages.at(0)));
  }
}

TEST_F(UploadCodesTest, AVersion2ClientWorksAsBeforeWhereCodesAreNotRequired) {
  h_.config.upload_require_code = false;
  Open();
  auto s = LoggedIn(2);
  EXPECT_EQ(Only<UploadAck>(Upload(*s, std::nullopt)).entries_received, 2u);
  // And a version-3 client's CodedUploadBegin needs no code there.
  auto s3 = LoggedIn(3);
  EXPECT_EQ(Only<UploadAck>(Upload(*s3, "")).entries_received, 2u);
}

TEST_F(UploadCodesTest, TheDailyBudgetRefusesFurtherUploadsWithoutSpendingTheCode) {
  h_.config.upload_require_code = false;
  h_.config.upload_max_per_day = 2;
  Open();
  auto s = LoggedIn(2);
  EXPECT_EQ(Only<UploadAck>(Upload(*s, std::nullopt)).entries_received, 2u);
  EXPECT_EQ(Only<UploadAck>(Upload(*s, std::nullopt)).entries_received, 2u);
  auto e = Only<Error>(Upload(*s, std::nullopt));
  EXPECT_EQ(e.code, ErrorCode::kUploadQuota);
  EXPECT_NE(e.message.find("at most 2 uploads per user in 24 hours"), std::string::npos);
  h_.clock().Advance(std::chrono::hours(24));
  EXPECT_EQ(Only<UploadAck>(Upload(*s, std::nullopt)).entries_received, 2u);
}

TEST_F(UploadCodesTest, DeregisterRemovesTheAccountAndItsTempIdsButKeepsReports) {
  h_.config.upload_require_code = false;
  Open();
  auto me = LoggedIn(3);
  EXPECT_EQ(Only<UploadAck>(Upload(*me, std::nullopt)).entries_received, 2u);  // a report
  auto other = LoggedIn(3, kOther);
  auto t = Only<TempIdResponse>(Call(*other, TempIdRequest{}));
  // A wrong password is counted like a failed login, and nothing is removed.
  EXPECT_EQ(
      Only<WrongPassword>(Call(*other, Deregister{util::SecretString("wrong")})).attempts_left, 2);
  auto bye = Call(*other, Deregister{util::SecretString("bada4568")});
  ASSERT_TRUE(test::IsOnly<DeregisterOk>(bye));
  EXPECT_TRUE(bye.close);
  EXPECT_FALSE(other->logged_in());

  // The account is gone, and so is every link from its TempIDs (the original sample's
  // 12345678901234567890 and the fresh one) to its phone number.
  const std::string tempids = test::ReadFileForTest(h_.dir.File("tempIDs.txt"));
  EXPECT_EQ(tempids.find(kOther), std::string::npos) << tempids;
  EXPECT_NE(tempids.find(kUser), std::string::npos);
  EXPECT_EQ(test::ReadFileForTest(h_.dir.File("credentials.txt")).find(kOther), std::string::npos);
  auto again = h_.NewSession();
  Only<HelloOk>(Call(*again, Hello{1, 3, "t"}));
  Only<WrongPassword>(Call(*again, LoginMsg(kOther, "bada4568")));

  // An upload naming them counts them as unknown.
  const std::string log = t.id.ToString() + " " + FormatTimestamp(t.start_unix) + " " +
                          FormatTimestamp(t.expiry_unix) + "\n";
  auto parts = SplitUpload(log, 4096);
  SessionReply last;
  for (auto& m : parts) last = Call(*me, std::move(m));
  EXPECT_EQ(Only<UploadAck>(last).entries_received, 1u);
  EXPECT_EQ(Only<UploadAck>(Upload(*me, std::nullopt)).entries_received, 2u);
  const std::string audit = Audit();
  EXPECT_NE(audit.find(" deregistered user=+61410999999 tempids=2"), std::string::npos) << audit;
  EXPECT_NE(audit.find(" contact_check user=+61410888888 entries=1 matched=0 mismatched=0 "
                       "unknown=1 "),
            std::string::npos)
      << audit;
  EXPECT_NE(audit.find(" contact_check user=+61410888888 entries=2 matched=1 mismatched=0 "
                       "unknown=1 "),
            std::string::npos)
      << audit;
  // The reports made before stay: they are the health authority's.
  auto reports = store::PosixFileSystem::Instance().ListDir(h_.dir.File("reports"));
  ASSERT_TRUE(reports.ok());
  EXPECT_EQ(reports->size(), 3u);
}

TEST_F(UploadCodesTest, DeregisterNeedsVersion3AndALogin) {
  Open();
  auto s = LoggedIn(2);
  EXPECT_EQ(Only<Error>(Call(*s, Deregister{util::SecretString("comp3331")})).code,
            ErrorCode::kUnexpectedMessage);
  auto fresh = h_.NewSession();
  Only<HelloOk>(Call(*fresh, Hello{1, 3, "t"}));
  EXPECT_EQ(Only<Error>(Call(*fresh, Deregister{util::SecretString("comp3331")})).code,
            ErrorCode::kUnexpectedMessage);
}

}  // namespace
}  // namespace bluetrace::service
