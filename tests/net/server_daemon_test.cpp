// ServerDaemon on simulated time: a ManualClock moves, nothing sleeps. The service and the
// stores are real (a temporary state directory); the net::Server is never started, since
// a reload only hands it a new TLS context.
#include "bluetrace/net/server_daemon.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "service/service_harness.hpp"

namespace bluetrace::net {
namespace {

using test::Call;
using test::LoginMsg;

class ServerDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.UseOriginal("credentials.txt");
    ASSERT_TRUE(h_.Open().ok());
    auto cert = EnsureServerCertificate(fs_, h_.dir.path(), "", "", {}, h_.clock());
    ASSERT_TRUE(cert.ok()) << cert.status().ToString();
    cert_ = *cert;
    auto tls = MakeServerContext(
        TlsServerOptions{cert_.certificate_file, cert_.private_key_file, h_.config.tls_min_version},
        fs_);
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    server_ = std::make_unique<Server>(ServerOptionsFromConfig(h_.config), *tls, *h_.service);
    reread_ = h_.config;
    daemon_ = std::make_unique<ServerDaemon>(
        ServerDaemonParts{*server_, *h_.service, fs_, h_.clock(), validity_, cert_,
                          [this]() -> util::Result<service::ServerConfig> { return reread_; }},
        h_.config);
  }

  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  // The reply to a login on a new session, after its Hello.
  service::SessionReply LogIn(const std::string& user, const std::string& password) {
    auto session = h_.NewSession();
    EXPECT_TRUE(test::IsOnly<protocol::HelloOk>(Call(*session, protocol::Hello{1, 1, "test"})));
    return Call(*session, LoginMsg(user, password));
  }

  test::ServiceHarness h_;
  store::FileSystem& fs_ = store::PosixFileSystem::Instance();
  CertificateValidityWatch validity_{h_.clock()};
  ServerCertificate cert_;
  std::unique_ptr<Server> server_;
  util::Result<service::ServerConfig> reread_ = service::ServerConfig{};  // what SIGHUP reads
  std::unique_ptr<ServerDaemon> daemon_;
};

TEST_F(ServerDaemonTest, CompactionRunsHourlyAndNotBefore) {
  EXPECT_FALSE(daemon_->RunDueWork().compacted);
  h_.clock().AdvanceSeconds(3599);
  EXPECT_FALSE(daemon_->RunDueWork().compacted);
  h_.clock().AdvanceSeconds(1);
  EXPECT_TRUE(daemon_->RunDueWork().compacted);
  EXPECT_FALSE(daemon_->RunDueWork().compacted);  // the next one is an hour later
  h_.clock().AdvanceSeconds(3599);
  EXPECT_FALSE(daemon_->RunDueWork().compacted);
  h_.clock().AdvanceSeconds(1);
  EXPECT_TRUE(daemon_->RunDueWork().compacted);
}

// audit.retention runs with the hourly maintenance, beside the report retention.
class ServerDaemonAuditRetentionTest : public ServerDaemonTest {
 protected:
  void SetUp() override {
    h_.config.audit_retention_seconds = 2 * 86400;
    ServerDaemonTest::SetUp();
  }
};

TEST_F(ServerDaemonAuditRetentionTest, OldAuditRecordsArePrunedHourlyBehindAnAnchor) {
  const std::string path = store::JoinPath(h_.dir.path(), "audit.log");
  EXPECT_TRUE(test::IsOnly<protocol::Welcome>(LogIn("+61410888888", "comp3331")));
  auto records = store::AuditLog::Verify(fs_, path);
  ASSERT_TRUE(records.ok());
  const std::uint64_t old_records = records->records;
  ASSERT_GT(old_records, 0u);
  h_.clock().AdvanceSeconds(3 * 86400 - 3600);
  EXPECT_TRUE(test::IsOnly<protocol::Welcome>(LogIn("+61410888888", "comp3331")));
  h_.clock().AdvanceSeconds(3600);
  ASSERT_TRUE(daemon_->RunDueWork().compacted);
  auto after = store::AuditLog::Verify(fs_, path);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->ok()) << after->problem;
  EXPECT_TRUE(after->anchored);
  EXPECT_EQ(after->chain_from, old_records + 1);
  const std::string text = fs_.ReadFile(path).value();
  // The cutoff is the start of the UTC day of now - retention (rewritten at most daily).
  const std::int64_t cutoff = (h_.clock().NowUnixSeconds() - 2 * 86400) / 86400 * 86400;
  const std::string anchor = " audit_pruned before=" + std::to_string(cutoff) +
                             " records=" + std::to_string(old_records) + " ";
  EXPECT_LT(text.find(anchor), text.find('\n')) << text;  // on line 1
}

TEST_F(ServerDaemonTest, AChangedUserFileIsReloadedOnTheNextPoll) {
  EXPECT_FALSE(daemon_->RunDueWork().users_reloaded);  // nothing changed yet
  const std::string credentials = store::JoinPath(h_.dir.path(), "credentials.txt");
  auto text = fs_.ReadFile(credentials);
  ASSERT_TRUE(text.ok());
  // As bluetrace-admin writes it: a new file renamed over the old one.
  if (!text->empty() && text->back() != '\n') *text += '\n';  // the original ends without one
  ASSERT_TRUE(fs_.ReplaceFileAtomically(credentials, *text + "+61410123456 newpass9\n").ok());
  // Not known before the poll (an unknown user is told "wrong password", as a known one).
  EXPECT_TRUE(test::IsOnly<protocol::WrongPassword>(LogIn("+61410123456", "newpass9")));

  EXPECT_TRUE(daemon_->RunDueWork().users_reloaded);
  EXPECT_FALSE(daemon_->RunDueWork().users_reloaded);  // once per change
  EXPECT_TRUE(test::IsOnly<protocol::Welcome>(LogIn("+61410123456", "newpass9")));
}

TEST_F(ServerDaemonTest, ARewriteOfTheSameSizeIsSeenByItsInode) {
  const std::string lockouts = store::JoinPath(h_.dir.path(), "lockouts.txt");
  ASSERT_TRUE(fs_.ReplaceFileAtomically(lockouts, "").ok());
  EXPECT_TRUE(daemon_->RunDueWork().users_reloaded);
  ASSERT_TRUE(fs_.ReplaceFileAtomically(lockouts, "").ok());  // same size, same mtime tick
  EXPECT_TRUE(daemon_->RunDueWork().users_reloaded);
}

TEST_F(ServerDaemonTest, HangupAppliesLiveKeysAndNamesTheOthers) {
  spdlog::set_level(spdlog::level::info);
  reread_->log_level = "debug";
  reread_->max_connections = 10;
  reread_->tempid_rate.burst = 3;
  const ReloadReport report = daemon_->Reload();
  EXPECT_TRUE(report.certificate.ok()) << report.certificate.ToString();
  EXPECT_TRUE(report.users.ok()) << report.users.ToString();
  EXPECT_TRUE(report.config.ok());
  EXPECT_EQ(report.applied, std::vector<std::string>{"server.log_level"});
  EXPECT_EQ(report.needs_restart,
            (std::vector<std::string>{"limits.max_connections", "limits.tempids_burst"}));
  EXPECT_EQ(daemon_->config().log_level, "debug");
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  EXPECT_EQ(daemon_->config().max_connections, h_.config.max_connections);  // not applied

  // The same file again: nothing left to report.
  const ReloadReport second = daemon_->Reload();
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.needs_restart.size(), 2u);  // still differs from what runs
}

TEST_F(ServerDaemonTest, HangupWithABadConfigurationKeepsTheRunningOne) {
  reread_ = util::InvalidArgument("server.toml: line 3: expected a value");
  const ReloadReport report = daemon_->Reload();
  EXPECT_FALSE(report.config.ok());
  EXPECT_TRUE(report.applied.empty());
  EXPECT_EQ(daemon_->config().log_level, h_.config.log_level);
}

TEST_F(ServerDaemonTest, HangupWithABadCertificateKeepsTheCurrentOne) {
  ASSERT_TRUE(fs_.ReplaceFileAtomically(cert_.certificate_file, "not a certificate\n", 0644).ok());
  const ReloadReport report = daemon_->Reload();
  EXPECT_FALSE(report.certificate.ok());
  EXPECT_TRUE(report.users.ok());  // the rest of the reload still happens
  EXPECT_TRUE(report.config.ok());
}

}  // namespace
}  // namespace bluetrace::net
