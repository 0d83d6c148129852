#include "bluetrace/service/metrics.hpp"

#include <gtest/gtest.h>

#include "service_harness.hpp"
#include "support/prometheus_text.hpp"

namespace bluetrace::service {
namespace {

using test::ParsePrometheusText;

TEST(MetricsTest, RendersEveryCounterAsValidPrometheusText) {
  test::ServiceHarness h;
  ASSERT_TRUE(h.Open().ok());
  TransportMetrics t;
  t.connections_open = 3;
  t.connections_accepted = 10;
  t.refused_total_limit = 1;
  t.refused_address_limit = 2;
  t.refused_rate = 4;
  t.tls_handshakes_failed = 5;
  store::InstrumentedFileSystem fs(store::PosixFileSystem::Instance());
  ASSERT_TRUE(fs.ReplaceFileAtomically(h.dir.File("x"), "x").ok());

  const std::string text = RenderMetrics(*h.service, t, &fs);
  auto parsed = ParsePrometheusText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << text;
  const auto& m = *parsed;
  auto at = [&m](const std::string& key) {
    auto it = m.find(key);
    EXPECT_NE(it, m.end()) << key;
    return it == m.end() ? -1.0 : it->second;
  };
  EXPECT_EQ(at("bluetrace_connections_open"), 3);
  EXPECT_EQ(at("bluetrace_connections_accepted_total"), 10);
  EXPECT_EQ(at("bluetrace_connections_refused_total"), 7);
  EXPECT_EQ(at("bluetrace_tls_handshakes_failed_total"), 5);
  EXPECT_EQ(at("bluetrace_rate_limited_total{limit=\"connections_total\"}"), 1);
  EXPECT_EQ(at("bluetrace_rate_limited_total{limit=\"connections_per_address\"}"), 2);
  EXPECT_EQ(at("bluetrace_rate_limited_total{limit=\"connection_rate\"}"), 4);
  EXPECT_EQ(at("bluetrace_rate_limited_total{limit=\"login_rate\"}"), 0);
  EXPECT_EQ(at("bluetrace_rate_limited_total{limit=\"tempid_rate\"}"), 0);
  for (const char* result : {"ok", "failed", "blocked", "busy"}) {
    EXPECT_EQ(at(std::string("bluetrace_logins_total{result=\"") + result + "\"}"), 0);
  }
  for (const char* result : {"matched", "unknown", "mismatched"}) {
    EXPECT_EQ(at(std::string("bluetrace_upload_entries_total{result=\"") + result + "\"}"), 0);
  }
  EXPECT_EQ(at("bluetrace_tempids_issued_total"), 0);
  EXPECT_EQ(at("bluetrace_registrations_total"), 0);
  EXPECT_EQ(at("bluetrace_argon2_queue_depth"), 0);
  EXPECT_EQ(at("bluetrace_argon2_queue_wait_seconds_count"), 0);
  EXPECT_EQ(at("bluetrace_argon2_queue_wait_seconds_bucket{le=\"+Inf\"}"), 0);
  EXPECT_EQ(at("bluetrace_store_healthy"), 1);
  EXPECT_EQ(at("bluetrace_store_fsync_seconds_count{op=\"replace\"}"), 1);
  EXPECT_EQ(at("bluetrace_store_fsync_seconds_bucket{op=\"replace\",le=\"+Inf\"}"), 1);
  EXPECT_EQ(at("bluetrace_store_fsync_seconds_count{op=\"sync\"}"), 0);
  EXPECT_GT(at("bluetrace_store_fsync_seconds_sum{op=\"replace\"}"), 0);
  EXPECT_NE(text.find("# TYPE bluetrace_store_fsync_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("bluetrace_store_fsync_seconds_bucket{op=\"sync\",le=\"0.0001\"} 0\n"),
            std::string::npos);
}

TEST(MetricsTest, WithoutAnInstrumentedFileSystemTheFsyncHistogramIsLeftOut) {
  test::ServiceHarness h;
  ASSERT_TRUE(h.Open().ok());
  const std::string text = RenderMetrics(*h.service, TransportMetrics{}, nullptr);
  EXPECT_TRUE(ParsePrometheusText(text).ok()) << text;
  EXPECT_EQ(text.find("bluetrace_store_fsync_seconds"), std::string::npos);
  EXPECT_NE(text.find("bluetrace_tempid_store_syncs_total 0\n"), std::string::npos);
}

}  // namespace
}  // namespace bluetrace::service
