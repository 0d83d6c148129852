#include "bluetrace/net/descriptor_budget.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace bluetrace::net {
namespace {

using util::StatusCode;

TEST(DescriptorBudgetTest, AFittingMaxConnectionsIsKept) {
  auto fitted = FitMaxConnections(1024, 65536, 100);
  ASSERT_TRUE(fitted.ok()) << fitted.status().ToString();
  EXPECT_EQ(*fitted, 1024u);
  EXPECT_EQ(*FitMaxConnections(924, 1024, 100), 924u);  // exactly fits
}

TEST(DescriptorBudgetTest, AnOversizedMaxConnectionsIsLoweredToTheRoomLeft) {
  EXPECT_EQ(*FitMaxConnections(1024, 1024, 100), 924u);
  EXPECT_EQ(*FitMaxConnections(1024, 150, 71), 79u);
  EXPECT_EQ(*FitMaxConnections(1024, 101, 100), 1u);
}

TEST(DescriptorBudgetTest, ALimitWithNoRoomForConnectionsIsRefusedNamingBothNumbers) {
  auto fitted = FitMaxConnections(1024, 64, 100);
  ASSERT_FALSE(fitted.ok());
  EXPECT_EQ(fitted.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(fitted.status().message().find("open-file limit of 64 descriptors"), std::string::npos)
      << fitted.status().message();
  EXPECT_NE(fitted.status().message().find("the 100 the server reserves"), std::string::npos)
      << fitted.status().message();
  EXPECT_FALSE(FitMaxConnections(1, 100, 100).ok());
}

TEST(DescriptorBudgetTest, TheReserveGrowsWithTheThreadsThatWriteAndTheOpsListener) {
  service::ServerConfig config;
  const std::uint64_t base = ReservedDescriptors(config);
  // The defaults leave most of systemd's default soft limit of 1,024 to connections.
  EXPECT_LT(base, 100u);
  config.io_threads += 1;
  EXPECT_GT(ReservedDescriptors(config), base);
  const std::uint64_t more_io = ReservedDescriptors(config);
  config.argon2_workers += 1;
  EXPECT_GT(ReservedDescriptors(config), more_io);
  const std::uint64_t more_workers = ReservedDescriptors(config);
  config.metrics_address = "127.0.0.1:9464";
  // At least its listener and its 16 connections.
  EXPECT_GE(ReservedDescriptors(config), more_workers + 17);
}

TEST(DescriptorBudgetTest, RaiseOpenFileLimitLiftsTheSoftLimitToTheHardOne) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 256) {
    GTEST_SKIP() << "hard limit too low to test: " << saved.rlim_max;
  }
  rlimit lowered = saved;
  lowered.rlim_cur = 200;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  auto raised = RaiseOpenFileLimit();
  rlimit now{};
  getrlimit(RLIMIT_NOFILE, &now);
  setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(raised.ok()) << raised.status().ToString();
  EXPECT_TRUE(raised->raise_error.ok()) << raised->raise_error.ToString();
  EXPECT_EQ(raised->soft_before, 200u);
  const std::uint64_t expected =
      saved.rlim_max == RLIM_INFINITY ? kMaxOpenFiles : std::uint64_t{saved.rlim_max};
  EXPECT_EQ(raised->soft, expected);
  EXPECT_EQ(std::uint64_t{now.rlim_cur}, expected);
}

}  // namespace
}  // namespace bluetrace::net
