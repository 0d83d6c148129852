// The server's audit records: what a session does shows up in <state_dir>/audit.log, with
// the user, the peer address and the outcome, never a password, and the chain verifies.
#include <gtest/gtest.h>

#include "bluetrace/protocol/upload.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "service_harness.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

using namespace bluetrace::protocol;  // NOLINT: message types read best unqualified
using test::Call;
using test::LoginMsg;
using test::Only;

class AuditHooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.UseOriginal("credentials.txt");
    h_.UseOriginal("tempIDs.txt");
    ASSERT_TRUE(h_.Open().ok());
  }

  std::unique_ptr<Session> Greeted(const std::string& peer) {
    auto s = h_.NewSession(peer);
    Only<HelloOk>(Call(*s, Hello{1, 1, "test"}));
    return s;
  }

  std::string Audit() { return test::ReadFileForTest(h_.dir.File("audit.log")); }

  void ExpectChainHolds() {
    auto r = store::AuditLog::Verify(store::PosixFileSystem::Instance(), h_.dir.File("audit.log"));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->ok()) << r->problem;
  }

  test::ServiceHarness h_;
};

TEST_F(AuditHooksTest, LoginsOkFailedAndBlockedAreRecordedWithoutPasswords) {
  auto s = Greeted("192.0.2.7");
  Only<WrongPassword>(Call(*s, LoginMsg("+61410888888", "guess-one")));
  Only<WrongPassword>(Call(*s, LoginMsg("+61410888888", "guess-two")));
  Only<Blocked>(Call(*s, LoginMsg("+61410888888", "guess-three")));
  auto s2 = Greeted("192.0.2.8");
  Only<StillBlocked>(Call(*s2, LoginMsg("+61410888888", "comp3331")));
  auto s3 = Greeted("192.0.2.9");
  Only<Welcome>(Call(*s3, LoginMsg("+61410777777", "datha457")));

  const std::string audit = Audit();
  EXPECT_NE(audit.find(" login_failed user=+61410888888 peer=192.0.2.7 outcome=wrong_password "),
            std::string::npos)
      << audit;
  EXPECT_NE(audit.find(" login_failed user=+61410888888 peer=192.0.2.7 outcome=blocked_now "),
            std::string::npos);
  EXPECT_NE(audit.find(" login_blocked user=+61410888888 peer=192.0.2.8 "), std::string::npos);
  EXPECT_NE(audit.find(" login_ok user=+61410777777 peer=192.0.2.9 "), std::string::npos);
  for (const char* secret : {"guess-one", "guess-three", "comp3331", "datha457"}) {
    EXPECT_EQ(audit.find(secret), std::string::npos) << secret;
  }
  ExpectChainHolds();
}

TEST_F(AuditHooksTest, RegistrationsAndContactChecksAreRecorded) {
  auto s = Greeted("192.0.2.7");
  Only<RegisterOk>(Call(*s, Register{"+61400111222", util::SecretString("longpassword")}));
  Only<Welcome>(Call(*s, LoginMsg("+61410888888", "comp3331")));
  const std::string log =
      test::ReadFileForTest(test::SourcePath("tests/data/original/contactlog.txt"));
  SessionReply last;
  for (auto& m : SplitUpload(log, 4096)) last = Call(*s, std::move(m));
  EXPECT_EQ(Only<UploadAck>(last).entries_received, 2u);

  const std::string audit = Audit();
  EXPECT_NE(audit.find(" registered user=+61400111222 peer=192.0.2.7 "), std::string::npos)
      << audit;
  EXPECT_EQ(audit.find("longpassword"), std::string::npos);
  const auto at = audit.find(" contact_check user=+61410888888 entries=2 matched=");
  ASSERT_NE(at, std::string::npos) << audit;
  EXPECT_NE(audit.find(" report=20200513T175000Z-61410888888-1.txt ", at), std::string::npos)
      << audit;
  ExpectChainHolds();
}

TEST_F(AuditHooksTest, TheChainContinuesAcrossARestart) {
  auto s = Greeted("192.0.2.7");
  Only<Welcome>(Call(*s, LoginMsg("+61410777777", "datha457")));
  s.reset();
  ASSERT_TRUE(h_.Open().ok());
  auto s2 = Greeted("192.0.2.7");
  Only<Welcome>(Call(*s2, LoginMsg("+61410777777", "datha457")));
  ExpectChainHolds();
  EXPECT_EQ(Audit().find("2 "), Audit().find('\n') + 1);
}

}  // namespace
}  // namespace bluetrace::service
