// The contracts of ReportStore, DeviceStore and AuditTrail (store/report_store.hpp,
// device_store.hpp, audit_trail.hpp), for every backend.
#include <string>
#include <vector>

#include "backend_harness.hpp"

namespace bluetrace::test {
namespace {

TEST_P(ReportStoreContract, AReportIsStoredWholeAndListedByEveryHandle) {
  auto writer = backend().OpenReports();
  auto reader = backend().OpenReports();
  const std::int64_t now = backend().clock().NowUnixSeconds();
  auto first = writer->Write("+61410000001", now, "report one\n");
  auto second = writer->Write("+61410000001", now, "report two\n");  // the same second
  auto later = writer->Write("+61410000002", now + 1, "report three\n");
  ASSERT_TRUE(first.ok() && second.ok() && later.ok());
  EXPECT_NE(*first, *second);
  EXPECT_TRUE(store::IsReportName(*first));
  EXPECT_TRUE(store::IsReportName(*later));

  auto names = reader->List();
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 3u);
  EXPECT_EQ(names->back(), *later);  // oldest first
  EXPECT_EQ(*reader->Read(*second), "report two\n");
}

TEST_P(ReportStoreContract, OnlyReportNamesAreRead) {
  auto reports = backend().OpenReports();
  EXPECT_EQ(reports->Read("../credentials.txt").status().code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(reports->Read(store::ReportName("+61410000001", 0, 1)).status().code(),
            util::StatusCode::kNotFound);
  EXPECT_FALSE(store::IsReportName("20200513T174506Z-61410888888-1.txt/.."));
  EXPECT_TRUE(store::IsReportName(store::ReportName("+61 410 888 888", 1589391906, 12)));
}

TEST_P(DeviceStoreContract, ATokenIsValidForItsUserOnly) {
  auto devices = backend().OpenDevices();
  auto token = devices->Issue("+61410000001", backend().random());
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->size(), 2 * store::DeviceStore::kTokenBytes);
  auto id = devices->Find("+61410000001", *token);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->size(), 16u);
  EXPECT_FALSE(devices->Find("+61410000002", *token).has_value());
  EXPECT_FALSE(devices->Find("+61410000001", "").has_value());
  EXPECT_FALSE(devices->Find("+61410000001", std::string(64, 'z')).has_value());
  auto reopened = backend().OpenDevices();  // durable
  EXPECT_EQ(reopened->Find("+61410000001", *token), id);
}

TEST_P(DeviceStoreContract, AUserKeepsAtMostTheNewestTokens) {
  auto devices = backend().OpenDevices();
  std::vector<std::string> tokens;
  for (std::size_t i = 0; i <= store::DeviceStore::kMaxDevicesPerUser; ++i) {
    auto t = devices->Issue("+61410000001", backend().random());
    ASSERT_TRUE(t.ok());
    tokens.push_back(*t);
  }
  EXPECT_FALSE(devices->Find("+61410000001", tokens.front()).has_value());  // retired
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    EXPECT_TRUE(devices->Find("+61410000001", tokens[i]).has_value()) << i;
  }
  EXPECT_EQ(devices->size(), store::DeviceStore::kMaxDevicesPerUser);
}

TEST_P(AuditTrailContract, RecordsOfEveryHandleFormOneChain) {
  auto server = backend().OpenAudit();
  auto admin = backend().OpenAudit();
  ASSERT_TRUE(server->healthy());
  ASSERT_TRUE(server->Record("login_ok", {{"user", "+61410000001"}, {"peer", "127.0.0.1"}}).ok());
  ASSERT_TRUE(admin->Record("admin_unblock", {{"user", "+61410000002"}}).ok());
  ASSERT_TRUE(server->Record("contact_check", {{"user", "+61410000001"}, {"entries", "2"}}).ok());
  const std::vector<std::string> expected = {"login_ok user=+61410000001 peer=127.0.0.1",
                                             "admin_unblock user=+61410000002",
                                             "contact_check user=+61410000001 entries=2"};
  EXPECT_EQ(backend().AuditRecords(), expected);
}

TEST_P(AuditTrailContract, ValuesCannotForgeFieldsOrRecords) {
  auto audit = backend().OpenAudit();
  ASSERT_TRUE(audit->Record("login_failed", {{"user", "x peer=1.2.3.4\nlogin_ok user=y"}}).ok());
  const std::vector<std::string> expected = {"login_failed user=x peer=1.2.3.4\nlogin_ok user=y"};
  EXPECT_EQ(backend().AuditRecords(), expected);  // one record, its value intact
}

// audit.retention: the oldest records go, one anchor record takes their place, and the kept
// records (and those written after) still verify as one chain (AuditRecords checks it).
TEST_P(AuditTrailContract, APruneDropsTheOldestRecordsBehindAnAnchor) {
  auto server = backend().OpenAudit();
  auto admin = backend().OpenAudit();
  const std::int64_t t0 = backend().clock().NowUnixSeconds();
  ASSERT_TRUE(server->Record("login_ok", {{"user", "+61410000001"}}).ok());
  ASSERT_TRUE(server->Record("upload", {{"user", "+61410000001"}}).ok());
  backend().clock().AdvanceSeconds(10 * 86400);
  ASSERT_TRUE(server->Record("contact_check", {{"user", "+61410000001"}}).ok());

  auto none = admin->Prune(t0, {});  // nothing before t0
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->records_dropped, 0u);
  EXPECT_EQ(backend().AuditRecords().size(), 3u);

  auto pruned = admin->Prune(t0 + 86400, {{"by", "ana"}});
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(pruned->records_dropped, 2u);
  EXPECT_EQ(pruned->anchor_seq, 2u);
  const std::string anchor =
      "audit_pruned before=" + std::to_string(t0 + 86400) + " records=2 by=ana";
  EXPECT_EQ(backend().AuditRecords(),
            (std::vector<std::string>{anchor, "contact_check user=+61410000001"}));

  // Every handle's records continue the chain; a second prune replaces the anchor.
  ASSERT_TRUE(server->Record("login_ok", {{"user", "+61410000002"}}).ok());
  ASSERT_TRUE(admin->Record("admin_unblock", {{"user", "+61410000002"}}).ok());
  EXPECT_EQ(backend().AuditRecords().size(), 4u);
  backend().clock().AdvanceSeconds(86400);
  pruned = server->Prune(backend().clock().NowUnixSeconds() - 3600, {});
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(pruned->records_dropped, 3u);
  EXPECT_EQ(pruned->anchor_seq, 5u);
  ASSERT_TRUE(server->Record("login_ok", {{"user", "+61410000003"}}).ok());
  const std::vector<std::string> expected = {
      "audit_pruned before=" + std::to_string(backend().clock().NowUnixSeconds() - 3600) +
          " records=3",
      "login_ok user=+61410000003"};
  EXPECT_EQ(backend().AuditRecords(), expected);
}

TEST_P(AuditTrailContract, OnlyAPruneWritesAnAnchor) {
  auto audit = backend().OpenAudit();
  EXPECT_EQ(audit->Record("audit_pruned", {{"before", "1"}, {"records", "9"}}).code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      audit->Prune(backend().clock().NowUnixSeconds() - 86400, {{"Bad key", "x"}}).status().code(),
      util::StatusCode::kInvalidArgument);
  EXPECT_TRUE(backend().AuditRecords().empty());
}

}  // namespace
}  // namespace bluetrace::test
