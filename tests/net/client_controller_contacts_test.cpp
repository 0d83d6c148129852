// ClientController's contacts through the real ReportingService behind the real TLS
// server (client_controller_fixture.hpp): beacons between two clients (valid, invalid,
// malformed), the contact log they fill, its retention, and its upload with the server's
// contact check.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bluetrace/net/beacon_endpoint.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/util/thread_annotations.hpp"
#include "client_controller_fixture.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

using protocol::FormatTimestamp;
using test::ClientControllerTest;
using test::kDatha;
using test::kKara;
using util::StatusCode;

// Collects what a controller hands to its BeaconSink (from its receiving thread).
class SinkCollector {
 public:
  BeaconSink Sink() {
    return [this](const std::vector<std::string>& lines) {
      util::MutexLock lock(mu_);
      got_.push_back(lines);
    };
  }
  std::size_t count() {
    util::MutexLock lock(mu_);
    return got_.size();
  }
  std::vector<std::string> Last() {
    util::MutexLock lock(mu_);
    return got_.empty() ? std::vector<std::string>() : got_.back();
  }
  bool WaitForCount(std::size_t n) {
    return test::WaitFor([&] { return count() >= n; });
  }

 private:
  util::Mutex mu_;
  std::vector<std::vector<std::string>> got_ GUARDED_BY(mu_);
};

TEST_F(ClientControllerTest, ABeaconBetweenTwoClientsIsPrintedAndStored) {
  SinkCollector got;
  auto a = Client(Options("a"), kKara, "kara1234");
  auto b = Client(Options("b"));
  b->SetBeaconSink(got.Sink());
  // No TempID yet: the beacon fetches one first.
  auto sent = a->SendBeacon("127.0.0.1", b->udp_port());
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_NE(h_.console.Text().find("TempID:\n" + sent->id.ToString()), std::string::npos);
  ASSERT_TRUE(got.WaitForCount(1));
  const std::int64_t now = h_.clock().NowUnixSeconds();
  const std::vector<std::string> expected = {"received beacon:",
                                             sent->id.ToString() + ",",
                                             FormatTimestamp(sent->start) + ",",
                                             FormatTimestamp(sent->expiry) + ".",
                                             "Current time is:",
                                             FormatTimestamp(now) + ".",
                                             "The beacon is valid."};
  EXPECT_EQ(got.Last(), expected);
  // Stored before the sink was called, in the original's format.
  const std::string line = sent->id.ToString() + " " + FormatTimestamp(sent->start) + " " +
                           FormatTimestamp(sent->expiry) + "\n";
  EXPECT_EQ(ContactLog("b"), line);

  // The same TempID again: printed again, stored once.
  auto again = a->SendBeacon("127.0.0.1", b->udp_port());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, sent->id);
  ASSERT_TRUE(got.WaitForCount(2));
  EXPECT_EQ(ContactLog("b"), line);
  EXPECT_EQ(b->dropped_datagrams(), 0u);
}

TEST_F(ClientControllerTest, MalformedDatagramsAreDroppedAndCounted) {
  SinkCollector got;
  auto a = Client(Options("a"), kKara, "kara1234");
  auto b = Client(Options("b"));
  b->SetBeaconSink(got.Sink());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(net::BeaconEndpoint::Send("127.0.0.1", b->udp_port(),
                                          std::string(static_cast<std::size_t>(59 + i % 3), '9'))
                    .ok());
  }
  ASSERT_TRUE(test::WaitFor([&] { return b->dropped_datagrams() == 100; }));
  ASSERT_TRUE(a->SendBeacon("127.0.0.1", b->udp_port()).ok());
  ASSERT_TRUE(got.WaitForCount(1));  // nothing was shown for the malformed ones
  EXPECT_EQ(got.count(), 1u);
  EXPECT_EQ(got.Last().back(), "The beacon is valid.");
}

TEST_F(ClientControllerTest, ABeaconOutsideItsValidityIsInvalidAndNotStored) {
  SinkCollector got;
  auto a = Client(Options("a"), kKara, "kara1234");
  util::ManualClock later(h_.clock().NowUnixSeconds() + 900);  // just past the expiry
  auto b = Client(Options("b"), "", "", &later);
  b->SetBeaconSink(got.Sink());
  auto sent = a->SendBeacon("127.0.0.1", b->udp_port());
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  ASSERT_TRUE(got.WaitForCount(1));
  const auto lines = got.Last();
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[5], FormatTimestamp(later.NowUnixSeconds()) + ".");
  EXPECT_EQ(lines[6], "The beacon is invalid.");
  EXPECT_EQ(ContactLog("b"), "");
}

TEST_F(ClientControllerTest, AnExpiredTempIdIsNeverBeaconed) {
  auto a = Client(Options("a"), kKara, "kara1234");
  auto t = a->DownloadTempId();
  ASSERT_TRUE(t.ok());
  auto b = Client(Options("b"));
  auto first = a->SendBeacon("127.0.0.1", b->udp_port());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->id, t->id);  // well inside its lifetime: the current one
  h_.clock().AdvanceSeconds(900);
  auto second = a->SendBeacon("127.0.0.1", b->udp_port());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->id, t->id);
  EXPECT_LE(second->start, h_.clock().NowUnixSeconds());
  EXPECT_GE(second->expiry, h_.clock().NowUnixSeconds());
}

TEST_F(ClientControllerTest, BeaconArgumentsAreChecked) {
  auto a = Client(Options("a"), kKara, "kara1234");
  EXPECT_EQ(a->SendBeacon("localhost", 4000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a->SendBeacon("127.0.0.1", 0).status().code(), StatusCode::kInvalidArgument);
  auto b = Client(Options("b"));
  EXPECT_EQ(b->SendBeacon("127.0.0.1", a->udp_port()).status().code(),
            StatusCode::kFailedPrecondition);  // no login, no TempID
}

TEST_F(ClientControllerTest, UploadAfterRealBeaconsIsCheckedByTheServer) {
  SinkCollector got;
  auto a = Client(Options("a"), kKara, "kara1234");
  auto b = Client(Options("b"), kDatha, "datha457");
  b->SetBeaconSink(got.Sink());
  auto sent = a->SendBeacon("127.0.0.1", b->udp_port());
  ASSERT_TRUE(sent.ok());
  ASSERT_TRUE(got.WaitForCount(1));
  auto up = b->UploadContactLog();
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->received, 1u);
  ASSERT_EQ(up->entries.size(), 1u);
  EXPECT_EQ(up->entries[0], (protocol::ContactLogEntry{sent->id, sent->start, sent->expiry}));
  const std::string console = h_.console.Text();
  EXPECT_NE(console.find(std::string("received contact log from ") + kDatha), std::string::npos);
  EXPECT_NE(console.find("Contact log checking\n" + std::string(kKara) + ",\n" +
                         FormatTimestamp(sent->start) + ",\n" + sent->id.ToString() + ";\n"),
            std::string::npos)
      << console;
}

TEST_F(ClientControllerTest, AnUploadSpanningManyFramesArrivesWhole) {
  // A contact log left by an earlier run, larger than one frame of a small-frame server.
  std::string log;
  for (int i = 0; i < 300; ++i) {
    char id[21];
    std::snprintf(id, sizeof id, "%020d", i);
    log += std::string(id) + " 13/05/2020 17:45:06 13/05/2020 18:00:05\r\n";
  }
  h_.config.max_frame_bytes = 512;
  StartServer();
  ASSERT_TRUE(store::PosixFileSystem::Instance().CreateDirs(h_.dir.File("b")).ok());
  test::WriteFileForTest(h_.dir.File("b/contactlog.txt"), log);
  auto b = Client(Options("b"), kDatha, "datha457");
  auto up = b->UploadContactLog();
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->received, 300u);
  EXPECT_EQ(up->entries.size(), 300u);
}

TEST_F(ClientControllerTest, EntriesAreRemovedRetentionAfterReceipt) {
  SinkCollector got;
  ClientOptions ob = Options("b");
  ob.contact_retention_seconds = 180;  // the original's 3 minutes
  auto a = Client(Options("a"), kKara, "kara1234");
  auto b = Client(ob, kDatha, "datha457");
  b->SetBeaconSink(got.Sink());
  ASSERT_TRUE(a->SendBeacon("127.0.0.1", b->udp_port()).ok());
  ASSERT_TRUE(got.WaitForCount(1));
  h_.clock().AdvanceSeconds(179);
  auto up = b->UploadContactLog();  // prunes first
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->entries.size(), 1u);
  h_.clock().AdvanceSeconds(1);
  // The background thread prunes without being asked.
  EXPECT_TRUE(test::WaitFor([&] { return ContactLog("b").empty(); }));
  up = b->UploadContactLog();
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->entries.size(), 0u);
  EXPECT_EQ(up->received, 0u);
}

}  // namespace
}  // namespace bluetrace::service
