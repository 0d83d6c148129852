// DeregistrationService against the file backend: an account removed by someone else
// between the password check and the removal (the same user on another connection, or
// bluetrace-admin user remove) is a withdrawal done, not an internal error whose message
// (naming the phone number) would be logged beside the client's address.
#include <gtest/gtest.h>

#include <future>

#include "bluetrace/service/account_removal.hpp"
#include "bluetrace/store/files/file_backend.hpp"
#include "bluetrace/util/clock.hpp"
#include "support/fake_random.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

constexpr char kUser[] = "+61410888888";  // tests/data/original/credentials.txt
constexpr char kPassword[] = "comp3331";

// Forwards to the real store; once the password is checked, the account goes, as if
// another connection had removed it in that moment.
class RemovedWhileVerifying : public store::UserStore {
 public:
  explicit RemovedWhileVerifying(std::unique_ptr<store::UserStore> inner)
      : inner_(std::move(inner)) {}
  util::Result<store::VerifyResult> Verify(std::string_view user, std::string_view password,
                                           util::Status* upgrade_status) override {
    auto r = inner_->Verify(user, password, upgrade_status);
    EXPECT_TRUE(inner_->RemoveUser(user).ok());
    return r;
  }
  util::Status AddUser(std::string_view u, std::string_view p) override {
    return inner_->AddUser(u, p);
  }
  util::Status SetPassword(std::string_view u, std::string_view p) override {
    return inner_->SetPassword(u, p);
  }
  util::Status RemoveUser(std::string_view u) override { return inner_->RemoveUser(u); }
  util::Status Reload() override { return inner_->Reload(); }
  bool Contains(std::string_view u) const override { return inner_->Contains(u); }
  std::size_t size() const override { return inner_->size(); }

 private:
  std::unique_ptr<store::UserStore> inner_;
};

TEST(DeregistrationServiceTest, AnAccountRemovedMeanwhileIsAWithdrawalDone) {
  test::TempDir dir;
  test::CopyOriginalSample(dir.path(), "credentials.txt");
  util::ManualClock clock(1'600'000'000);
  test::SeededRandom random(3);
  store::FileBackendOptions options;
  options.state_dir = dir.path();
  options.argon2 = {8, 1, 1};
  auto stores = store::OpenFileBackend(store::PosixFileSystem::Instance(), clock, random, options);
  ASSERT_TRUE(stores.ok()) << stores.status().ToString();
  stores->users = std::make_unique<RemovedWhileVerifying>(std::move(stores->users));

  WorkerPool pool(1, 4);
  DeregistrationService service(*stores, pool);
  std::promise<DeregisterOutcome> outcome;
  service.Deregister(kUser, util::SecretString(kPassword),
                     [&](DeregisterOutcome o) { outcome.set_value(std::move(o)); });
  const DeregisterOutcome o = outcome.get_future().get();
  EXPECT_EQ(o.status, DeregisterStatus::kRemoved) << o.error.ToString();
  EXPECT_FALSE(stores->users->Contains(kUser));
}

}  // namespace
}  // namespace bluetrace::service
