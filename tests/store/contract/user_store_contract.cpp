// The UserStore contract (store/user_store.hpp), for every backend.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "backend_harness.hpp"

namespace bluetrace::test {
namespace {

using store::VerifyResult;

TEST_P(UserStoreContract, AnAddedUserLogsInWithItsPasswordOnly) {
  auto users = backend().OpenUsers();
  ASSERT_TRUE(users->AddUser("+61410000001", "first secret").ok());
  EXPECT_EQ(*users->Verify("+61410000001", "first secret"), VerifyResult::kOk);
  EXPECT_EQ(*users->Verify("+61 410 000 001", "first secret"), VerifyResult::kOk);  // any form
  EXPECT_EQ(*users->Verify("+61410000001", "first secreT"), VerifyResult::kWrongPassword);
  EXPECT_EQ(*users->Verify("+61410000002", "first secret"), VerifyResult::kUnknownUser);
  EXPECT_EQ(*users->Verify("not a phone", "first secret"), VerifyResult::kUnknownUser);
  EXPECT_TRUE(users->Contains("+61-410-000-001"));
  EXPECT_EQ(users->size(), 1u);
}

TEST_P(UserStoreContract, ANumberIsRegisteredOnceWhateverItsForm) {
  auto users = backend().OpenUsers();
  ASSERT_TRUE(users->AddUser("+61410000001", "first secret").ok());
  EXPECT_EQ(users->AddUser("+61 410 000 001", "other secret").code(),
            util::StatusCode::kAlreadyExists);
  EXPECT_EQ(users->AddUser("0410000001", "other secret").code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(*users->Verify("+61410000001", "first secret"), VerifyResult::kOk);
}

TEST_P(UserStoreContract, TwoHandlesRacingToRegisterOneNumberHaveOneWinner) {
  auto a = backend().OpenUsers();
  auto b = backend().OpenUsers();
  constexpr int kPerHandle = 4;
  std::atomic<int> ok{0};
  std::atomic<int> taken{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2 * kPerHandle; ++i) {
    store::UserStore* handle = i % 2 == 0 ? a.get() : b.get();
    threads.emplace_back([handle, i, &ok, &taken, &other] {
      util::Status st = handle->AddUser("+61410000009", "password " + std::to_string(i));
      if (st.ok()) {
        ++ok;
      } else if (st.code() == util::StatusCode::kAlreadyExists) {
        ++taken;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(taken.load(), 2 * kPerHandle - 1);
  EXPECT_EQ(other.load(), 0);

  auto fresh = backend().OpenUsers();
  EXPECT_EQ(fresh->size(), 1u);
  int verified = 0;
  for (int i = 0; i < 2 * kPerHandle; ++i) {
    if (*fresh->Verify("+61410000009", "password " + std::to_string(i)) == VerifyResult::kOk) {
      ++verified;
    }
  }
  EXPECT_EQ(verified, 1);  // exactly the winner's password
}

TEST_P(UserStoreContract, ChangesAreDurableAndSeenByOtherHandles) {
  auto a = backend().OpenUsers();
  auto b = backend().OpenUsers();
  ASSERT_TRUE(a->AddUser("+61410000001", "first secret").ok());
  ASSERT_TRUE(a->AddUser("+61410000002", "second secret").ok());
  ASSERT_TRUE(b->Reload().ok());
  EXPECT_TRUE(b->Contains("+61410000001"));
  EXPECT_EQ(*b->Verify("+61410000002", "second secret"), VerifyResult::kOk);

  ASSERT_TRUE(b->SetPassword("+61410000001", "changed secret").ok());
  ASSERT_TRUE(b->RemoveUser("+61410000002").ok());
  a.reset();
  b.reset();
  auto c = backend().OpenUsers();  // as after a restart
  EXPECT_EQ(*c->Verify("+61410000001", "changed secret"), VerifyResult::kOk);
  EXPECT_EQ(*c->Verify("+61410000001", "first secret"), VerifyResult::kWrongPassword);
  EXPECT_FALSE(c->Contains("+61410000002"));
  EXPECT_EQ(c->size(), 1u);
}

TEST_P(UserStoreContract, ChangingAnAbsentUserIsNotFound) {
  auto users = backend().OpenUsers();
  EXPECT_EQ(users->SetPassword("+61410000001", "some secret").code(), util::StatusCode::kNotFound);
  EXPECT_EQ(users->RemoveUser("+61410000001").code(), util::StatusCode::kNotFound);
  EXPECT_EQ(users->size(), 0u);
}

}  // namespace
}  // namespace bluetrace::test
