// The reporting server's rules, driven through protocol Sessions in memory: the original
// assignment's behaviour (messages, lockout, TempIDs, contact checking, console lines)
// and bluetrace's decisions on its gaps.
#include "bluetrace/service/reporting_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/protocol/upload.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "service_harness.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

using namespace bluetrace::protocol;  // NOLINT: message types read best unqualified
using test::Call;
using test::LoginMsg;
using test::Only;

class ReportingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.UseOriginal("credentials.txt");
    h_.UseOriginal("tempIDs.txt");
    ASSERT_TRUE(h_.Open().ok());
  }

  std::unique_ptr<Session> Greeted(const std::string& peer = "127.0.0.1") {
    auto s = h_.NewSession(peer);
    auto ok = Only<HelloOk>(Call(*s, Hello{1, 1, "test"}));
    EXPECT_EQ(ok.version, 1);
    return s;
  }

  std::unique_ptr<Session> LoggedIn(const std::string& user, const std::string& password) {
    auto s = Greeted();
    auto w = Only<Welcome>(Call(*s, LoginMsg(user, password)));
    EXPECT_EQ(w.text, "Welcome to the BlueTrace Simulator!");
    EXPECT_TRUE(s->logged_in());
    return s;
  }

  SessionReply Upload(Session& s, const std::string& text, std::size_t chunk = 4096) {
    SessionReply last;
    for (auto& m : SplitUpload(text, chunk)) last = Call(s, std::move(m));
    return last;
  }

  test::ServiceHarness h_;
};

TEST_F(ReportingServiceTest, OriginalSessionFromLoginToLogout) {
  auto s = LoggedIn("+61410888888", "comp3331");

  // Download_tempID: a fresh TempID valid 15 minutes, printed as the original did.
  auto t = Only<TempIdResponse>(Call(*s, TempIdRequest{}));
  EXPECT_EQ(t.start_unix, h_.clock().NowUnixSeconds());
  EXPECT_EQ(t.expiry_unix - t.start_unix, 15 * 60 - 1);
  EXPECT_NE(h_.console.Text().find("user: +61410888888\nTempID:\n" + t.id.ToString() + "\n"),
            std::string::npos);
  // Durable in tempIDs.txt before the client saw it.
  const std::string tempids = test::ReadFileForTest(h_.dir.File("tempIDs.txt"));
  EXPECT_NE(tempids.find("+61410888888 " + t.id.ToString() +
                         " 13/05/2020 17:50:00 "
                         "13/05/2020 18:04:59"),
            std::string::npos);

  // Upload_contact_log with the original's sample log.
  const std::string log =
      test::ReadFileForTest(test::SourcePath("tests/data/original/contactlog.txt"));
  EXPECT_EQ(Only<UploadAck>(Upload(*s, log)).entries_received, 2u);
  EXPECT_NE(
      h_.console.Text().find("received contact log from +61410888888\n"
                             "12345678901234567890,\n13/05/2020 17:45:06,\n13/05/2020 18:00:05;\n"
                             "12345678901234567891,\n13/05/2020 17:54:06,\n13/05/2020 18:09:05;\n"
                             "Contact log checking\n"
                             "+61410999999,\n13/05/2020 17:45:06,\n12345678901234567890;\n"
                             "+61410888888,\n13/05/2020 17:54:06,\n12345678901234567891;\n"),
      std::string::npos)
      << h_.console.Text();

  // The same result is stored for the health authority.
  auto reports = store::PosixFileSystem::Instance().ListDir(h_.dir.File("reports"));
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 1u);
  const std::string report = test::ReadFileForTest(h_.dir.File("reports/" + (*reports)[0]));
  EXPECT_NE(report.find("matched: 2\n"), std::string::npos) << report;

  auto bye = Call(*s, Logout{});
  Only<LogoutOk>(bye);
  EXPECT_TRUE(bye.close);
  EXPECT_NE(h_.console.Text().find("+61410888888 logout\n"), std::string::npos);
}

TEST_F(ReportingServiceTest, PlaintextPasswordIsUpgradedToArgon2idOnLogin) {
  LoggedIn("+61410777777", "datha457");
  const std::string creds = test::ReadFileForTest(h_.dir.File("credentials.txt"));
  EXPECT_NE(creds.find("+61410777777 $argon2id$"), std::string::npos) << creds;
  EXPECT_EQ(creds.find("datha457"), std::string::npos);
  EXPECT_NE(creds.find("+61410666666 kara1234"), std::string::npos);  // others untouched
  // And the upgraded user still logs in, also after a restart.
  ASSERT_TRUE(h_.Open().ok());
  LoggedIn("+61410777777", "datha457");
}

TEST_F(ReportingServiceTest, ThreeFailuresBlockEvenTheRightPasswordUntilTheBlockEnds) {
  auto s = Greeted();
  EXPECT_EQ(Only<WrongPassword>(Call(*s, LoginMsg("+61410888888", "x"))).attempts_left, 2);
  EXPECT_EQ(Only<WrongPassword>(Call(*s, LoginMsg("+61410888888", "y"))).attempts_left, 1);
  auto blocked = Call(*s, LoginMsg("+61410888888", "z"));
  EXPECT_EQ(Only<Blocked>(blocked).block_seconds, 60u);
  EXPECT_TRUE(blocked.close);

  // From another address and with the right password: still blocked.
  auto other = Greeted("127.0.0.2");
  auto still = Call(*other, LoginMsg("+61-410-888-888", "comp3331"));
  EXPECT_GT(Only<StillBlocked>(still).seconds_left, 0u);
  EXPECT_TRUE(still.close);

  // A restart does not lift the block.
  ASSERT_TRUE(h_.Open().ok());
  EXPECT_EQ(Only<StillBlocked>(Call(*Greeted(), LoginMsg("+61410888888", "comp3331"))).seconds_left,
            60u);

  h_.clock().AdvanceSeconds(60);
  LoggedIn("+61410888888", "comp3331");
}

TEST_F(ReportingServiceTest, ASuccessResetsTheFailureCount) {
  auto s = Greeted();
  Only<WrongPassword>(Call(*s, LoginMsg("+61410999999", "x")));
  Only<WrongPassword>(Call(*s, LoginMsg("+61410999999", "y")));
  Only<Welcome>(Call(*s, LoginMsg("+61410999999", "bada4568")));
  auto again = Greeted();
  EXPECT_EQ(Only<WrongPassword>(Call(*again, LoginMsg("+61410999999", "x"))).attempts_left, 2);
}

TEST_F(ReportingServiceTest, UnknownUsersGetTheSameAnswersAsWrongPasswords) {
  for (const std::string name : {"+61400000001", "not-a-phone-number"}) {
    auto s = Greeted();
    EXPECT_EQ(Only<WrongPassword>(Call(*s, LoginMsg(name, "guess1"))).attempts_left, 2);
    EXPECT_EQ(Only<WrongPassword>(Call(*s, LoginMsg(name, "guess2"))).attempts_left, 1);
    EXPECT_EQ(Only<Blocked>(Call(*s, LoginMsg(name, "guess3"))).block_seconds, 60u);
    EXPECT_EQ(Only<StillBlocked>(Call(*Greeted(), LoginMsg(name, "guess4"))).seconds_left, 60u);
  }
}

TEST_F(ReportingServiceTest, MessagesOutOfOrderGetTypedErrors) {
  // Before Hello: refused and closed.
  auto fresh = h_.NewSession();
  auto r = Call(*fresh, LoginMsg("+61410888888", "comp3331"));
  EXPECT_EQ(Only<Error>(r).code, ErrorCode::kUnexpectedMessage);
  EXPECT_TRUE(r.close);

  // Before login: refused, connection kept.
  auto s = Greeted();
  r = Call(*s, TempIdRequest{});
  EXPECT_EQ(Only<Error>(r).code, ErrorCode::kUnexpectedMessage);
  EXPECT_FALSE(r.close);
  EXPECT_EQ(Only<Error>(Call(*s, UploadBegin{10})).code, ErrorCode::kUnexpectedMessage);
  // A server-only message from a client: closed.
  r = Call(*s, Welcome{"+61410888888", "hi"});
  EXPECT_TRUE(r.close);

  // After login, no second login.
  auto in = LoggedIn("+61410888888", "comp3331");
  EXPECT_EQ(Only<Error>(Call(*in, LoginMsg("+61410888888", "comp3331"))).code,
            ErrorCode::kUnexpectedMessage);
  EXPECT_EQ(Only<Pong>(Call(*in, Ping{77})).nonce, 77u);
}

TEST_F(ReportingServiceTest, UnsupportedVersionIsRefused) {
  auto s = h_.NewSession();
  constexpr auto kNewer = static_cast<std::uint16_t>(kProtocolVersion + 1);
  auto r = Call(*s, Hello{kNewer, kNewer, "future"});
  EXPECT_EQ(Only<Error>(r).code, ErrorCode::kUnsupportedVersion);
  EXPECT_TRUE(r.close);
}

TEST_F(ReportingServiceTest, TheHighestCommonVersionIsChosen) {
  EXPECT_EQ(Only<HelloOk>(Call(*h_.NewSession(), Hello{1, 7, "newer"})).version, kProtocolVersion);
  EXPECT_EQ(Only<HelloOk>(Call(*h_.NewSession(), Hello{1, 1, "older"})).version, 1);
  EXPECT_EQ(Only<HelloOk>(Call(*h_.NewSession(), Hello{2, 2, "v2 only"})).version, 2);
  auto r = Call(*h_.NewSession(), Hello{0, 0, "ancient"});
  EXPECT_EQ(Only<Error>(r).code, ErrorCode::kUnsupportedVersion);
}

TEST_F(ReportingServiceTest, RegistrationCanonicalisesAndRefusesDuplicates) {
  auto s = Greeted();
  EXPECT_EQ(
      Only<RegisterOk>(Call(*s, Register{"+61-400-111-222", util::SecretString("longpassword")}))
          .user,
      "+61400111222");
  EXPECT_EQ(
      Only<Error>(Call(*s, Register{"+61400111222", util::SecretString("otherpassword")})).code,
      ErrorCode::kAlreadyExists);
  EXPECT_EQ(Only<Error>(Call(*s, Register{"+61400111333", util::SecretString("short")})).code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Only<Error>(Call(*s, Register{"0400111333", util::SecretString("longpassword")})).code,
            ErrorCode::kInvalidArgument);
  Only<Welcome>(Call(*s, LoginMsg("+61 400 111 222", "longpassword")));
  const std::string creds = test::ReadFileForTest(h_.dir.File("credentials.txt"));
  EXPECT_NE(creds.find("+61400111222 $argon2id$"), std::string::npos);
}

TEST_F(ReportingServiceTest, RegistrationCanBeTurnedOff) {
  h_.config.registration_enabled = false;
  ASSERT_TRUE(h_.Open().ok());
  auto s = Greeted();
  EXPECT_EQ(
      Only<Error>(Call(*s, Register{"+61400111222", util::SecretString("longpassword")})).code,
      ErrorCode::kRegistrationDisabled);
}

TEST_F(ReportingServiceTest, UnknownAndMismatchedEntriesAreReportedNotDropped) {
  auto s = LoggedIn("+61410666666", "kara1234");
  const std::string log =
      "99999999999999999999 13/05/2020 17:45:06 13/05/2020 18:00:05\n"
      "12345678901234567892 14/05/2020 17:45:07 14/05/2020 18:00:05\n"
      "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n";
  EXPECT_EQ(Only<UploadAck>(Upload(*s, log)).entries_received, 3u);
  const std::string out = h_.console.Text();
  EXPECT_NE(out.find("Unknown TempIDs: 1\n99999999999999999999,\n"), std::string::npos) << out;
  // A contact whose times differ is printed as a contact all the same (flagged in the report).
  EXPECT_NE(out.find("Contact log checking\n+61410777777,\n14/05/2020 17:45:07,\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(h_.service->stats().entries_matched.load(), 1u);
  EXPECT_EQ(h_.service->stats().entries_unknown.load(), 1u);
  EXPECT_EQ(h_.service->stats().entries_mismatched.load(), 1u);
}

// The original's Example 2, uploaded through a session against the original's sample
// tempIDs.txt: both TempIDs map to users, so both phone numbers are printed.
TEST_F(ReportingServiceTest, TheOriginalsExampleTwoPrintsBothContacts) {
  auto s = LoggedIn("+61410999999", "bada4568");
  const std::string log =
      "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\r\n"
      "12345678901234567892 14/05/2020 17:54:06 14/05/2020 18:09:05";
  EXPECT_EQ(Only<UploadAck>(Upload(*s, log)).entries_received, 2u);
  const std::string out = h_.console.Text();
  EXPECT_NE(out.find("received contact log from +61410999999\n"
                     "12345678901234567891,\n13/05/2020 17:54:06,\n13/05/2020 18:09:05;\n"
                     "12345678901234567892,\n14/05/2020 17:54:06,\n14/05/2020 18:09:05;\n"
                     "Contact log checking\n"
                     "+61410888888,\n13/05/2020 17:54:06,\n12345678901234567891;\n"
                     "+61410777777,\n14/05/2020 17:54:06,\n12345678901234567892;\n"),
            std::string::npos)
      << out;
}

TEST_F(ReportingServiceTest, AMalformedLogIsRefusedNamingTheLineAndTheSessionGoesOn) {
  auto s = LoggedIn("+61410666666", "kara1234");
  auto r = Upload(*s, "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\nbad\n");
  auto e = Only<Error>(r);
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(e.message.find("line 2"), std::string::npos) << e.message;
  EXPECT_FALSE(r.close);
  Only<TempIdResponse>(Call(*s, TempIdRequest{}));
}

TEST_F(ReportingServiceTest, ALogLargerThanOneFrameArrivesInChunks) {
  auto s = LoggedIn("+61410666666", "kara1234");
  std::string log;
  for (int i = 0; i < 5000; ++i) {
    log += "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\r\n";
  }
  ASSERT_GT(log.size(), 300000u);
  EXPECT_EQ(Only<UploadAck>(Upload(*s, log, 1000)).entries_received, 5000u);
}

TEST_F(ReportingServiceTest, UploadOverTheLimitIsRefused) {
  h_.config.max_upload_bytes = 100;
  ASSERT_TRUE(h_.Open().ok());
  auto s = LoggedIn("+61410666666", "kara1234");
  EXPECT_EQ(Only<Error>(Call(*s, UploadBegin{101})).code, ErrorCode::kTooLarge);
}

TEST_F(ReportingServiceTest, AVanishedClientCountsAsLoggedOut) {
  auto s = LoggedIn("+61410999999", "bada4568");
  s->Closed();
  EXPECT_NE(h_.console.Text().find("+61410999999 logout\n"), std::string::npos);
  s.reset();  // no second logout line
  const std::string out = h_.console.Text();
  EXPECT_EQ(out.find("+61410999999 logout\n"), out.rfind("+61410999999 logout\n"));
}

TEST_F(ReportingServiceTest, SeveralSessionsOfOneUserAreAllowed) {
  auto a = LoggedIn("+61410888888", "comp3331");
  auto b = LoggedIn("+61410888888", "comp3331");
  auto ta = Only<TempIdResponse>(Call(*a, TempIdRequest{}));
  auto tb = Only<TempIdResponse>(Call(*b, TempIdRequest{}));
  EXPECT_NE(ta.id, tb.id);
}

TEST_F(ReportingServiceTest, LoginAttemptsAreRateLimitedPerAddress) {
  h_.config.login_rate = {0.001, 2.0};
  ASSERT_TRUE(h_.Open().ok());
  auto s = Greeted();
  Only<WrongPassword>(Call(*s, LoginMsg("+61410888888", "x")));
  Only<Welcome>(Call(*s, LoginMsg("+61410888888", "comp3331")));
  auto t = Greeted();
  auto r = Call(*t, LoginMsg("+61410888888", "comp3331"));
  EXPECT_EQ(Only<Error>(r).code, ErrorCode::kRateLimited);
  EXPECT_FALSE(r.close);
  // Another address is still served.
  Only<Welcome>(Call(*Greeted("127.0.0.2"), LoginMsg("+61410888888", "comp3331")));
}

TEST_F(ReportingServiceTest, TempIdRequestsAreRateLimitedPerUser) {
  h_.config.tempid_rate = {0.001, 2.0};
  ASSERT_TRUE(h_.Open().ok());
  auto s = LoggedIn("+61410888888", "comp3331");
  Only<TempIdResponse>(Call(*s, TempIdRequest{}));
  Only<TempIdResponse>(Call(*s, TempIdRequest{}));
  EXPECT_EQ(Only<Error>(Call(*s, TempIdRequest{})).code, ErrorCode::kRateLimited);
  // Another user is still served.
  Only<TempIdResponse>(Call(*LoggedIn("+61410999999", "bada4568"), TempIdRequest{}));
}

TEST_F(ReportingServiceTest, NewConnectionsAreRateLimitedPerAddress) {
  h_.config.connection_rate = {0.001, 3.0};
  ASSERT_TRUE(h_.Open().ok());
  EXPECT_TRUE(h_.service->AdmitConnection("127.0.0.1"));
  EXPECT_TRUE(h_.service->AdmitConnection("127.0.0.1"));
  EXPECT_TRUE(h_.service->AdmitConnection("127.0.0.1"));
  EXPECT_FALSE(h_.service->AdmitConnection("127.0.0.1"));
  EXPECT_TRUE(h_.service->AdmitConnection("127.0.0.2"));
}

TEST(ReportingServiceStartupTest, ABadStateFileStopsStartUpNamingFileAndLine) {
  test::ServiceHarness h;
  test::WriteFileForTest(h.dir.File("credentials.txt"), "+61410666666 kara1234\nnonsense\n");
  auto st = h.Open();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("credentials.txt"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("line 2"), std::string::npos) << st.message();
}

TEST(ReportingServiceStartupTest, BothOriginalTempIdFilesLoad) {
  for (const char* name : {"tempIDs.txt", "tempIDs-final-newline.txt"}) {
    test::ServiceHarness h;
    h.UseOriginal("credentials.txt");
    h.UseOriginal(name, "tempIDs.txt");
    ASSERT_TRUE(h.Open().ok()) << name;
    EXPECT_EQ(h.service->tempids().size(), 3u) << name;
  }
}

TEST(ReportingServiceStartupTest, ExpiredTempIdsAreCompactedAtStartUpWhenRetentionIsSet) {
  test::ServiceHarness h;
  h.UseOriginal("tempIDs.txt");
  h.config.tempid_retention_seconds = 21 * 24 * 3600;  // the packaged configuration's
  h.clock().AdvanceSeconds(365 * 24 * 3600);           // long past it
  ASSERT_TRUE(h.Open().ok());
  EXPECT_EQ(h.service->tempids().size(), 0u);
  ASSERT_EQ(h.service->startup_warnings().size(), 1u);
  EXPECT_EQ(h.service->startup_warnings()[0],
            "tempIDs.txt: dropped 3 TempIDs that expired more than tempid.retention = 1814400 s "
            "ago (set tempid.retention = 0 to keep every TempID)");
}

// audit.retention at start-up: old records pruned behind an anchor (a note says so); a
// chain that does not verify is not pruned, and the server starts anyway with a warning.
TEST(ReportingServiceStartupTest, OldAuditRecordsArePrunedAtStartUpAndABrokenChainOnlyWarns) {
  test::ServiceHarness h;
  h.UseOriginal("credentials.txt");
  const std::string path = h.dir.File("audit.log");
  {
    util::ManualClock old(h.clock().NowUnixSeconds() - 30 * 86400);
    auto log = store::AuditLog::Open(store::PosixFileSystem::Instance(), old, path, "");
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("login_ok", {{"user", "+61410888888"}}).ok());
    ASSERT_TRUE((*log)->Append("login_ok", {{"user", "+61410777777"}}).ok());
    ASSERT_TRUE((*log)->Append("login_ok", {{"user", "+61410666666"}}).ok());
  }
  h.config.audit_retention_seconds = 7 * 86400;
  std::string text = test::ReadFileForTest(path);
  std::string tampered = text;
  tampered.replace(tampered.find("+61410777777"), 12, "+61410777778");  // line 2 of 3
  test::WriteFileForTest(path, tampered);
  ASSERT_TRUE(h.Open().ok());
  ASSERT_EQ(h.service->startup_warnings().size(), 1u);
  EXPECT_EQ(h.service->startup_warnings()[0].rfind("audit.retention not applied: ", 0), 0u)
      << h.service->startup_warnings()[0];
  EXPECT_NE(h.service->startup_warnings()[0].find("line 2"), std::string::npos);
  EXPECT_EQ(test::ReadFileForTest(path), tampered);

  h.service.reset();
  test::WriteFileForTest(path, text);
  ASSERT_TRUE(h.Open().ok());
  EXPECT_TRUE(h.service->startup_warnings().empty());
  const auto& notes = h.service->startup_notes();
  EXPECT_NE(std::find(notes.begin(), notes.end(),
                      "audit trail: pruned 3 records older than audit.retention (anchor record 3)"),
            notes.end());
  auto verified = store::AuditLog::Verify(store::PosixFileSystem::Instance(), path);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok() && verified->anchored);
}

// Issue 14 §1: the start-up compaction rewrote tempIDs.txt (a new inode, 740 MB written at
// 10 million lines) even when nothing had expired.
TEST(ReportingServiceStartupTest, StartUpLeavesTempIdsAloneWhenNothingExpired) {
  test::ServiceHarness h;
  h.UseOriginal("tempIDs-final-newline.txt", "tempIDs.txt");
  h.config.tempid_retention_seconds = 21 * 24 * 3600;  // nothing in the sample is that old
  const std::string path = h.dir.File("tempIDs.txt");
  const auto before = store::PosixFileSystem::Instance().Stat(path);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(h.Open().ok());
  EXPECT_EQ(h.service->tempids().size(), 3u);
  EXPECT_TRUE(h.service->startup_warnings().empty());
  EXPECT_EQ(*store::PosixFileSystem::Instance().Stat(path), *before);  // same inode, untouched
}

// The simulator keeps the original's files as they are: by default nothing is compacted,
// however old, so the original's sample contact logs still match.
TEST(ReportingServiceStartupTest, TheOriginalsTempIdsAreKeptByDefault) {
  test::ServiceHarness h;
  h.UseOriginal("tempIDs.txt");
  const std::string path = h.dir.File("tempIDs.txt");
  const auto before = store::PosixFileSystem::Instance().ReadFile(path);
  ASSERT_TRUE(before.ok());
  h.clock().AdvanceSeconds(6 * 365 * 24 * 3600);  // 2026, as today
  ASSERT_TRUE(h.Open().ok());
  EXPECT_EQ(h.service->tempids().size(), 3u);
  EXPECT_TRUE(h.service->startup_warnings().empty());
  ASSERT_TRUE(h.service->CompactTempIds().ok());  // the hourly run does nothing either
  h.service.reset();
  EXPECT_EQ(*store::PosixFileSystem::Instance().ReadFile(path), *before);
}

}  // namespace
}  // namespace bluetrace::service

namespace bluetrace::service {
namespace {

TEST_F(ReportingServiceTest, AFailedUploadGetsExactlyOneAnswer) {
  h_.config.max_upload_bytes = 200;
  ASSERT_TRUE(h_.Open().ok());
  auto s = LoggedIn("+61410666666", "kara1234");
  // Announce 100 bytes, then send 150: the chunk that overflows gets the Error; the rest of
  // that upload, its UploadEnd included, gets no further answer.
  EXPECT_TRUE(Call(*s, UploadBegin{100}).messages.empty());
  EXPECT_TRUE(Call(*s, UploadChunk{std::string(60, 'x')}).messages.empty());
  EXPECT_EQ(Only<Error>(Call(*s, UploadChunk{std::string(60, 'x')})).code,
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Call(*s, UploadChunk{std::string(30, 'x')}).messages.empty());
  EXPECT_TRUE(Call(*s, UploadEnd{}).messages.empty());
  // The session is in step again: a good upload is acknowledged.
  EXPECT_EQ(Only<UploadAck>(Upload(*s,
                                   "12345678901234567890 13/05/2020 17:45:06 "
                                   "13/05/2020 18:00:05\n"))
                .entries_received,
            1u);
  // A stray UploadEnd with no upload is still an error.
  EXPECT_EQ(Only<Error>(Call(*s, UploadEnd{})).code, ErrorCode::kUnexpectedMessage);
}

}  // namespace
}  // namespace bluetrace::service
