#include "bluetrace/net/accept_backoff.hpp"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <cerrno>

namespace bluetrace::net {
namespace {

using namespace std::chrono_literals;
using boost::system::error_code;
using boost::system::system_category;

const std::chrono::steady_clock::time_point kStart{};

TEST(AcceptBackoffTest, OutOfDescriptorsPausesAndWarnsNamingTheListenerAndTheError) {
  AcceptBackoff backoff("127.0.0.1:4000");
  const auto d = backoff.OnError(boost::asio::error::no_descriptors, kStart);
  EXPECT_EQ(d.pause, AcceptBackoff::kPause);
  EXPECT_EQ(d.warning,
            "accept failed on 127.0.0.1:4000: Too many open files; pausing accepts for 100 ms");
  const auto system_wide =
      AcceptBackoff("x").OnError(error_code(ENFILE, system_category()), kStart);
  EXPECT_EQ(system_wide.pause, AcceptBackoff::kPause);
  EXPECT_NE(system_wide.warning.find("Too many open files in system"), std::string::npos);
}

TEST(AcceptBackoffTest, WarnsOncePerIntervalWithTheNumberOfFailuresInBetween) {
  AcceptBackoff backoff("127.0.0.1:4000");
  const error_code emfile = boost::asio::error::no_descriptors;
  EXPECT_FALSE(backoff.OnError(emfile, kStart).warning.empty());
  // A failure every pause for just under one interval: each pauses, none warns.
  int failures = 0;
  for (auto t = kStart + AcceptBackoff::kPause; t < kStart + AcceptBackoff::kWarnInterval;
       t += AcceptBackoff::kPause) {
    const auto d = backoff.OnError(emfile, t);
    EXPECT_EQ(d.pause, AcceptBackoff::kPause);
    EXPECT_TRUE(d.warning.empty()) << d.warning;
    ++failures;
  }
  EXPECT_EQ(failures, 99);
  const auto next = backoff.OnError(emfile, kStart + AcceptBackoff::kWarnInterval);
  EXPECT_EQ(next.warning,
            "accept failed on 127.0.0.1:4000: Too many open files; pausing accepts for 100 ms "
            "(99 more failed since the last warning)");
  // The count starts again after each warning.
  EXPECT_TRUE(backoff.OnError(emfile, kStart + AcceptBackoff::kWarnInterval + 1s).warning.empty());
  EXPECT_NE(backoff.OnError(emfile, kStart + 2 * AcceptBackoff::kWarnInterval)
                .warning.find("(1 more failed since the last warning)"),
            std::string::npos);
}

TEST(AcceptBackoffTest, AnErrorOfThePendingConnectionRetriesAtOnce) {
  for (int e : {ECONNABORTED, EPROTO, EHOSTUNREACH, ENETUNREACH, EPERM}) {
    AcceptBackoff backoff("l");
    const auto d = backoff.OnError(error_code(e, system_category()), kStart);
    EXPECT_EQ(d.pause.count(), 0) << e;
    EXPECT_NE(d.warning.find("accept failed on l: "), std::string::npos) << d.warning;
    EXPECT_EQ(d.warning.find("pausing"), std::string::npos) << d.warning;
  }
}

TEST(AcceptBackoffTest, AnyOtherErrorPausesSoThatItCannotSpin) {
  for (int e : {ENOBUFS, ENOMEM, EBADF, EINVAL}) {
    AcceptBackoff backoff("l");
    EXPECT_EQ(backoff.OnError(error_code(e, system_category()), kStart).pause,
              AcceptBackoff::kPause)
        << e;
  }
}

}  // namespace
}  // namespace bluetrace::net
