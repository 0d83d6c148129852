// ImportStateDir / ExportStateDir: a state directory written by the file backend goes into
// PostgreSQL and comes back byte for byte; a bad line stops the import with nothing
// committed; a second import needs merge; a large tempIDs.txt streams in.
#include "bluetrace/store/postgres/pg_transfer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/store/files/file_backend.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "bluetrace/store/postgres/pg_audit_trail.hpp"
#include "support/fake_random.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using test::ReadFileForTest;
using test::WriteFileForTest;

constexpr Argon2Params kFastArgon2{64, 1, 1};

class PgTransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::FreshPgDatabase::Create();
    ASSERT_NE(db_, nullptr);
    conn_ = &db_->conn();
  }

  ImportOptions Options(bool merge = false) {
    ImportOptions options;
    options.merge = merge;
    options.argon2 = kFastArgon2;
    options.random = &random_;
    return options;
  }

  // A state directory with every kind of state, written by the file backend itself.
  void BuildStateDir(const std::string& dir) {
    FileBackendOptions options;
    options.state_dir = dir;
    options.argon2 = kFastArgon2;
    auto stores = OpenFileBackend(fs_, clock_, random_, options);
    ASSERT_TRUE(stores.ok()) << stores.status().ToString();
    for (const char* user : {"+61410999999", "+61410111111", "+61410555555"}) {
      ASSERT_TRUE(stores->users->AddUser(user, "pass-word-1").ok());
    }
    // One TempID per second (ties within a second would come back in TempID order).
    for (int i = 0; i < 20; ++i) {
      clock_.Advance(std::chrono::seconds(1));
      const std::int64_t now = clock_.NowUnixSeconds();
      const char* user = i % 2 == 0 ? "+61410999999" : "+61410111111";
      ASSERT_TRUE(stores->tempids->Issue(user, now, now + 899, random_).ok());
    }
    ASSERT_TRUE(stores->lockouts->RecordFailure("+61410555555", true).ok());
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(stores->lockouts->RecordFailure("+61410111111", true).ok());
    ASSERT_TRUE(stores->lockouts->RecordFailure("+61499999999", false).ok());  // memory only
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(stores->reports
                      ->Write("+61410999999", clock_.NowUnixSeconds(),
                              "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n")
                      .ok());
    }
    ASSERT_TRUE(
        stores->audit->Record("login", {{"user", "+61410999999"}, {"addr", "127.0.0.1"}}).ok());
    ASSERT_TRUE(stores->audit->Record("odd", {{"name", "a b=c%\\d"}}).ok());
    ASSERT_TRUE(stores->audit->Record("bare", {}).ok());
    BuildHealthAuthorityState(*stores);
  }

  // The console's and the upload codes' state: staff with hashes and a login failure,
  // contact statuses with hostile notes, upload codes, a wrong-code count.
  void BuildHealthAuthorityState(Stores& stores) {
    auto hash = HashPassword("staff-pass-1", kFastArgon2, random_);
    ASSERT_TRUE(hash.ok());
    ASSERT_TRUE(stores.staff->Add({"zoe", StaffRole::kTracer, *hash}).ok());
    ASSERT_TRUE(stores.staff->Add({"admin.1", StaffRole::kAdmin, *hash}).ok());
    ASSERT_TRUE(stores.staff->RecordFailure("zoe", clock_.NowUnixSeconds(), 5, 900).ok());
    ASSERT_TRUE(stores.staff
                    ->CreateSession({std::string(64, 'a'), "zoe", "csrf", clock_.NowUnixSeconds(),
                                     clock_.NowUnixSeconds()})
                    .ok());  // transient: not in any file
    ASSERT_TRUE(stores.contact_statuses
                    ->Set({"+61410999999", ContactStatus::kReached,
                           "called at 5pm, <script>\"x\"</script> 100% \xc3\xa9\nsecond line",
                           "zoe", clock_.NowUnixSeconds()})
                    .ok());
    ASSERT_TRUE(stores.contact_statuses
                    ->Set({"+61410111111", ContactStatus::kUnreachable, "", "admin.1",
                           clock_.NowUnixSeconds() + 1})
                    .ok());
    const std::int64_t now = clock_.NowUnixSeconds();
    ASSERT_TRUE(
        stores.upload_codes->Put({"+61410555555", std::string(64, 'b'), now, now + 3600}).ok());
    ASSERT_TRUE(
        stores.upload_codes->Put({"+61410111111", std::string(63, 'c') + "0", now, now + 60}).ok());
    ASSERT_TRUE(stores.code_failures->RecordFailure("+61410555555", true).ok());
  }

  std::int64_t Count(const std::string& table) {
    auto res = conn_->Exec("count", "SELECT count(*) FROM " + table);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res->GetInt(0, 0) : -1;
  }

  void ExpectDatabaseEmpty() {
    for (const char* table : {"users", "tempids", "lockouts", "reports", "audit", "console_staff",
                              "contact_status", "upload_codes", "upload_code_failures"}) {
      EXPECT_EQ(Count(table), 0) << table;
    }
  }

  PosixFileSystem& fs_ = PosixFileSystem::Instance();
  util::ManualClock clock_{1'600'000'000};
  test::SeededRandom random_{42};
  std::unique_ptr<test::FreshPgDatabase> db_;
  PgConnection* conn_ = nullptr;
  test::TempDir tmp_;
};

TEST_F(PgTransferTest, FileBackendStateComesBackByteForByte) {
  const std::string in = tmp_.File("in"), out = tmp_.File("out");
  ASSERT_TRUE(fs_.CreateDirs(in).ok());
  BuildStateDir(in);
  if (HasFatalFailure()) return;

  auto imported = ImportStateDir(*conn_, fs_, in, Options());
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->users, 3u);
  EXPECT_EQ(imported->hashed_passwords, 0u);
  EXPECT_EQ(imported->tempids, 20u);
  EXPECT_EQ(imported->lockouts, 2u);
  EXPECT_EQ(imported->reports, 2u);
  EXPECT_EQ(imported->audit_records, 3u);
  EXPECT_EQ(imported->staff, 2u);
  EXPECT_EQ(imported->contact_statuses, 2u);
  EXPECT_EQ(imported->upload_codes, 2u);
  EXPECT_EQ(imported->code_days, 1u);  // both codes were issued today
  EXPECT_EQ(imported->code_failures, 1u);
  EXPECT_EQ(imported->skipped, 0u);
  EXPECT_EQ(Count("console_sessions"), 0);

  auto exported = ExportStateDir(*conn_, fs_, out, {});
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(exported->tempids, 20u);
  EXPECT_EQ(exported->staff, 2u);
  EXPECT_EQ(exported->contact_statuses, 2u);
  EXPECT_EQ(exported->upload_codes, 2u);
  EXPECT_EQ(exported->code_days, 1u);
  EXPECT_EQ(exported->code_failures, 1u);
  for (const char* name : {StateDir::kCredentials, StateDir::kTempIds, StateDir::kLockouts,
                           StateDir::kAuditLog, StateDir::kStaff, StateDir::kContactStatus,
                           StateDir::kUploadCodes, StateDir::kCodeFailures}) {
    ASSERT_FALSE(ReadFileForTest(JoinPath(in, name)).empty()) << name;
    EXPECT_EQ(ReadFileForTest(JoinPath(out, name)), ReadFileForTest(JoinPath(in, name))) << name;
    EXPECT_EQ(*fs_.FileMode(JoinPath(out, name)), StateDir::kFileMode) << name;
  }
  auto reports_in = fs_.ListDir(JoinPath(in, StateDir::kReports));
  auto reports_out = fs_.ListDir(JoinPath(out, StateDir::kReports));
  ASSERT_TRUE(reports_in.ok() && reports_out.ok());
  EXPECT_EQ(*reports_out, *reports_in);
  for (const std::string& name : *reports_in) {
    const std::string rel = std::string(StateDir::kReports) + "/" + name;
    EXPECT_EQ(ReadFileForTest(JoinPath(out, rel)), ReadFileForTest(JoinPath(in, rel))) << name;
  }
  // The exported directory is a state directory the file backend opens, audit chain included.
  auto verified = AuditLog::Verify(fs_, JoinPath(out, StateDir::kAuditLog));
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem;
  FileBackendOptions options;
  options.state_dir = out;
  options.argon2 = kFastArgon2;
  auto reopened = OpenFileBackend(fs_, clock_, random_, options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto login = reopened->users->Verify("+61410555555", "pass-word-1");
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(*login, VerifyResult::kOk);
  EXPECT_TRUE(reopened->audit->Record("after", {}).ok());  // the chain continues
  auto zoe = reopened->staff->Find("zoe");
  ASSERT_TRUE(zoe.ok() && zoe->has_value());
  auto staff_login = VerifyPassword((*zoe)->password_hash, "staff-pass-1");
  ASSERT_TRUE(staff_login.ok());
  EXPECT_TRUE(*staff_login);
  auto statuses = reopened->contact_statuses->List();
  ASSERT_TRUE(statuses.ok());
  ASSERT_EQ(statuses->size(), 2u);
  EXPECT_EQ((*statuses)[1].note,
            "called at 5pm, <script>\"x\"</script> 100% \xc3\xa9\nsecond line");
  auto redeemed =
      reopened->upload_codes->Redeem("+61410555555", std::string(64, 'b'), clock_.NowUnixSeconds());
  ASSERT_TRUE(redeemed.ok());
  EXPECT_EQ(*redeemed, RedeemResult::kRedeemed);
}

// A pruned chain (an anchor at line 1) moves into the database and back byte for byte, and
// goes on there: records and a second prune on PostgreSQL, then an export that verifies.
TEST_F(PgTransferTest, AnAnchoredAuditChainSurvivesImportAndExport) {
  const std::string in = tmp_.File("in"), out = tmp_.File("out"), again = tmp_.File("again");
  ASSERT_TRUE(fs_.CreateDirs(in).ok());
  const std::string audit = JoinPath(in, StateDir::kAuditLog);
  {
    auto log = AuditLog::Open(fs_, clock_, audit, "");
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("one", {}).ok());
    ASSERT_TRUE((*log)->Append("two", {}).ok());
    clock_.AdvanceSeconds(10 * 86400);
    ASSERT_TRUE((*log)->Append("three", {}).ok());
    auto pruned = (*log)->Prune(clock_.NowUnixSeconds() - 86400, {{"by", "root"}});
    ASSERT_TRUE(pruned.ok() && pruned->records_dropped == 2u);
  }
  auto imported = ImportStateDir(*conn_, fs_, in, Options());
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->audit_records, 2u);
  ASSERT_TRUE(ExportStateDir(*conn_, fs_, out, {}).ok());
  EXPECT_EQ(ReadFileForTest(JoinPath(out, StateDir::kAuditLog)), ReadFileForTest(audit));

  auto trail = PgAuditTrail::Open(*db_->NewPool(), clock_);
  ASSERT_TRUE(trail->Record("four", {}).ok());
  clock_.AdvanceSeconds(2 * 86400);
  ASSERT_TRUE(trail->Record("five", {}).ok());
  auto pruned = trail->Prune(clock_.NowUnixSeconds() - 86400, {});
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(pruned->records_dropped, 2u);  // three and four; the old anchor goes too
  EXPECT_EQ(pruned->anchor_seq, 4u);
  ASSERT_TRUE(ExportStateDir(*conn_, fs_, again, {}).ok());
  auto verified = AuditLog::Verify(fs_, JoinPath(again, StateDir::kAuditLog));
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem << " at line " << verified->bad_line;
  EXPECT_TRUE(verified->anchored);
  EXPECT_EQ(verified->chain_from, 5u);
  EXPECT_EQ(verified->records, 2u);
}

TEST_F(PgTransferTest, ConsoleSessionsAndTheCodeKeyAreNamedAsNotMoved) {
  const std::string in = tmp_.File("in"), out = tmp_.File("out");
  ASSERT_TRUE(fs_.CreateDirs(in).ok());
  BuildStateDir(in);
  if (HasFatalFailure()) return;
  auto imported = ImportStateDir(*conn_, fs_, in, Options());
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  std::string notes;
  for (const auto& n : imported->notes) notes += n + "\n";
  EXPECT_NE(notes.find("upload.code_key_file"), std::string::npos) << notes;
  ASSERT_TRUE(conn_
                  ->Exec("session", "INSERT INTO console_sessions VALUES ($1, 'zoe', 'csrf', 1, 1)",
                         {std::string(64, 'd')})
                  .ok());
  auto exported = ExportStateDir(*conn_, fs_, out, {});
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  notes.clear();
  for (const auto& n : exported->notes) notes += n + "\n";
  EXPECT_NE(notes.find("1 console session(s) were not exported"), std::string::npos) << notes;
  EXPECT_NE(notes.find("upload.code_key_file"), std::string::npos) << notes;
}

TEST_F(PgTransferTest, NewStateFilesAreWrittenOnlyWhenTheDatabaseHasTheirRecords) {
  const std::string out = tmp_.File("out");
  ASSERT_TRUE(ExportStateDir(*conn_, fs_, out, {}).ok());
  for (const char* name : {StateDir::kStaff, StateDir::kContactStatus, StateDir::kUploadCodes,
                           StateDir::kCodeFailures}) {
    EXPECT_FALSE(*fs_.Exists(JoinPath(out, name))) << name;
  }
  EXPECT_TRUE(*fs_.Exists(JoinPath(out, StateDir::kLockouts)));  // as before
}

// Each of the new files: a bad line stops the import, naming the file and the line, and
// nothing is committed (the users of credentials.txt imported before it included).
TEST_F(PgTransferTest, BadLinesOfTheHealthAuthorityFilesStopTheImport) {
  auto hash = HashPassword("staff-pass-1", kFastArgon2, random_);
  ASSERT_TRUE(hash.ok());
  const std::string staff_ok = "zoe tracer " + *hash + " 0 0\n";
  const std::string code_ok = "+61410666666 " + std::string(64, 'b') + " 1 2\n";
  const std::string status_ok = "+61410666666 reached 5 zoe a%20note\n";
  struct Case {
    const char* file;
    std::string text;
    std::string named;
  };
  const std::vector<Case> cases = {
      {StateDir::kStaff, staff_ok + "Zoe tracer " + *hash + " 0 0\n", "staff.txt:2: "},
      {StateDir::kStaff, staff_ok + staff_ok, "staff.txt:2: a name given twice"},
      {StateDir::kContactStatus, status_ok + "0410666666 reached 5 zoe x\n",
       "contact_status.txt:2: contact status: not a canonical phone number"},
      {StateDir::kContactStatus, status_ok + status_ok,
       "contact_status.txt:2: a phone number given twice"},
      {StateDir::kContactStatus, status_ok + "+61410777777 called 5 zoe x\n",
       "contact_status.txt:2: not a contact status"},
      {StateDir::kUploadCodes, "\n" + code_ok + "+61410777777 " + std::string(64, 'B') + " 1 2\n",
       "upload-codes.txt line 3: expected"},
      {StateDir::kUploadCodes, code_ok + code_ok, "upload-codes.txt line 2: a second code for"},
      {StateDir::kUploadCodes, code_ok + "issued 86401 2\n", "upload-codes.txt line 2: expected"},
      {StateDir::kUploadCodes, "issued 86400 2\nissued 86400 1\n",
       "upload-codes.txt line 2: a second count for the day"},
      {StateDir::kCodeFailures, "+61410666666 1 0\n+61410666666 x 0\n",
       "upload-code-failures.txt line 2"},
  };
  for (const Case& c : cases) {
    const test::TempDir dir;
    WriteFileForTest(dir.File("credentials.txt"), "+61410666666 kara1234\n");
    WriteFileForTest(dir.File(c.file), c.text);
    auto imported = ImportStateDir(*conn_, fs_, dir.path(), Options());
    ASSERT_FALSE(imported.ok()) << c.file << ": " << c.text;
    EXPECT_EQ(imported.status().code(), util::StatusCode::kInvalidArgument)
        << imported.status().ToString();
    EXPECT_NE(imported.status().message().find(dir.File(c.named)), std::string::npos)
        << imported.status().ToString();
    ExpectDatabaseEmpty();
  }
}

TEST_F(PgTransferTest, AMergeKeepsTheDatabasesStaffStatusesAndCodes) {
  auto hash = HashPassword("staff-pass-1", kFastArgon2, random_);
  ASSERT_TRUE(hash.ok());
  WriteFileForTest(tmp_.File("staff.txt"), "zoe tracer " + *hash + " 0 0\n");
  WriteFileForTest(tmp_.File("contact_status.txt"), "+61410666666 reached 5 zoe first\n");
  WriteFileForTest(tmp_.File("upload-codes.txt"),
                   "+61410666666 " + std::string(64, 'b') + " 1 2\n");
  ASSERT_TRUE(ImportStateDir(*conn_, fs_, tmp_.path(), Options()).ok());

  WriteFileForTest(tmp_.File("staff.txt"),
                   "amy admin " + *hash + " 0 0\nzoe admin " + *hash + " 3 0\n");
  WriteFileForTest(tmp_.File("contact_status.txt"), "+61410666666 unreachable 9 amy second\n");
  WriteFileForTest(tmp_.File("upload-codes.txt"),
                   "+61410666666 " + std::string(64, 'c') + " 1 2\n");
  auto merged = ImportStateDir(*conn_, fs_, tmp_.path(), Options(/*merge=*/true));
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->staff, 1u);
  EXPECT_EQ(merged->skipped, 3u);
  auto zoe = conn_->Exec("read", "SELECT role, failures FROM console_staff WHERE name = 'zoe'");
  ASSERT_TRUE(zoe.ok());
  EXPECT_EQ(zoe->Get(0, 0), "tracer");
  EXPECT_EQ(zoe->Get(0, 1), "0");
  auto note = conn_->Exec("read", "SELECT note FROM contact_status");
  ASSERT_TRUE(note.ok());
  EXPECT_EQ(note->Get(0, 0), "first");
  auto digest = conn_->Exec("read", "SELECT digest FROM upload_codes");
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(digest->Get(0, 0), std::string(64, 'b'));
}

TEST_F(PgTransferTest, OriginalSamplesImportWithPlaintextPasswordsHashed) {
  test::CopyOriginalSample(tmp_.path(), "credentials.txt");
  test::CopyOriginalSample(tmp_.path(), "tempIDs.txt");
  auto imported = ImportStateDir(*conn_, fs_, tmp_.path(), Options());
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->users, 4u);
  EXPECT_EQ(imported->hashed_passwords, 4u);
  EXPECT_EQ(imported->tempids, 3u);
  auto secret = conn_->Exec("read", "SELECT secret FROM users WHERE phone = '+61410666666'");
  ASSERT_TRUE(secret.ok());
  ASSERT_EQ(secret->rows(), 1);
  auto match = VerifyPassword(secret->Get(0, 0), "kara1234");
  ASSERT_TRUE(match.ok()) << match.status().ToString();
  EXPECT_TRUE(*match);
  EXPECT_EQ(secret->Get(0, 0).substr(0, 24), "$argon2id$v=19$m=64,t=1,");

  // Exported: the TempIDs as the original wrote them but with LF line ends and a final
  // newline; the passwords as their hashes, in the file's order.
  const std::string out = tmp_.File("out");
  ASSERT_TRUE(ExportStateDir(*conn_, fs_, out, {}).ok());
  std::string tempids = ReadFileForTest(test::SourcePath("tests/data/original/tempIDs.txt"));
  std::string lf;
  for (char c : tempids) {
    if (c != '\r') lf += c;
  }
  if (lf.back() != '\n') lf += '\n';
  EXPECT_EQ(ReadFileForTest(JoinPath(out, StateDir::kTempIds)), lf);
  const std::string credentials = ReadFileForTest(JoinPath(out, StateDir::kCredentials));
  EXPECT_EQ(credentials.substr(0, 13), "+61410666666 ");
  EXPECT_EQ(credentials.find("kara1234"), std::string::npos);
}

TEST_F(PgTransferTest, BadLineStopsTheImportNamingFileAndLineAndCommitsNothing) {
  WriteFileForTest(tmp_.File("credentials.txt"), "+61410666666 kara1234\n");
  WriteFileForTest(tmp_.File("lockouts.txt"), "+61410666666 1 0\n");
  WriteFileForTest(tmp_.File("tempIDs.txt"),
                   "+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n"
                   "\n"
                   "+61410888888 1234567890123456789X 13/05/2020 17:54:06 13/05/2020 18:09:05\n");
  auto imported = ImportStateDir(*conn_, fs_, tmp_.path(), Options());
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(imported.status().message().find(tmp_.File("tempIDs.txt") + " line 3"),
            std::string::npos)
      << imported.status().ToString();
  ExpectDatabaseEmpty();

  // The same for the other files, and the connection is usable afterwards.
  WriteFileForTest(tmp_.File("tempIDs.txt"), "");
  WriteFileForTest(tmp_.File("lockouts.txt"), "+61410666666 1 0\n+61410666666 x 0\n");
  imported = ImportStateDir(*conn_, fs_, tmp_.path(), Options());
  ASSERT_FALSE(imported.ok());
  EXPECT_NE(imported.status().message().find(tmp_.File("lockouts.txt") + " line 2"),
            std::string::npos)
      << imported.status().ToString();
  ExpectDatabaseEmpty();

  WriteFileForTest(tmp_.File("lockouts.txt"), "");
  const std::string audit = tmp_.File("audit.log");
  {
    auto log = AuditLog::Open(fs_, clock_, audit, "");
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("one", {}).ok());
    ASSERT_TRUE((*log)->Append("two", {}).ok());
  }
  std::string text = ReadFileForTest(audit);
  text[text.find("two")] = 'T';  // a changed record breaks the chain at line 2
  WriteFileForTest(audit, text);
  imported = ImportStateDir(*conn_, fs_, tmp_.path(), Options());
  ASSERT_FALSE(imported.ok());
  EXPECT_NE(imported.status().message().find(audit + " line 2"), std::string::npos)
      << imported.status().ToString();
  ExpectDatabaseEmpty();
}

TEST_F(PgTransferTest, SecondImportNeedsMergeAndThenTheDatabaseWins) {
  WriteFileForTest(tmp_.File("credentials.txt"), "+61410666666 kara1234\n");
  WriteFileForTest(tmp_.File("tempIDs.txt"),
                   "+61410666666 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n");
  ASSERT_TRUE(ImportStateDir(*conn_, fs_, tmp_.path(), Options()).ok());
  auto before = conn_->Exec("read", "SELECT secret FROM users");
  ASSERT_TRUE(before.ok());
  const std::string secret(before->Get(0, 0));

  auto again = ImportStateDir(*conn_, fs_, tmp_.path(), Options());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("users, tempids"), std::string::npos)
      << again.status().ToString();

  // Merging: the user and the TempID are there already and stay as they are; a new user
  // and a new TempID come in.
  WriteFileForTest(tmp_.File("credentials.txt"),
                   "+61410666666 other-password\n+61410777777 datha457\n");
  WriteFileForTest(tmp_.File("tempIDs.txt"),
                   "+61410666666 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n"
                   "+61410777777 12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\n");
  auto merged = ImportStateDir(*conn_, fs_, tmp_.path(), Options(/*merge=*/true));
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->users, 1u);
  EXPECT_EQ(merged->tempids, 1u);
  EXPECT_EQ(merged->skipped, 2u);
  auto after = conn_->Exec("read", "SELECT secret FROM users WHERE phone = '+61410666666'");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->Get(0, 0), secret);
  EXPECT_EQ(Count("users"), 2);
  EXPECT_EQ(Count("tempids"), 2);

  // A TempID the database holds for another user is a conflict naming the line.
  WriteFileForTest(tmp_.File("tempIDs.txt"),
                   "\n+61410777777 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n");
  auto clash = ImportStateDir(*conn_, fs_, tmp_.path(), Options(true));
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("tempIDs.txt line 2: TempID 12345678901234567890"),
            std::string::npos)
      << clash.status().ToString();
  EXPECT_EQ(Count("users"), 2);
}

TEST_F(PgTransferTest, DuplicateTempIdsInTheFileKeepTheFirstAsTheServerDoes) {
  WriteFileForTest(tmp_.File("tempIDs.txt"),
                   "+61410666666 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n"
                   "+61410777777 12345678901234567890 13/05/2020 17:54:06 13/05/2020 18:09:05\n");
  auto imported = ImportStateDir(*conn_, fs_, tmp_.path(), Options());
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->tempids, 1u);
  ASSERT_EQ(imported->notes.size(), 1u);
  EXPECT_NE(imported->notes[0].find("(line 2)"), std::string::npos) << imported->notes[0];
  auto phone = conn_->Exec("read", "SELECT phone FROM tempids");
  ASSERT_TRUE(phone.ok());
  EXPECT_EQ(phone->Get(0, 0), "+61410666666");
}

TEST_F(PgTransferTest, ExportRefusesADirectoryThatIsNotEmpty) {
  WriteFileForTest(tmp_.File("something"), "x");
  auto exported = ExportStateDir(*conn_, fs_, tmp_.path(), {});
  ASSERT_FALSE(exported.ok());
  EXPECT_EQ(exported.status().code(), util::StatusCode::kFailedPrecondition);
}

TEST_F(PgTransferTest, HundredThousandTempIdsImportAndExport) {
  constexpr int kLines = 100000;
  std::string text;
  text.reserve(kLines * 80);
  for (int i = 0; i < kLines; ++i) {
    protocol::TempIdRecord r;
    r.user = i % 2 == 0 ? "+61410999999" : "+61410888888";
    char digits[21];
    std::snprintf(digits, sizeof digits, "%020d", i);
    r.id = *protocol::TempId::Parse(digits);
    r.start = 1'589'391'906 + i;
    r.expiry = r.start + 899;
    text += protocol::FormatTempIdLine(r);
    text += "\r\n";  // as the original writes
  }
  WriteFileForTest(tmp_.File("tempIDs.txt"), text);
  const auto start = std::chrono::steady_clock::now();
  auto imported = ImportStateDir(*conn_, fs_, tmp_.path(), Options());
  const auto imported_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->tempids, static_cast<std::uint64_t>(kLines));
  ExportOptions small_batches;
  small_batches.batch_rows = 7777;
  auto exported = ExportStateDir(*conn_, fs_, tmp_.File("out"), small_batches);
  const auto exported_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(exported->tempids, static_cast<std::uint64_t>(kLines));
  std::string lf;
  for (char c : text) {
    if (c != '\r') lf += c;
  }
  EXPECT_TRUE(ReadFileForTest(tmp_.File("out/tempIDs.txt")) == lf);
  using Ms = std::chrono::milliseconds;
  std::printf(
      "[ timing ] %d TempIDs: import %lld ms, export %lld ms\n", kLines,
      static_cast<long long>(std::chrono::duration_cast<Ms>(imported_at - start).count()),
      static_cast<long long>(std::chrono::duration_cast<Ms>(exported_at - imported_at).count()));
}

// Reports are imported under their names; the name is all that says who uploaded when.
TEST(ReportNameTest, ParseReportNameInvertsReportName) {
  auto parts = ParseReportName(ReportName("+61 410 888 888", 1589391906, 12));
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->uploader, "+61410888888");
  EXPECT_EQ(parts->received_at, 1589391906);
  EXPECT_EQ(parts->n, 12u);
  for (const char* bad :
       {"20200231T174506Z-61410888888-1.txt", "20200513T174506Z-61410888888-01.txt",
        "20200513T174506Z-61410888888-1.txt/..", ".x.tmp.1.2", "notes.txt"}) {
    EXPECT_EQ(ParseReportName(bad).status().code(), util::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace bluetrace::store
