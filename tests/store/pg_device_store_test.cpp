// PgDeviceStore beyond the shared contract: only the digest reaches the database, and
// instances issuing for one user at once never leave more than kMaxDevicesPerUser.
#include "bluetrace/store/postgres/pg_device_store.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "bluetrace/util/digest.hpp"
#include "support/fake_random.hpp"
#include "support/postgres_server.hpp"

namespace bluetrace::store {
namespace {

class PgDeviceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::FreshPgDatabase::Create();
    ASSERT_TRUE(db_);
  }

  // Another server instance: its own pool and store.
  std::unique_ptr<PgDeviceStore> OpenInstance() {
    PgPool* pool = db_->NewPool();
    if (pool == nullptr) return nullptr;
    return PgDeviceStore::Open(*pool, clock_);
  }

  std::unique_ptr<test::FreshPgDatabase> db_;
  util::ManualClock clock_{1'600'000'000};
};

TEST_F(PgDeviceStoreTest, OnlyTheTokensDigestIsStored) {
  auto devices = OpenInstance();
  ASSERT_TRUE(devices);
  test::SeededRandom random(5);
  auto token = devices->Issue("+61410000001", random);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto rows =
      db_->conn().Exec("read", "SELECT phone, device_id, encode(token_digest, 'hex') FROM devices");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows(), 1);
  const std::string digest = util::Sha256Hex(*token);
  EXPECT_EQ(rows->Get(0, 1), digest.substr(0, 16));
  EXPECT_EQ(rows->Get(0, 2), digest);
  EXPECT_EQ(devices->Find("+61410000001", *token), digest.substr(0, 16));
  EXPECT_EQ(devices->Issue("", random).status().code(), util::StatusCode::kInvalidArgument);
}

TEST_F(PgDeviceStoreTest, InstancesIssuingAtOnceKeepTheLimit) {
  auto a = OpenInstance();
  auto b = OpenInstance();
  ASSERT_TRUE(a && b);
  auto issue = [](PgDeviceStore* store, std::uint64_t seed) {
    test::SeededRandom random(seed);
    for (int i = 0; i < 30; ++i) EXPECT_TRUE(store->Issue("+61410000001", random).ok());
  };
  std::thread ta(issue, a.get(), 1);
  std::thread tb(issue, b.get(), 2);
  ta.join();
  tb.join();
  EXPECT_EQ(a->size(), DeviceStore::kMaxDevicesPerUser);
}

}  // namespace
}  // namespace bluetrace::store
