// Memory per idle TLS session on a real bluetrace server (docs/BENCHMARKS.md, "Idle
// sessions"). The server (ReportingService + net::Server, TLS 1.3, 127.0.0.1, port 0) runs
// in a child process forked before any thread exists, so its RSS (/proc/<pid>/status
// VmRSS) is its own; this process is the client: one io_context, one thread, raw Asio SSL
// streams. Both raise RLIMIT_NOFILE to the hard limit (net::RaiseOpenFileLimit) and the
// session count is clamped to what it allows. Steps: RSS at rest; N sessions connected
// (TLS handshake + Hello done, then idle); the same N logged in (Login -> Welcome, then
// idle). Prints KiB per session beside the 32 KiB target.
//
// Users are registered up front in credentials.txt with a cheap Argon2id setting (m=8 KiB,
// t=1), and the server hashes at that setting too, so 10,000 logins take seconds instead
// of minutes (the memory measured does not depend on the cost). The login deadline and
// the per-address limits are raised so that every session comes from 127.0.0.1 and waits.
// Bounded: at most `seconds` per step; the child dies with this process.
//   idle_sessions_bench [sessions=10000] [seconds=120]
#include <utility>  // before Asio: g++ 12 in C++20 needs it

#include <signal.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/descriptor_budget.hpp"
#include "bluetrace/net/server.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/password_hash.hpp"
#include "bluetrace/util/random.hpp"

namespace {

using namespace bluetrace;  // NOLINT
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr char kPassword[] = "bench-password";
constexpr double kTargetKib = 32;

std::string UserName(int i) { return "+614" + std::to_string(10000000 + i); }

// VmRSS of `pid` in KiB (0 when unreadable).
long RssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// The server process: writes its port to `ready`, serves until `stop` reaches EOF.
[[noreturn]] void RunServer(const std::string& dir, const net::ServerCertificate& cert,
                            int sessions, int ready, int stop) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  auto& fs = store::PosixFileSystem::Instance();
  auto tls = net::MakeServerContext({cert.certificate_file, cert.private_key_file, "1.3"}, fs);
  if (!tls.ok()) _exit(2);
  service::ServerConfig config;
  config.state_dir = dir;
  config.console_output = false;
  config.argon2_memory_kib = 8;  // the cheap setting the credentials were hashed with
  config.argon2_iterations = 1;
  config.argon2_queue_depth = 100000;
  config.argon2_queue_per_source = 100000;
  config.login_rate = config.tempid_rate = config.connection_rate = {1e6, 1e6};
  config.max_connections = static_cast<std::uint32_t>(sessions) + 16;
  config.max_connections_per_address = config.max_connections;
  config.login_timeout = 3600;
  config.idle_timeout = 3600;
  service::NullConsole console;
  auto service = service::ReportingService::Open(
      config, service::ServiceEnv{fs, util::SystemClock::Instance(),
                                  util::OpenSslRandom::Instance(), console});
  if (!service.ok()) {
    std::fprintf(stderr, "%s\n", service.status().ToString().c_str());
    _exit(2);
  }
  net::ServerOptions options = net::ServerOptionsFromConfig(config);
  options.bind_address = "127.0.0.1";
  options.port = 0;
  net::Server server(options, *tls, **service);
  if (!server.Start().ok()) _exit(2);
  const std::uint16_t port = server.port();
  if (write(ready, &port, sizeof port) != sizeof port) _exit(2);
  char byte;
  while (read(stop, &byte, 1) > 0) {
  }
  server.Stop(std::chrono::seconds(1));
  _exit(0);
}

// One client session: a raw Asio SSL stream and the frame being read.
struct Conn {
  explicit Conn(asio::io_context& io, ssl::context& tls) : stream(io, tls) {}
  ssl::stream<tcp::socket> stream;
  std::array<std::uint8_t, 4> header{};
  std::string body;
  std::string out;
};

class Client {
 public:
  Client(asio::io_context& io, ssl::context& tls, std::uint16_t port)
      : io_(io), tls_(tls), endpoint_(asio::ip::make_address("127.0.0.1"), port) {}

  // Opens `n` sessions (`window` at a time) up to HelloOk; returns how many succeeded.
  int Connect(int n, int window, Clock::duration limit) {
    target_ = n;
    started_ = done_ = failed_ = 0;
    for (int i = 0; i < window && started_ < target_; ++i) StartConnect();
    Run(limit);
    return done_;
  }

  // Logs session i in as user i (`window` at a time); returns how many got Welcome.
  int Login(int window, Clock::duration limit) {
    target_ = static_cast<int>(conns_.size());
    started_ = done_ = failed_ = 0;
    for (int i = 0; i < window && started_ < target_; ++i) StartLogin();
    Run(limit);
    return done_;
  }

  int failed() const { return failed_; }
  void CloseAll() {
    for (auto& c : conns_) {
      error_code ignored;
      c->stream.lowest_layer().close(ignored);
    }
    conns_.clear();
  }

 private:
  void Run(Clock::duration limit) {
    io_.restart();
    const auto deadline = Clock::now() + limit;
    while (done_ + failed_ < target_ && Clock::now() < deadline) {
      io_.run_for(std::chrono::milliseconds(100));
      io_.restart();
    }
  }

  void Finish(bool ok, void (Client::*next)()) {
    ok ? ++done_ : ++failed_;
    if (started_ < target_) (this->*next)();
  }

  void StartConnect() {
    ++started_;
    auto c = std::make_shared<Conn>(io_, tls_);
    c->stream.lowest_layer().async_connect(endpoint_, [this, c](error_code ec) {
      if (ec) return Finish(false, &Client::StartConnect);
      // As bluetrace-client (net::ClientConnection) does.
      error_code ignored;
      c->stream.lowest_layer().set_option(tcp::no_delay(true), ignored);
      c->stream.async_handshake(ssl::stream_base::client, [this, c](error_code ec2) {
        if (ec2) return Finish(false, &Client::StartConnect);
        Call(c, protocol::Hello{1, 1, "idle_sessions_bench"}, [this, c](bool ok) {
          if (ok) conns_.push_back(c);
          Finish(ok, &Client::StartConnect);
        });
      });
    });
  }

  void StartLogin() {
    const int i = started_++;
    auto c = conns_[static_cast<std::size_t>(i)];
    Call(c, protocol::Login{UserName(i), util::SecretString(kPassword)},
         [this](bool ok) { Finish(ok, &Client::StartLogin); });
  }

  // Sends `message`, reads one frame; `done(ok)` with ok when it is the expected answer.
  template <typename Done>
  void Call(const std::shared_ptr<Conn>& c, const protocol::Message& message, Done done) {
    auto frame = protocol::EncodeFrame(message);
    if (!frame.ok()) return done(false);
    c->out = std::move(*frame);
    asio::async_write(c->stream, asio::buffer(c->out), [c, done](error_code ec, std::size_t) {
      if (ec) return done(false);
      asio::async_read(c->stream, asio::buffer(c->header), [c, done](error_code ec2, std::size_t) {
        if (ec2) return done(false);
        const std::uint32_t n = (std::uint32_t{c->header[0]} << 24) |
                                (std::uint32_t{c->header[1]} << 16) |
                                (std::uint32_t{c->header[2]} << 8) | c->header[3];
        if (n == 0 || n > (1u << 16)) return done(false);
        c->body.assign(n, '\0');
        asio::async_read(c->stream, asio::buffer(c->body), [c, done](error_code ec3, std::size_t) {
          if (ec3) return done(false);
          const auto type = static_cast<std::uint8_t>(c->body[0]);
          const bool ok = type == static_cast<std::uint8_t>(protocol::MessageType::kHelloOk) ||
                          type == static_cast<std::uint8_t>(protocol::MessageType::kWelcome);
          std::string().swap(c->body);
          std::string().swap(c->out);
          done(ok);
        });
      });
    });
  }

  asio::io_context& io_;
  ssl::context& tls_;
  const tcp::endpoint endpoint_;
  std::vector<std::shared_ptr<Conn>> conns_;
  int target_ = 0;
  int started_ = 0;
  int done_ = 0;
  int failed_ = 0;
};

void Row(const char* figure, double kib_per_session) {
  std::printf("| %-52s | %8.1f KiB | <= %.0f KiB: %s |\n", figure, kib_per_session, kTargetKib,
              kib_per_session <= kTargetKib ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  int sessions = argc > 1 ? std::clamp(std::atoi(argv[1]), 1, 1000000) : 10000;
  const int seconds = argc > 2 ? std::clamp(std::atoi(argv[2]), 5, 3600) : 120;
  spdlog::set_level(spdlog::level::err);

  // Inherited by the server process; each side needs one descriptor per session.
  auto limit = net::RaiseOpenFileLimit();
  if (!limit.ok()) return 1;
  const long fit = static_cast<long>(std::min<std::uint64_t>(limit->soft, 1u << 30)) - 256;
  if (sessions > fit) {
    std::fprintf(stderr, "RLIMIT_NOFILE %llu: sessions lowered from %d to %ld\n",
                 static_cast<unsigned long long>(limit->soft), sessions, fit);
    sessions = static_cast<int>(std::max(1L, fit));
  }

  char tmpl[] = "/tmp/bluetrace-idle-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  auto& fs = store::PosixFileSystem::Instance();
  auto hash = store::HashPassword(kPassword, {8, 1, 1}, util::OpenSslRandom::Instance());
  if (!hash.ok()) return 1;
  std::string creds;
  for (int i = 0; i < sessions; ++i) creds += UserName(i) + " " + *hash + "\n";
  auto cert = net::EnsureServerCertificate(fs, dir, "", "");
  if (!cert.ok() ||
      !fs.ReplaceFileAtomically(store::JoinPath(dir, "credentials.txt"), creds, 0600).ok()) {
    return 1;
  }

  int ready[2], stop[2];
  if (pipe(ready) != 0 || pipe(stop) != 0) return 1;
  const pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    close(ready[0]);
    close(stop[1]);
    RunServer(dir, *cert, sessions, ready[1], stop[0]);
  }
  close(ready[1]);
  close(stop[0]);
  std::uint16_t port = 0;
  int rc = 1;
  if (read(ready[0], &port, sizeof port) == sizeof port) {
    asio::io_context io(1);
    ssl::context tls(ssl::context::tls_client);
    tls.load_verify_file(cert->certificate_file);
    tls.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_mode(tls.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    Client client(io, tls, port);
    const auto limit_per_step = std::chrono::seconds(seconds);

    // Warm up: one session connects and logs in, so that what the first session costs
    // (thread stacks, allocator arenas, OpenSSL's tables) is not counted per session.
    client.Connect(1, 1, limit_per_step);
    client.Login(1, limit_per_step);
    client.CloseAll();
    sleep(1);

    const long base = RssKib(child);
    const long client_base = RssKib(getpid());
    const auto t0 = Clock::now();
    const int connected = client.Connect(sessions, 128, limit_per_step);
    const double connect_s = std::chrono::duration<double>(Clock::now() - t0).count();
    sleep(1);
    const long after_hello = RssKib(child);
    const long client_connected = RssKib(getpid());
    const auto t1 = Clock::now();
    const int logged_in = client.Login(64, limit_per_step);
    const double login_s = std::chrono::duration<double>(Clock::now() - t1).count();
    sleep(1);
    const long after_login = RssKib(child);

    const double n = std::max(1, connected);
    std::printf(
        "idle sessions: %d of %d connected over TLS 1.3 in %.1f s, %d logged in in %.1f s "
        "(Argon2id m=8 KiB t=1 for the benchmark), RLIMIT_NOFILE %llu\n",
        connected, sessions, connect_s, logged_in, login_s,
        static_cast<unsigned long long>(limit->soft));
    std::printf("server VmRSS: %ld KiB at rest, %ld after Hello, %ld after Login\n", base,
                after_hello, after_login);
    std::printf("client VmRSS (this process, not the server's): %ld KiB for %d sessions\n",
                client_connected - client_base, connected);
    std::printf("| %-52s | %12s | %s |\n", "figure", "measured", "target");
    std::printf("|---|---|---|\n");
    Row("server memory per idle TLS session (after Hello)",
        static_cast<double>(after_hello - base) / n);
    Row("server memory per idle session after Login",
        static_cast<double>(after_login - base) / std::max(1, logged_in));
    rc = connected == sessions && logged_in == sessions ? 0 : 3;
    if (rc != 0) std::fprintf(stderr, "failures: %d\n", client.failed());
    client.CloseAll();
  }
  close(stop[1]);  // the server stops
  int status = 0;
  for (int i = 0; i < 100 && waitpid(child, &status, WNOHANG) == 0; ++i) usleep(100 * 1000);
  if (waitpid(child, &status, WNOHANG) == 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
  }
  std::filesystem::remove_all(dir);
  return rc;
}
