// ClientController against the real ReportingService behind the real TLS server, in one
// process on 127.0.0.1: server identity (CA and trust on first use), login outcomes,
// TempIDs, beacons between two clients, upload and the server's contact check, retention,
// and a server that goes away. Every wait is bounded; simulated time moves a ManualClock
// shared by the server and the clients.
#include "bluetrace/net/client_controller.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "bluetrace/net/beacon_endpoint.hpp"
#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/net/server.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/util/thread_annotations.hpp"
#include "service/service_harness.hpp"
#include "support/server_process.hpp"

namespace bluetrace::service {
namespace {

using net::MakeClientController;

using namespace std::chrono_literals;
using protocol::FormatTimestamp;
using util::StatusCode;

constexpr char kKara[] = "+61410666666";
constexpr char kDatha[] = "+61410777777";

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

class ClientControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.UseOriginal("credentials.txt");
    h_.UseOriginal("tempIDs.txt");
    auto cert = net::GenerateSelfSigned({});
    ASSERT_TRUE(cert.ok());
    fingerprint_ = *net::CertificateFingerprintSha256(cert->certificate_pem);
    ASSERT_TRUE(net::WriteCertificateFiles(store::PosixFileSystem::Instance(), Cert(),
                                           h_.dir.File("server.key"), *cert)
                    .ok());
    StartServer();
  }

  void StartServer() {
    if (server_) server_->Stop(2s);
    server_.reset();
    ASSERT_TRUE(h_.Open().ok());
    auto tls = net::MakeServerContext({Cert(), h_.dir.File("server.key"), "1.3"},
                                      store::PosixFileSystem::Instance());
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    net::ServerOptions o = net::ServerOptionsFromConfig(h_.config);
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.idle_timeout = idle_timeout_;
    server_ = std::make_unique<net::Server>(o, *tls, *h_.service);
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    if (server_) server_->Stop(2s);
    server_.reset();
    h_.service.reset();
  }

  std::string Cert() const { return h_.dir.File("server.crt"); }

  ClientOptions Options(const std::string& name) const {
    ClientOptions o;
    o.server_host = "127.0.0.1";
    o.server_port = server_->port();
    o.udp_bind_address = "127.0.0.1";
    o.udp_port = 0;
    o.data_dir = h_.dir.File(name);
    o.ca_file = Cert();
    o.known_servers_file = h_.dir.File("state/bluetrace/known_servers");
    o.timeout_seconds = 5;
    return o;
  }

  // A controller connected (CA mode) and, when `user` is set, logged in.
  std::unique_ptr<ClientController> Client(const ClientOptions& o, const std::string& user = "",
                                           const std::string& password = "",
                                           util::Clock* clock = nullptr) {
    auto c = MakeClientController(o, clock != nullptr ? *clock : h_.clock());
    auto id = c->Connect(nullptr);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!user.empty()) {
      auto r = c->Login(user, util::SecretString(password));
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (r.ok()) {
        EXPECT_EQ(r->status, ClientLoginStatus::kWelcome) << r->message;
      }
    }
    return c;
  }

  // contactlog.txt of a client; "" when it does not exist (yet).
  std::string ContactLog(const std::string& name) {
    auto text = store::PosixFileSystem::Instance().ReadFile(h_.dir.File(name + "/contactlog.txt"));
    return text.ok() ? *text : "";
  }

  test::ServiceHarness h_;
  std::unique_ptr<net::Server> server_;
  std::string fingerprint_;
  std::chrono::milliseconds idle_timeout_{300'000};
};

TEST_F(ClientControllerTest, ConnectsVerifyingTheCertificateWithTheCaFile) {
  auto c = MakeClientController(Options("a"), h_.clock());
  auto id = c->Connect(nullptr);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE(id->verified_by_ca);
  EXPECT_EQ(id->fingerprint, fingerprint_);
  EXPECT_NE(c->udp_port(), 0);
}

TEST_F(ClientControllerTest, ACertificateNotSignedByTheCaFileIsRefused) {
  auto other = net::GenerateSelfSigned({});
  ASSERT_TRUE(other.ok());
  test::WriteFileForTest(h_.dir.File("other.crt"), other->certificate_pem);
  ClientOptions o = Options("a");
  o.ca_file = h_.dir.File("other.crt");
  auto id = MakeClientController(o, h_.clock())->Connect(nullptr);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kPermissionDenied) << id.status().ToString();
}

TEST_F(ClientControllerTest, TrustOnFirstUseRefusesAnUnknownServerWithoutAPrompt) {
  ClientOptions o = Options("a");
  o.ca_file.clear();
  auto id = MakeClientController(o, h_.clock())->Connect(nullptr);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(id.status().message().find("unknown server certificate " + fingerprint_),
            std::string::npos)
      << id.status().message();
  EXPECT_NE(id.status().message().find("--ca-file"), std::string::npos);
  struct stat st {};
  EXPECT_NE(stat(o.known_servers_file.c_str(), &st), 0);  // nothing remembered
}

TEST_F(ClientControllerTest, TrustOnFirstUseAsksOnceThenRemembers) {
  ClientOptions o = Options("a");
  o.ca_file.clear();
  int asked = 0;
  std::string asked_key, asked_fp;
  auto refuse = [&](const std::string& key, const std::string& fp) {
    ++asked;
    asked_key = key;
    asked_fp = fp;
    return false;
  };
  auto no = MakeClientController(o, h_.clock())->Connect(refuse);
  ASSERT_FALSE(no.ok());
  EXPECT_EQ(no.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(asked_key, "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(asked_fp, fingerprint_);

  auto accept = [&](const std::string&, const std::string&) {
    ++asked;
    return true;
  };
  auto first = MakeClientController(o, h_.clock());
  auto id = first->Connect(accept);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_FALSE(id->verified_by_ca);
  EXPECT_FALSE(id->known);
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(test::ReadFileForTest(o.known_servers_file), asked_key + " " + fingerprint_ + "\n");
  struct stat st {};
  ASSERT_EQ(stat(o.known_servers_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(h_.dir.File("state/bluetrace").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // Scripted use (no prompt) now works, and nobody is asked again.
  auto second = MakeClientController(o, h_.clock());
  auto again = second->Connect(nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->known);
  EXPECT_EQ(asked, 2);
  auto r = second->Login(kKara, util::SecretString("kara1234"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ClientLoginStatus::kWelcome);
}

TEST_F(ClientControllerTest, TrustOnFirstUseRefusesAChangedCertificate) {
  ClientOptions o = Options("a");
  o.ca_file.clear();
  std::string old = "SHA256:" + std::string(95, 'A');
  for (std::size_t i = 7 + 2; i < old.size(); i += 3) old[i] = ':';
  test::WriteFileForTest(h_.dir.File("known"),
                         "127.0.0.1:" + std::to_string(server_->port()) + " " + old + "\n");
  o.known_servers_file = h_.dir.File("known");
  bool asked = false;
  auto id =
      MakeClientController(o, h_.clock())->Connect([&](const std::string&, const std::string&) {
        return asked = true;
      });
  ASSERT_FALSE(id.ok());
  EXPECT_FALSE(asked);
  EXPECT_EQ(id.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(id.status().message(),
            "the server's certificate changed (was " + old + ", now " + fingerprint_ +
                "); if this is expected, remove its line from " + o.known_servers_file);
}

TEST_F(ClientControllerTest, LoginOutcomesFollowTheOriginal) {
  auto c = Client(Options("a"));
  auto r = c->Login(kKara, util::SecretString("wrong-1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ClientLoginStatus::kWrongPassword);
  EXPECT_EQ(r->attempts_left, 2u);
  r = c->Login(kKara, util::SecretString("wrong-2"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->attempts_left, 1u);
  r = c->Login(kKara, util::SecretString("wrong-3"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ClientLoginStatus::kBlocked);
  EXPECT_EQ(r->seconds, 60);
  // The server closed the connection after blocking.
  EXPECT_FALSE(c->Login(kKara, util::SecretString("kara1234")).ok());

  // Even the right password from a new connection is refused while blocked.
  auto d = Client(Options("b"));
  r = d->Login(kKara, util::SecretString("kara1234"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ClientLoginStatus::kStillBlocked);
  EXPECT_GT(r->seconds, 0);

  h_.clock().AdvanceSeconds(61);
  auto e = Client(Options("c"), kKara, "kara1234");
  EXPECT_EQ(e->Login(kKara, util::SecretString("kara1234")).status().code(),
            StatusCode::kFailedPrecondition);  // already logged in
}

TEST_F(ClientControllerTest, RegisterThenLogin) {
  auto c = Client(Options("a"));
  ASSERT_TRUE(c->Register("+61-400-000-001", util::SecretString("long-password")).ok());
  EXPECT_EQ(c->Register("+61400000001", util::SecretString("long-password")).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(c->Register("not-a-phone", util::SecretString("long-password")).code(),
            StatusCode::kInvalidArgument);
  auto r = c->Login("+61400000001", util::SecretString("long-password"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ClientLoginStatus::kWelcome);
  EXPECT_EQ(r->message, protocol::kWelcomeText);
}

TEST_F(ClientControllerTest, DownloadTempIdNeedsALoginAndIsAlwaysFresh) {
  auto c = Client(Options("a"));
  EXPECT_EQ(c->DownloadTempId().status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(c->Login(kKara, util::SecretString("kara1234")).ok());
  auto t1 = c->DownloadTempId();
  ASSERT_TRUE(t1.ok()) << t1.status().ToString();
  EXPECT_EQ(t1->user, kKara);
  EXPECT_EQ(t1->start, h_.clock().NowUnixSeconds());
  EXPECT_EQ(t1->expiry, t1->start + 899);
  auto t2 = c->DownloadTempId();
  ASSERT_TRUE(t2.ok());
  EXPECT_NE(t1->id, t2->id);
  EXPECT_NE(h_.console.Text().find(std::string("user: ") + kKara + "\nTempID:\n" +
                                   t2->id.ToString() + "\n"),
            std::string::npos);
}

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

TEST_F(ClientControllerTest, TheTempIdIsRenewedBeforeItExpires) {
  ClientOptions o = Options("a");
  o.tempid_renew_margin_seconds = 60;
  auto a = Client(o, kKara, "kara1234");
  auto t = a->DownloadTempId();
  ASSERT_TRUE(t.ok());
  auto issued = [&] {
    std::size_t n = 0;
    const std::string text = h_.console.Text();
    for (auto p = text.find("user: "); p != std::string::npos; p = text.find("user: ", p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(issued(), 1u);
  h_.clock().AdvanceSeconds(t->expiry - 60 - h_.clock().NowUnixSeconds());
  // Exactly at the margin: not yet (the background thread looks several times a second).
  EXPECT_FALSE(test::WaitFor([&] { return issued() != 1u; }, 1s));
  h_.clock().AdvanceSeconds(1);
  EXPECT_TRUE(test::WaitFor([&] { return issued() == 2u; }));
  auto b = Client(Options("b"));
  auto sent = a->SendBeacon("127.0.0.1", b->udp_port());
  ASSERT_TRUE(sent.ok());
  EXPECT_NE(sent->id, t->id);  // the renewed one, without another download
  EXPECT_EQ(issued(), 2u);
}

TEST_F(ClientControllerTest, LogoutEndsTheSession) {
  auto a = Client(Options("a"), kKara, "kara1234");
  ASSERT_TRUE(a->Logout().ok());
  EXPECT_NE(h_.console.Text().find(std::string(kKara) + " logout\n"), std::string::npos);
  EXPECT_EQ(a->DownloadTempId().status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ClientControllerTest, AServerThatGoesAwayGivesAClearErrorWithoutHanging) {
  ClientOptions o = Options("a");
  o.timeout_seconds = 3;
  auto a = Client(o, kKara, "kara1234");
  server_->Stop(200ms);
  const auto start = std::chrono::steady_clock::now();
  auto t = a->DownloadTempId();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(t.status().message().find("the server closed the connection"), std::string::npos)
      << t.status().message();
  EXPECT_EQ(a->UploadContactLog().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(a->Logout().code(), StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(ClientControllerTest, PingsKeepAnIdleSessionOpen) {
  idle_timeout_ = 2500ms;
  StartServer();
  // Real time here: the server's idle deadline is a real timer.
  ClientOptions pinging = Options("a");
  pinging.ping_interval_seconds = 1;
  ClientOptions silent = Options("b");
  silent.ping_interval_seconds = 3600;
  auto a = Client(pinging, kKara, "kara1234", &util::SystemClock::Instance());
  auto b = Client(silent, kDatha, "datha457", &util::SystemClock::Instance());
  // Long enough for the server to drop the silent one.
  EXPECT_TRUE(test::WaitFor(
      [&] { return h_.console.Text().find(std::string(kDatha) + " logout") != std::string::npos; },
      10s));
  auto t = a->DownloadTempId();
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  auto lost = b->DownloadTempId();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(lost.status().message().find("the server closed the connection"), std::string::npos)
      << lost.status().message();
}

TEST_F(ClientControllerTest, ABusyLoginIsRetried) {
  h_.config.argon2_workers = 1;
  h_.config.argon2_queue_depth = 1;
  h_.config.argon2_memory_kib = 65536;  // >= 100 ms a hash
  h_.config.argon2_iterations = 3;
  StartServer();
  auto c = Client(Options("a"));
  // Three other connections' logins fill the one worker and the one queue slot; one is
  // turned away, which shows the server is full right now.
  std::vector<std::unique_ptr<net::ClientConnection>> others;
  for (int i = 0; i < 3; ++i) {
    auto other = net::ClientConnection::Connect("127.0.0.1", server_->port(),
                                                net::TlsClientOptions{Cert(), "127.0.0.1"});
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    ASSERT_TRUE((*other)->Call(protocol::Hello{1, 1, "test"}, 20s).ok());
    others.push_back(std::move(*other));
  }
  for (auto& other : others) {
    ASSERT_TRUE(other->Send(protocol::Login{"+61410999999", util::SecretString("wrong")}).ok());
  }
  ASSERT_TRUE(test::WaitFor([&] { return h_.service->auth_stats().logins_busy.load() >= 1; }));
  // So the controller's login is answered Busy too, and retried until it passes.
  auto r = c->Login(kKara, util::SecretString("kara1234"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ClientLoginStatus::kWelcome) << r->message;
  EXPECT_GE(h_.service->auth_stats().logins_busy.load(), 2u);
}

TEST_F(ClientControllerTest, ARateLimitedRequestIsResourceExhaustedAndTheSessionGoesOn) {
  h_.config.tempid_rate = {0.001, 1.0};  // one TempID, then none while the clock stands
  StartServer();
  auto a = Client(Options("a"), kKara, "kara1234");
  ASSERT_TRUE(a->DownloadTempId().ok());
  auto limited = a->DownloadTempId();
  EXPECT_EQ(limited.status(), util::ResourceExhausted("too many TempID requests; retry later"));
  // Not a lost connection: the next request is served.
  auto upload = a->UploadContactLog();
  EXPECT_TRUE(upload.ok()) << upload.status().ToString();
}

TEST_F(ClientControllerTest, ASilentServerTimesOutInsteadOfHanging) {
  // A TCP listener that never answers the TLS handshake (the kernel completes the TCP one).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ClientOptions o = Options("a");
  o.server_port = ntohs(addr.sin_port);
  o.timeout_seconds = 1;
  const auto start = std::chrono::steady_clock::now();
  auto id = MakeClientController(o, h_.clock())->Connect(nullptr);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(id.status().message().find("timed out"), std::string::npos) << id.status().message();
  EXPECT_LT(took, 3s);
}

}  // namespace
}  // namespace bluetrace::service
