// Set-up shared by the ClientController tests (client_controller_*_test.cpp): a fresh
// self-signed certificate, a net::Server on 127.0.0.1 for any SessionFactory, client
// options that trust that server through the CA file, and ClientControllerTest, which puts
// the real ReportingService (ServiceHarness) behind such a server. Every wait is bounded;
// simulated time moves a ManualClock shared by the server and the clients.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/client_controller.hpp"
#include "bluetrace/net/server.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/service/session.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/random.hpp"
#include "service/service_harness.hpp"

namespace bluetrace::test {

// Users of tests/data/original/credentials.txt (passwords kara1234 and datha457).
inline constexpr char kKara[] = "+61410666666";
inline constexpr char kDatha[] = "+61410777777";

// Writes a fresh self-signed certificate to `crt` and its key to `key`. Returns the
// certificate's fingerprint ("SHA256:..."), or "" after failing the test.
inline std::string WriteServerCertificate(const std::string& crt, const std::string& key) {
  auto cert = net::GenerateSelfSigned({});
  if (!cert.ok()) {
    ADD_FAILURE() << cert.status().ToString();
    return "";
  }
  const util::Status written =
      net::WriteCertificateFiles(store::PosixFileSystem::Instance(), crt, key, *cert);
  if (!written.ok()) {
    ADD_FAILURE() << written.ToString();
    return "";
  }
  auto fingerprint = net::CertificateFingerprintSha256(cert->certificate_pem);
  if (!fingerprint.ok()) {
    ADD_FAILURE() << fingerprint.status().ToString();
    return "";
  }
  return *fingerprint;
}

// Starts a net::Server for `factory` on 127.0.0.1 at a free port, with the rest of
// `options` and TLS 1.3 from `crt` and `key`. Null after failing the test.
inline std::unique_ptr<net::Server> StartLocalServer(net::ServerOptions options,
                                                     const std::string& crt, const std::string& key,
                                                     service::SessionFactory& factory) {
  auto tls = net::MakeServerContext({crt, key, "1.3"}, store::PosixFileSystem::Instance());
  if (!tls.ok()) {
    ADD_FAILURE() << tls.status().ToString();
    return nullptr;
  }
  options.bind_address = "127.0.0.1";
  options.port = 0;
  auto server = std::make_unique<net::Server>(options, *tls, factory);
  const util::Status started = server->Start();
  if (!started.ok()) {
    ADD_FAILURE() << started.ToString();
    return nullptr;
  }
  return server;
}

// The client's surroundings here: the real file system, `clock`, OpenSSL's generator and
// `sleep` for retry waits (real by default: a real server's Busy lasts real time).
inline net::ClientEnv TestClientEnv(util::Clock& clock, net::SleepFn sleep = net::SleepForReal) {
  return {store::PosixFileSystem::Instance(), clock, util::OpenSslRandom::Instance(),
          std::move(sleep)};
}

// Options for a client of 127.0.0.1:`port` that verifies the server against `ca_file`,
// receives beacons on 127.0.0.1 (any port), keeps its files in `data_dir` and waits at
// most 5 s for each answer.
inline service::ClientOptions LocalClientOptions(std::uint16_t port, const std::string& ca_file,
                                                 const std::string& data_dir) {
  service::ClientOptions o;
  o.server_host = "127.0.0.1";
  o.server_port = port;
  o.udp_bind_address = "127.0.0.1";
  o.udp_port = 0;
  o.data_dir = data_dir;
  o.ca_file = ca_file;
  o.timeout_seconds = 5;
  return o;
}

// The real ReportingService (the original's users and TempIDs) behind a real TLS server.
class ClientControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.UseOriginal("credentials.txt");
    h_.UseOriginal("tempIDs.txt");
    fingerprint_ = WriteServerCertificate(Cert(), h_.dir.File("server.key"));
    ASSERT_FALSE(fingerprint_.empty());
    StartServer();
  }

  // (Re)opens the service with h_.config and serves it on a new port.
  void StartServer() {
    if (server_) server_->Stop(std::chrono::seconds(2));
    server_.reset();
    ASSERT_TRUE(h_.Open().ok());
    net::ServerOptions o = net::ServerOptionsFromConfig(h_.config);
    o.idle_timeout = idle_timeout_;
    server_ = StartLocalServer(o, Cert(), h_.dir.File("server.key"), *h_.service);
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    if (server_) server_->Stop(std::chrono::seconds(2));
    server_.reset();
    h_.service.reset();
  }

  std::string Cert() const { return h_.dir.File("server.crt"); }

  service::ClientOptions Options(const std::string& name) const {
    service::ClientOptions o = LocalClientOptions(server_->port(), Cert(), h_.dir.File(name));
    o.known_servers_file = h_.dir.File("state/bluetrace/known_servers");
    return o;
  }

  // A controller connected (CA mode) and, when `user` is set, logged in.
  std::unique_ptr<service::ClientController> Client(const service::ClientOptions& o,
                                                    const std::string& user = "",
                                                    const std::string& password = "",
                                                    util::Clock* clock = nullptr) {
    auto c = net::MakeClientController(o, TestClientEnv(clock != nullptr ? *clock : h_.clock()));
    auto id = c->Connect(nullptr);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!user.empty()) {
      auto r = c->Login(user, util::SecretString(password));
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (r.ok()) {
        EXPECT_EQ(r->status, service::ClientLoginStatus::kWelcome) << r->message;
      }
    }
    return c;
  }

  // contactlog.txt of a client; "" when it does not exist (yet).
  std::string ContactLog(const std::string& name) {
    auto text = store::PosixFileSystem::Instance().ReadFile(h_.dir.File(name + "/contactlog.txt"));
    return text.ok() ? *text : "";
  }

  ServiceHarness h_;
  std::unique_ptr<net::Server> server_;
  std::string fingerprint_;
  std::chrono::milliseconds idle_timeout_{300'000};
};

}  // namespace bluetrace::test
