// The UDP beacon endpoint on 127.0.0.1: valid beacons arrive, everything else is counted
// and dropped without disturbing what follows. Every wait is bounded.
#include "bluetrace/net/beacon_endpoint.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bluetrace/util/thread_annotations.hpp"
#include "support/server_process.hpp"

namespace bluetrace::net {
namespace {

using util::StatusCode;

protocol::Beacon SampleBeacon() {
  return protocol::Beacon{*protocol::TempId::Parse("12345678901234567890"),
                          *protocol::ParseTimestamp("13/05/2020 17:45:06"),
                          *protocol::ParseTimestamp("13/05/2020 18:00:05"),
                          protocol::kBeaconVersion};
}

class BeaconEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = BeaconEndpoint::Open({"127.0.0.1", 0, protocol::TimeZoneMode::kUtc},
                                  [this](const protocol::Beacon& b) {
                                    util::MutexLock lock(mu_);
                                    got_.push_back(b);
                                  });
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    endpoint_ = std::move(*e);
    ASSERT_NE(endpoint_->port(), 0);
  }

  std::size_t count() {
    util::MutexLock lock(mu_);
    return got_.size();
  }
  std::vector<protocol::Beacon> got() {
    util::MutexLock lock(mu_);
    return got_;
  }
  util::Status SendToEndpoint(std::string_view bytes) {
    return BeaconEndpoint::Send("127.0.0.1", endpoint_->port(), bytes);
  }

  util::Mutex mu_;
  std::vector<protocol::Beacon> got_ GUARDED_BY(mu_);
  std::unique_ptr<BeaconEndpoint> endpoint_;
};

TEST_F(BeaconEndpointTest, AValidBeaconArrives) {
  ASSERT_TRUE(SendToEndpoint(protocol::EncodeBeacon(SampleBeacon())).ok());
  ASSERT_TRUE(test::WaitFor([&] { return count() == 1; }));
  EXPECT_EQ(got()[0], SampleBeacon());
  EXPECT_EQ(endpoint_->received(), 1u);
  EXPECT_EQ(endpoint_->dropped(), 0u);
}

TEST_F(BeaconEndpointTest, AFloodOfMalformedDatagramsIsCountedAndDropped) {
  const std::string valid = protocol::EncodeBeacon(SampleBeacon());
  std::string bad_digit = valid;
  bad_digit[3] = 'x';
  std::string bad_date = valid;
  bad_date[20] = '3';  // day 33
  std::string bad_version = valid;
  bad_version[58] = '7';
  const std::vector<std::string> kinds = {
      "",        "x",      valid.substr(0, 58), valid + "1",
      bad_digit, bad_date, bad_version,         std::string(59, '\0')};
  constexpr std::uint64_t kTotal = 10'000;
  constexpr std::uint64_t kBatch = 100;  // paced, so the kernel buffer never overflows
  for (std::uint64_t sent = 0; sent < kTotal;) {
    for (std::uint64_t i = 0; i < kBatch; ++i, ++sent) {
      ASSERT_TRUE(SendToEndpoint(kinds[sent % kinds.size()]).ok());
    }
    ASSERT_TRUE(test::WaitFor([&] { return endpoint_->dropped() >= sent; }))
        << endpoint_->dropped() << " of " << sent;
  }
  EXPECT_EQ(endpoint_->dropped(), kTotal);
  EXPECT_EQ(count(), 0u);
  ASSERT_TRUE(SendToEndpoint(valid).ok());
  ASSERT_TRUE(test::WaitFor([&] { return count() == 1; }));
  EXPECT_EQ(got()[0], SampleBeacon());
}

TEST_F(BeaconEndpointTest, OversizedDatagramsAreDropped) {
  const std::string valid = protocol::EncodeBeacon(SampleBeacon());
  // A valid beacon followed by junk must not pass once the buffer truncates it.
  ASSERT_TRUE(SendToEndpoint(valid + std::string(600, 'x')).ok());
  ASSERT_TRUE(SendToEndpoint(std::string(BeaconEndpoint::kDatagramBufferBytes, '1')).ok());
  ASSERT_TRUE(SendToEndpoint(std::string(60000, '1')).ok());
  ASSERT_TRUE(test::WaitFor([&] { return endpoint_->dropped() == 3; }));
  ASSERT_TRUE(SendToEndpoint(valid).ok());
  ASSERT_TRUE(test::WaitFor([&] { return count() == 1; }));
  EXPECT_EQ(endpoint_->dropped(), 3u);
}

TEST_F(BeaconEndpointTest, TheLastDropSaysWhyAndFromWhere) {
  EXPECT_EQ(endpoint_->last_drop(), "");
  const std::string from = "from 127.0.0.1:";
  ASSERT_TRUE(SendToEndpoint("not a beacon").ok());
  ASSERT_TRUE(test::WaitFor([&] { return endpoint_->dropped() == 1; }));
  EXPECT_EQ(endpoint_->last_drop().find("a 12-byte datagram " + from), 0u)
      << endpoint_->last_drop();
  EXPECT_NE(endpoint_->last_drop().find("(a beacon is 59 bytes)"), std::string::npos);

  ASSERT_TRUE(SendToEndpoint(std::string(600, '1')).ok());
  ASSERT_TRUE(test::WaitFor([&] { return endpoint_->dropped() == 2; }));
  EXPECT_EQ(endpoint_->last_drop().find("a datagram of 512 bytes or more " + from), 0u)
      << endpoint_->last_drop();

  std::string bad_start = protocol::EncodeBeacon(SampleBeacon());
  bad_start[20] = '3';  // day 33
  ASSERT_TRUE(SendToEndpoint(bad_start).ok());
  ASSERT_TRUE(test::WaitFor([&] { return endpoint_->dropped() == 3; }));
  EXPECT_EQ(endpoint_->last_drop().find("a malformed beacon " + from), 0u)
      << endpoint_->last_drop();
  EXPECT_NE(endpoint_->last_drop().find(": beacon start: day 33 does not exist"), std::string::npos)
      << endpoint_->last_drop();
}

TEST_F(BeaconEndpointTest, SendChecksItsArguments) {
  EXPECT_EQ(BeaconEndpoint::Send("localhost", 4000, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BeaconEndpoint::Send("300.1.1.1", 4000, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BeaconEndpoint::Send("127.0.0.1", 0, "x").code(), StatusCode::kInvalidArgument);
}

TEST_F(BeaconEndpointTest, APortInUseIsAClearError) {
  auto second = BeaconEndpoint::Open({"127.0.0.1", endpoint_->port()}, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_NE(second.status().message().find("127.0.0.1:" + std::to_string(endpoint_->port())),
            std::string::npos)
      << second.status().message();
  EXPECT_EQ(BeaconEndpoint::Open({"not-an-ip", 0}, nullptr).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(BeaconEndpointTest, NothingIsHandledAfterStop) {
  endpoint_->Stop();
  endpoint_->Stop();  // idempotent
  ASSERT_TRUE(SendToEndpoint(protocol::EncodeBeacon(SampleBeacon())).ok());
  EXPECT_FALSE(test::WaitFor([&] { return count() != 0; }, std::chrono::milliseconds(200)));
}

TEST(BeaconEndpointIpv6Test, WorksOnTheIpv6Loopback) {
  std::vector<protocol::Beacon> got;
  util::Mutex mu;
  auto e = BeaconEndpoint::Open({"::1", 0}, [&](const protocol::Beacon& b) {
    util::MutexLock lock(mu);
    got.push_back(b);
  });
  if (!e.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << e.status().ToString();
  ASSERT_TRUE(
      BeaconEndpoint::Send("::1", (*e)->port(), protocol::EncodeBeacon(SampleBeacon())).ok());
  EXPECT_TRUE(test::WaitFor([&] {
    util::MutexLock lock(mu);
    return got.size() == 1;
  }));
}

}  // namespace
}  // namespace bluetrace::net
