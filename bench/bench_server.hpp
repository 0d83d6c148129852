// The benchmarks' in-process server: the real ReportingService behind net::Server, TLS 1.3
// on 127.0.0.1 with an ephemeral port, over a state directory the benchmark prepared, with
// the self-signed certificate the server makes for itself there. Owns the service and the
// server; the server's threads are its own. Header-only, benchmarks only.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/server.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"

namespace bluetrace::bench {

class InProcessServer {
 public:
  // Opens the service on `config` (its state_dir holds what the benchmark put there) and
  // starts listening; nullptr after saying why on stderr.
  static std::unique_ptr<InProcessServer> Start(const service::ServerConfig& config) {
    std::unique_ptr<InProcessServer> s(new InProcessServer);
    auto& fs = store::PosixFileSystem::Instance();
    auto cert = net::EnsureServerCertificate(fs, config.state_dir, "", "");
    if (!cert.ok()) return Failed(cert.status());
    s->cert_ = *cert;
    auto tls = net::MakeServerContext({cert->certificate_file, cert->private_key_file, "1.3"}, fs);
    if (!tls.ok()) return Failed(tls.status());
    auto opened = service::ReportingService::Open(
        config, service::ServiceEnv{fs, util::SystemClock::Instance(),
                                    util::OpenSslRandom::Instance(), s->console_});
    if (!opened.ok()) return Failed(opened.status());
    s->service_ = std::move(*opened);
    s->options_ = net::ServerOptionsFromConfig(config);
    s->options_.bind_address = "127.0.0.1";
    s->options_.port = 0;
    s->server_ = std::make_unique<net::Server>(s->options_, *tls, *s->service_);
    const util::Status started = s->server_->Start();
    if (!started.ok()) return Failed(started);
    return s;
  }

  ~InProcessServer() { Stop(); }
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  // Stops accepting and closes the sessions (waits up to 2 s); idempotent.
  void Stop() {
    if (server_ != nullptr) server_->Stop(std::chrono::seconds(2));
  }

  std::uint16_t port() const { return server_->port(); }
  const net::ServerCertificate& certificate() const { return cert_; }
  const net::ServerOptions& options() const { return options_; }
  service::ReportingService& service() { return *service_; }

 private:
  InProcessServer() = default;

  static std::unique_ptr<InProcessServer> Failed(const util::Status& status) {
    std::fprintf(stderr, "in-process server: %s\n", status.ToString().c_str());
    return nullptr;
  }

  service::NullConsole console_;  // before service_, which refers to it
  net::ServerCertificate cert_;
  net::ServerOptions options_;
  std::unique_ptr<service::ReportingService> service_;
  std::unique_ptr<net::Server> server_;  // last: stopped and destroyed first
};

}  // namespace bluetrace::bench
