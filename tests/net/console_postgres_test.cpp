// Two console instances on one PostgreSQL database, as two bluetrace-server instances
// behind one load balancer serve it: each its own ConsoleServer (real TLS on 127.0.0.1,
// port 0), ConsoleService and pool of connections, sharing only the database. A session
// made on one is a session on the other, a change made on one shows on the other, and a
// logout on one ends the session on both. A real PostgreSQL (tests/support/postgres_server).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/console_server.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/store/password_hash.hpp"
#include "bluetrace/store/postgres/pg_audit_trail.hpp"
#include "bluetrace/store/postgres/pg_contact_status_store.hpp"
#include "bluetrace/store/postgres/pg_report_store.hpp"
#include "bluetrace/store/postgres/pg_staff_store.hpp"
#include "bluetrace/store/postgres/pg_upload_code_store.hpp"
#include "support/console_client.hpp"
#include "support/fake_random.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"
#include "support/test_certificate.hpp"

namespace bluetrace::net {
namespace {

namespace http = boost::beast::http;

constexpr store::Argon2Params kFast{.memory_kib = 8, .iterations = 1, .parallelism = 1};
constexpr char kPassword[] = "a long password";

// One server instance's console: its own pool, stores, service and listener.
struct ConsoleInstance {
  std::unique_ptr<store::StaffStore> staff;
  std::unique_ptr<store::ContactStatusStore> statuses;
  std::unique_ptr<store::ReportStore> reports;
  std::unique_ptr<store::AuditTrail> audit;
  std::unique_ptr<store::UploadCodeStore> codes;
  std::unique_ptr<service::ConsoleService> service;
  std::unique_ptr<ConsoleRouter> router;
  std::unique_ptr<ConsoleServer> server;

  std::uint16_t port() const { return server->port(); }
};

class ConsolePostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::FreshPgDatabase::Create();
    ASSERT_NE(db_, nullptr);
    auto tls = test::MakeTestServerTls(tmp_.File("c.crt"), tmp_.File("c.key"));
    ASSERT_NE(tls, nullptr);
    for (ConsoleInstance* instance : {&a_, &b_}) {
      store::PgPool* pool = db_->NewPool();
      ASSERT_NE(pool, nullptr);
      instance->staff = store::PgStaffStore::Open(*pool);
      instance->statuses = store::PgContactStatusStore::Open(*pool);
      instance->reports = store::PgReportStore::Open(*pool);
      instance->audit = store::PgAuditTrail::Open(*pool, clock_);
      instance->codes = store::PgUploadCodeStore::Open(*pool);
      service::ConsoleOptions options;
      options.argon2 = kFast;
      options.idle_timeout_seconds = 600;
      options.absolute_timeout_seconds = 3600;
      instance->service = std::make_unique<service::ConsoleService>(
          service::ConsoleStores{*instance->staff, *instance->statuses, *instance->reports,
                                 *instance->audit, *instance->codes},
          nullptr, clock_, random_, options);
      instance->router = std::make_unique<ConsoleRouter>(*instance->service, random_);
      instance->server =
          std::make_unique<ConsoleServer>(ConsoleServerOptions{}, tls, *instance->router);
      auto listener = Listener::Open("127.0.0.1", 0);
      ASSERT_TRUE(listener.ok());
      ASSERT_TRUE(instance->server->Start(std::move(*listener)).ok());
    }
    auto hash = store::HashPassword(kPassword, kFast, random_);
    ASSERT_TRUE(hash.ok());
    ASSERT_TRUE(a_.staff->Add({"ana", store::StaffRole::kTracer, *hash}).ok());
    // A report naming a contact, so that the contacts page lists it.
    ASSERT_TRUE(a_.reports
                    ->Write("+61410000001", 1'599'999'000,
                            "# bluetrace contact check report\nuploader: +61410000001\n"
                            "received: 13/09/2020 12:10:00 UTC\nentries: 1\nmatched: 1\n"
                            "mismatched: 0\nunknown: 0\n\n[matched]\n# c\n+61410000009 "
                            "13/09/2020 11:45:06 12345678901234567890\n\n[mismatched]\n\n"
                            "[unknown]\n")
                    .ok());
  }

  void TearDown() override {
    // The servers first: their pages read the stores, which go before the pools.
    for (ConsoleInstance* instance : {&a_, &b_}) {
      if (instance->server) instance->server->Stop();
    }
  }

  test::TempDir tmp_;
  util::ManualClock clock_{1'600'000'000};
  test::SeededRandom random_{13};
  std::unique_ptr<test::FreshPgDatabase> db_;  // outlives the instances' stores
  ConsoleInstance a_;
  ConsoleInstance b_;
};

TEST_F(ConsolePostgresTest, OneSessionServesBothInstancesUntilLogoutOnEither) {
  const test::ConsoleLogin login = test::ConsoleLogIn(a_.port(), "ana", kPassword);
  ASSERT_EQ(login.cookie.size(), 11u + 64u);
  ASSERT_EQ(login.csrf.size(), 64u);

  // The cookie made on A opens B's pages.
  test::ConsoleReply on_b =
      test::ConsoleSend(b_.port(), http::verb::get, "/contacts", login.cookie);
  ASSERT_EQ(on_b.status, 200) << on_b.location;
  EXPECT_NE(on_b.body.find("+61410000009"), std::string::npos);
  EXPECT_EQ(test::FormField(on_b.body, "csrf"), login.csrf);  // one session, one token

  // A status set on B (with the session's token) shows on A.
  test::ConsoleReply set = test::ConsoleSend(
      b_.port(), http::verb::post, "/contacts/status", login.cookie,
      "csrf=" + login.csrf + "&phone=%2B61410000009&status=reached&note=called+from+B");
  ASSERT_EQ(set.status, 303) << set.body;
  test::ConsoleReply on_a =
      test::ConsoleSend(a_.port(), http::verb::get, "/contacts", login.cookie);
  ASSERT_EQ(on_a.status, 200);
  EXPECT_NE(on_a.body.find("called from B"), std::string::npos) << on_a.body;
  test::ConsoleReply csv =
      test::ConsoleSend(a_.port(), http::verb::get, "/contacts.csv", login.cookie);
  EXPECT_NE(csv.body.find("called from B"), std::string::npos) << csv.body;

  // Logout on A ends the session on B too.
  test::ConsoleReply out =
      test::ConsoleSend(a_.port(), http::verb::post, "/logout", login.cookie, "csrf=" + login.csrf);
  ASSERT_EQ(out.status, 303);
  test::ConsoleReply replay =
      test::ConsoleSend(b_.port(), http::verb::get, "/contacts", login.cookie);
  EXPECT_EQ(replay.status, 303);
  EXPECT_EQ(replay.location, "/login");
  EXPECT_EQ(test::ConsoleSend(b_.port(), http::verb::post, "/contacts/status", login.cookie,
                              "csrf=" + login.csrf + "&phone=%2B61410000009&status=unreachable")
                .status,
            403);
  auto statuses = b_.statuses->List();
  ASSERT_TRUE(statuses.ok());
  ASSERT_EQ(statuses->size(), 1u);
  EXPECT_EQ((*statuses)[0].status, store::ContactStatus::kReached);
  EXPECT_EQ((*statuses)[0].updated_by, "ana");
}

}  // namespace
}  // namespace bluetrace::net
