#include "bluetrace/store/files/file_user_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_random.hpp"
#include "support/fault_injection_fs.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using test::ReadFileForTest;
using test::WriteFileForTest;

constexpr Argon2Params kFast{.memory_kib = 8, .iterations = 1, .parallelism = 1};

// The original's sample, byte for byte: CRLF line ends, no final newline.
const char kOriginal[] =
    "+61410666666 kara1234\r\n"
    "+61410777777 datha457\r\n"
    "+61410888888 comp3331\r\n"
    "+61410999999 bada4568";

class CredentialsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteFileForTest(path_, kOriginal); }

  std::unique_ptr<FileUserStore> Open() {
    auto store = FileUserStore::Open(fs_, path_, kFast, random_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Lines of the file without their CRLF.
  std::vector<std::string> Lines() {
    std::vector<std::string> out;
    const std::string text = ReadFileForTest(path_);
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find("\r\n", pos);
      if (end == std::string::npos) end = text.size();
      out.push_back(text.substr(pos, end - pos));
      pos = end + 2;
    }
    return out;
  }

  // A store as the server and bluetrace-admin open it: changes under .lock-credentials.
  std::unique_ptr<FileUserStore> OpenShared() {
    auto store = FileUserStore::Open(fs_, path_, kFast, random_, lock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  test::TempDir dir_;
  std::string path_ = dir_.File("credentials.txt");
  // Long enough for any writer on a loaded machine; the give-up tests shorten it.
  InterProcessLock lock_{dir_.File(".lock-credentials"), std::chrono::seconds(10)};
  test::SeededRandom random_{99};
  test::FaultInjectingFileSystem fs_{PosixFileSystem::Instance()};
};

TEST_F(CredentialsStoreTest, TheCheckedInSampleIsTheOriginalBytes) {
  EXPECT_EQ(ReadFileForTest(test::SourcePath("tests/data/original/credentials.txt")), kOriginal);
}

TEST_F(CredentialsStoreTest, OriginalSampleVerifiesAllFourUsers) {
  auto store = Open();
  EXPECT_EQ(store->size(), 4u);
  EXPECT_EQ(store->plaintext_count(), 4u);
  const std::pair<const char*, const char*> users[] = {{"+61410666666", "kara1234"},
                                                       {"+61410777777", "datha457"},
                                                       {"+61410888888", "comp3331"},
                                                       {"+61410999999", "bada4568"}};
  for (const auto& [user, password] : users) {
    Status upgrade;
    auto got = store->Verify(user, password, &upgrade);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, VerifyResult::kOk) << user;
    EXPECT_TRUE(upgrade.ok()) << upgrade.ToString();
  }
  EXPECT_EQ(store->plaintext_count(), 0u);
  // Every line is now a hash, and each still verifies, also after a restart.
  for (const std::string& line : Lines()) {
    EXPECT_NE(line.find(" $argon2id$v=19$m=8,t=1,p=1$"), std::string::npos) << line;
  }
  auto reopened = Open();
  for (const auto& [user, password] : users) {
    EXPECT_EQ(*reopened->Verify(user, password), VerifyResult::kOk);
    EXPECT_EQ(*reopened->Verify(user, "kara1234x"), VerifyResult::kWrongPassword);
  }
}

TEST_F(CredentialsStoreTest, UpgradeReplacesOnlyThatLine) {
  auto store = Open();
  ASSERT_EQ(*store->Verify("+61410888888", "comp3331"), VerifyResult::kOk);
  const std::string text = ReadFileForTest(path_);
  EXPECT_EQ(text.substr(text.size() - 2), "\r\n");  // CRLF kept, final newline added
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "+61410666666 kara1234");
  EXPECT_EQ(lines[1], "+61410777777 datha457");
  EXPECT_EQ(lines[2].rfind("+61410888888 $argon2id$", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3], "+61410999999 bada4568");
  EXPECT_EQ(*store->Verify("+61410888888", "comp3331"), VerifyResult::kOk);
  EXPECT_EQ(*store->Verify("+61410888888", "kara1234"), VerifyResult::kWrongPassword);
}

TEST_F(CredentialsStoreTest, WrongPasswordAndUnknownUserChangeNothing) {
  auto store = Open();
  const int replaces = fs_.replace_calls();
  EXPECT_EQ(*store->Verify("+61410666666", "kara12345"), VerifyResult::kWrongPassword);
  EXPECT_EQ(*store->Verify("+61410666666", "kara123"), VerifyResult::kWrongPassword);
  EXPECT_EQ(*store->Verify("+61410666666", ""), VerifyResult::kWrongPassword);
  EXPECT_EQ(*store->Verify("+61410000000", "kara1234"), VerifyResult::kUnknownUser);
  EXPECT_EQ(*store->Verify("bob", "kara1234"), VerifyResult::kUnknownUser);
  EXPECT_EQ(fs_.replace_calls(), replaces);
  EXPECT_EQ(ReadFileForTest(path_), kOriginal);
}

TEST_F(CredentialsStoreTest, AcceptsEveryPhoneForm) {
  auto store = Open();
  EXPECT_EQ(*store->Verify("+61-410-777-777", "datha457"), VerifyResult::kOk);
  EXPECT_EQ(*store->Verify("+61 410 999 999", "bada4568"), VerifyResult::kOk);
  EXPECT_TRUE(store->Contains("+61-410-666-666"));
}

TEST_F(CredentialsStoreTest, AddSetRemoveAreDurable) {
  auto store = Open();
  ASSERT_TRUE(store->AddUser("+61-400-111-222", "new password").ok());
  EXPECT_EQ(store->AddUser("+61400111222", "other").code(), util::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->AddUser("not a phone", "pw").code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->AddUser("+61400111333", "").code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->size(), 5u);
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[4].rfind("+61400111222 $argon2id$", 0), 0u) << lines[4];  // never plaintext
  EXPECT_EQ(*fs_.FileMode(path_), 0600u);

  ASSERT_TRUE(store->SetPassword("+61410666666", "changed!").ok());
  EXPECT_EQ(store->SetPassword("+61400999999", "x").code(), util::StatusCode::kNotFound);
  ASSERT_TRUE(store->RemoveUser("+61410777777").ok());
  EXPECT_EQ(store->RemoveUser("+61410777777").code(), util::StatusCode::kNotFound);

  auto reopened = Open();
  EXPECT_EQ(reopened->size(), 4u);
  EXPECT_FALSE(reopened->Contains("+61410777777"));
  EXPECT_EQ(*reopened->Verify("+61400111222", "new password"), VerifyResult::kOk);
  EXPECT_EQ(*reopened->Verify("+61410666666", "kara1234"), VerifyResult::kWrongPassword);
  EXPECT_EQ(*reopened->Verify("+61410666666", "changed!"), VerifyResult::kOk);
  EXPECT_EQ(*reopened->Verify("+61410777777", "datha457"), VerifyResult::kUnknownUser);
  const auto after = Lines();
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after[1], "+61410888888 comp3331");  // order kept
  EXPECT_EQ(after[2], "+61410999999 bada4568");
}

TEST_F(CredentialsStoreTest, MissingFileIsAnEmptyStoreCreatedByTheFirstAdd) {
  const std::string path = dir_.File("fresh.txt");
  auto store = FileUserStore::Open(fs_, path, kFast, random_);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->size(), 0u);
  EXPECT_EQ(*(*store)->Verify("+61410666666", "kara1234"), VerifyResult::kUnknownUser);
  EXPECT_FALSE(*fs_.Exists(path));
  ASSERT_TRUE((*store)->AddUser("+61410666666", "kara1234").ok());
  const std::string text = ReadFileForTest(path);
  EXPECT_EQ(text.rfind("+61410666666 $argon2id$", 0), 0u);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST_F(CredentialsStoreTest, MalformedFileIsAnErrorNamingFileAndLine) {
  WriteFileForTest(path_, "+61410666666 kara1234\n\n+61410777777\n");
  auto store = FileUserStore::Open(fs_, path_, kFast, random_);
  ASSERT_FALSE(store.ok());
  const std::string msg = store.status().message();
  EXPECT_NE(msg.find(path_), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 3"), std::string::npos) << msg;
}

// Encodings that login refuses (a hash under 16 bytes; 95 GiB of memory) are refused when
// the file loads, naming the file and the line, not accepted and then answered "internal
// error" at every login of that user.
TEST_F(CredentialsStoreTest, AnEncodingLoginWouldRefuseIsRefusedWhenTheFileLoads) {
  const std::string refused[] = {
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
      "$argon2id$v=19$m=99999999,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
  };
  for (const std::string& secret : refused) {
    const std::string text = "+61410666666 kara1234\n+61410777777 " + secret + "\n";
    WriteFileForTest(path_, text);
    auto store = FileUserStore::Open(fs_, path_, kFast, random_);
    ASSERT_FALSE(store.ok()) << secret;
    EXPECT_EQ(store.status().code(), util::StatusCode::kInvalidArgument);
    const std::string msg = store.status().message();
    EXPECT_NE(msg.find(path_ + " line 2: "), std::string::npos) << msg;

    // A running server's Reload refuses the same file and keeps what it had.
    WriteFileForTest(path_, kOriginal);
    auto server = Open();
    WriteFileForTest(path_, text);
    const util::Status reload = server->Reload();
    EXPECT_NE(reload.message().find(path_ + " line 2: "), std::string::npos) << reload.message();
    EXPECT_EQ(*server->Verify("+61410777777", "datha457"), VerifyResult::kOk);
  }
}

TEST_F(CredentialsStoreTest, MigrateAllHashesEverythingInOneRewrite) {
  auto store = Open();
  const int replaces = fs_.replace_calls();
  auto migrated = store->MigrateAll();
  ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
  EXPECT_EQ(*migrated, 4u);
  EXPECT_EQ(fs_.replace_calls(), replaces + 1);
  EXPECT_EQ(store->plaintext_count(), 0u);
  for (const std::string& line : Lines()) EXPECT_NE(line.find("$argon2id$"), std::string::npos);
  EXPECT_EQ(*store->Verify("+61410999999", "bada4568"), VerifyResult::kOk);
  EXPECT_EQ(*store->MigrateAll(), 0u);
  EXPECT_EQ(fs_.replace_calls(), replaces + 1);  // nothing left to do: no write
}

// Runs `edit` once, at the `at`-th salt drawn: a change made by someone else while the
// store hashes.
class EditWhileHashing final : public util::Random {
 public:
  EditWhileHashing(util::Random& base, int at, std::function<void()> edit)
      : base_(base), at_(at), edit_(std::move(edit)) {}
  Status Fill(std::span<std::uint8_t> out) override {
    if (++calls_ == at_) edit_();
    return base_.Fill(out);
  }

 private:
  util::Random& base_;
  int at_;
  int calls_ = 0;
  std::function<void()> edit_;
};

TEST_F(CredentialsStoreTest, MigrateAllHashesAgainALineChangedWhileItHashed) {
  // Open draws one salt for the dummy hash; the 3rd draw is during the migration.
  EditWhileHashing random(random_, 3, [&] {
    std::string text = ReadFileForTest(path_);
    text.replace(text.find("kara1234"), 8, "edited99");
    WriteFileForTest(path_, text);
  });
  auto opened = FileUserStore::Open(fs_, path_, kFast, random, lock_);
  ASSERT_TRUE(opened.ok());
  auto migrated = (*opened)->MigrateAll();
  ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
  EXPECT_EQ(*migrated, 4u);
  auto fresh = Open();
  EXPECT_EQ(fresh->plaintext_count(), 0u);
  EXPECT_EQ(*fresh->Verify("+61410666666", "edited99"), VerifyResult::kOk);
  EXPECT_EQ(*fresh->Verify("+61410666666", "kara1234"), VerifyResult::kWrongPassword);
  EXPECT_EQ(*fresh->Verify("+61410999999", "bada4568"), VerifyResult::kOk);
}

TEST_F(CredentialsStoreTest, ReloadSeesChangesOfAnotherProcess) {
  auto server = Open();
  auto admin = Open();
  ASSERT_TRUE(admin->AddUser("+61400111222", "registered").ok());
  ASSERT_TRUE(admin->RemoveUser("+61410666666").ok());
  EXPECT_FALSE(server->Contains("+61400111222"));
  ASSERT_TRUE(server->Reload().ok());
  EXPECT_TRUE(server->Contains("+61400111222"));
  EXPECT_FALSE(server->Contains("+61410666666"));
  WriteFileForTest(path_, "garbage\n");
  EXPECT_FALSE(server->Reload().ok());
  EXPECT_TRUE(server->Contains("+61400111222"));  // kept its previous contents
}

TEST_F(CredentialsStoreTest, ChangesFromTwoProcessesBothLand) {
  auto server = OpenShared();
  auto admin = OpenShared();
  ASSERT_TRUE(admin->AddUser("+61400111222", "admin's user").ok());
  ASSERT_TRUE(admin->RemoveUser("+61410999999").ok());
  // The server has not reloaded; its own change must not undo the admin's.
  ASSERT_TRUE(server->AddUser("+61400333444", "registered").ok());
  auto fresh = Open();
  EXPECT_TRUE(fresh->Contains("+61400111222"));
  EXPECT_TRUE(fresh->Contains("+61400333444"));
  EXPECT_FALSE(fresh->Contains("+61410999999"));
  EXPECT_EQ(fresh->size(), 5u);
  // And the server's change saw the admin's: adding the admin's user again is refused.
  EXPECT_EQ(server->AddUser("+61400111222", "registered").code(), util::StatusCode::kAlreadyExists);
}

TEST_F(CredentialsStoreTest, TwoWritersOfOneFileLoseNoUser) {
  auto first = OpenShared();
  auto second = OpenShared();
  const auto add = [](FileUserStore& store, const char* prefix) {
    for (int i = 0; i < 15; ++i) {
      ASSERT_TRUE(store.AddUser(prefix + std::to_string(10 + i), "password1").ok());
    }
  };
  std::thread a([&] { add(*first, "+614000000"); });
  std::thread b([&] { add(*second, "+614000001"); });
  a.join();
  b.join();
  auto fresh = Open();
  EXPECT_EQ(fresh->size(), 4u + 30u);
  EXPECT_TRUE(fresh->Contains("+61400000024"));
  EXPECT_TRUE(fresh->Contains("+61400000124"));
  EXPECT_EQ(fresh->plaintext_count(), 4u);  // the original lines are untouched
}

TEST_F(CredentialsStoreTest, UpgradeNeverWritesBackAPasswordTheAdminChanged) {
  auto server = OpenShared();
  auto admin = OpenShared();
  ASSERT_TRUE(admin->SetPassword("+61410888888", "new secret").ok());
  ASSERT_TRUE(admin->AddUser("+61400111222", "admin's user").ok());
  // The server still holds the old plaintext line; the login verifies against it (until
  // the reload), but the upgrade re-reads the file and leaves the admin's line alone.
  Status upgrade;
  EXPECT_EQ(*server->Verify("+61410888888", "comp3331", &upgrade), VerifyResult::kOk);
  EXPECT_TRUE(upgrade.ok()) << upgrade.ToString();
  // An upgrade of another user keeps both admin changes.
  EXPECT_EQ(*server->Verify("+61410666666", "kara1234", &upgrade), VerifyResult::kOk);
  ASSERT_TRUE(upgrade.ok()) << upgrade.ToString();
  auto fresh = Open();
  EXPECT_EQ(*fresh->Verify("+61410888888", "new secret"), VerifyResult::kOk);
  EXPECT_EQ(*fresh->Verify("+61410888888", "comp3331"), VerifyResult::kWrongPassword);
  EXPECT_TRUE(fresh->Contains("+61400111222"));
  EXPECT_EQ(fresh->plaintext_count(), 2u);  // 777777 and 999999
}

TEST_F(CredentialsStoreTest, ChangesGiveUpWhenAnotherProcessHoldsTheLockTooLong) {
  lock_.timeout = std::chrono::milliseconds(200);
  auto store = OpenShared();
  auto held = fs_.LockFile(lock_.path, false);
  ASSERT_TRUE(held.ok());
  const Status add = store->AddUser("+61400111222", "password1");
  EXPECT_EQ(add.code(), util::StatusCode::kUnavailable) << add.ToString();
  EXPECT_NE(add.message().find(".lock-credentials"), std::string::npos);
  EXPECT_FALSE(store->Contains("+61400111222"));
  // A login still succeeds; only its upgrade waits for a later login.
  Status upgrade;
  EXPECT_EQ(*store->Verify("+61410666666", "kara1234", &upgrade), VerifyResult::kOk);
  EXPECT_EQ(upgrade.code(), util::StatusCode::kUnavailable);
  EXPECT_EQ(ReadFileForTest(path_), kOriginal);
  held->reset();
  ASSERT_TRUE(store->AddUser("+61400111222", "password1").ok());
  EXPECT_EQ(*store->MigrateAll(), 4u);
}

TEST_F(CredentialsStoreTest, ConcurrentVerifiesAgreeAndUpgradeEachLineOnce) {
  // SeededRandom is not thread-safe; the upgrades draw salts from several threads.
  auto opened = FileUserStore::Open(fs_, path_, kFast, util::OpenSslRandom::Instance());
  ASSERT_TRUE(opened.ok());
  auto& store = *opened;
  const int replaces = fs_.replace_calls();
  const std::pair<const char*, const char*> users[] = {{"+61410666666", "kara1234"},
                                                       {"+61410777777", "datha457"},
                                                       {"+61410888888", "comp3331"},
                                                       {"+61410999999", "bada4568"}};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        const auto& [user, password] = users[(t + i) % 4];
        auto ok = store->Verify(user, password);
        ASSERT_TRUE(ok.ok());
        EXPECT_EQ(*ok, VerifyResult::kOk);
        EXPECT_EQ(*store->Verify(user, "wrong"), VerifyResult::kWrongPassword);
        EXPECT_EQ(*store->Verify("+61400000001", password), VerifyResult::kUnknownUser);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(fs_.replace_calls(), replaces + 4);
  EXPECT_EQ(store->plaintext_count(), 0u);
  EXPECT_EQ(Open()->plaintext_count(), 0u);
}

TEST_F(CredentialsStoreTest, FailedSyncDuringAddLeavesUserOutAndFileIntact) {
  auto store = Open();
  fs_.FailSync();
  const Status st = store->AddUser("+61400111222", "password1");
  EXPECT_EQ(st.code(), util::StatusCode::kIoError);
  EXPECT_NE(st.message().find(path_), std::string::npos) << st.ToString();
  EXPECT_FALSE(store->Contains("+61400111222"));
  EXPECT_EQ(store->size(), 4u);
  EXPECT_EQ(ReadFileForTest(path_), kOriginal);
  ASSERT_TRUE(store->AddUser("+61400111222", "password1").ok());  // works once the disk does
  EXPECT_TRUE(Open()->Contains("+61400111222"));
}

TEST_F(CredentialsStoreTest, EveryFaultKindKeepsThePreviousState) {
  auto store = Open();
  fs_.SetDiskFull(true);
  EXPECT_NE(store->SetPassword("+61410666666", "newpass1").message().find("No space left"),
            std::string::npos);
  fs_.SetDiskFull(false);
  fs_.FailRename();
  EXPECT_FALSE(store->RemoveUser("+61410777777").ok());
  fs_.FailSync();
  EXPECT_FALSE(store->MigrateAll().ok());
  EXPECT_EQ(ReadFileForTest(path_), kOriginal);
  EXPECT_EQ(store->plaintext_count(), 4u);
  EXPECT_EQ(*store->Verify("+61410666666", "kara1234"), VerifyResult::kOk);  // upgraded now
  EXPECT_TRUE(store->Contains("+61410777777"));
  EXPECT_EQ(store->plaintext_count(), 3u);
}

TEST_F(CredentialsStoreTest, FailedUpgradeStillLogsIn) {
  auto store = Open();
  fs_.FailSync();
  Status upgrade;
  auto got = store->Verify("+61410666666", "kara1234", &upgrade);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, VerifyResult::kOk);
  EXPECT_FALSE(upgrade.ok());
  EXPECT_NE(upgrade.message().find("+61410666666"), std::string::npos) << upgrade.ToString();
  EXPECT_EQ(upgrade.message().find("kara1234"), std::string::npos);  // never the password
  EXPECT_EQ(ReadFileForTest(path_), kOriginal);
  EXPECT_EQ(store->plaintext_count(), 4u);
  // The next login tries again and succeeds.
  EXPECT_EQ(*store->Verify("+61410666666", "kara1234", &upgrade), VerifyResult::kOk);
  EXPECT_TRUE(upgrade.ok());
  EXPECT_EQ(store->plaintext_count(), 3u);
}

}  // namespace
}  // namespace bluetrace::store
