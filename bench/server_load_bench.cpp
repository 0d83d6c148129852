// Load on a real bluetrace server in one process: N client threads each run full sessions
// over TLS 1.3 on 127.0.0.1 (connect + handshake, Hello, Login, Download_tempID, Logout)
// for a fixed time. Prints sessions per second, request latencies and the server's
// counters. Both ends share the machine's cores, so the figures are a lower bound.
//   server_load_bench [clients=8] [seconds=10] [argon2_memory_kib=19456]
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_server.hpp"
#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/net/server.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/store/file_system.hpp"

namespace {

using namespace bluetrace;  // NOLINT
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  const int clients = argc > 1 ? std::max(1, std::atoi(argv[1])) : 8;
  const int seconds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 10;
  const int argon2_kib = argc > 3 ? std::max(8, std::atoi(argv[3])) : 19456;
  spdlog::set_level(spdlog::level::warn);

  char tmpl[] = "/tmp/bluetrace-load-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  auto& fs = store::PosixFileSystem::Instance();
  std::string creds;
  for (int i = 0; i < 100; ++i)
    creds += "+614100000" + std::to_string(10 + i) + " password" + std::to_string(i) + "\n";
  if (!fs.ReplaceFileAtomically(store::JoinPath(dir, "credentials.txt"), creds, 0600).ok())
    return 1;
  service::ServerConfig config;
  config.state_dir = dir;
  config.argon2_memory_kib = static_cast<std::uint32_t>(argon2_kib);
  config.console_output = false;
  config.login_rate = config.tempid_rate = config.connection_rate = {1e6, 1e6};
  config.max_connections_per_address = 10000;
  auto server = bench::InProcessServer::Start(config);
  if (server == nullptr) return 1;
  const std::string& certificate_file = server->certificate().certificate_file;

  std::atomic<bool> stop{false};
  std::atomic<long> sessions{0}, failures{0};
  std::mutex mu;
  std::vector<double> connect_ms, login_ms, tempid_ms;
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      std::vector<double> c_ms, l_ms, t_ms;
      const std::string user = "+614100000" + std::to_string(10 + t % 100);
      const std::string password = "password" + std::to_string(t % 100);
      while (!stop.load()) {
        const auto t0 = Clock::now();
        auto c = net::ClientConnection::Connect(
            "127.0.0.1", server->port(), net::TlsClientOptions{certificate_file, "127.0.0.1"});
        if (!c.ok() || !(*c)->Call(protocol::Hello{1, 1, "bench"}, std::chrono::seconds(10)).ok()) {
          ++failures;
          continue;
        }
        const auto t1 = Clock::now();
        auto w = (*c)->Call(protocol::Login{user, util::SecretString(password)},
                            std::chrono::seconds(30));
        const auto t2 = Clock::now();
        auto id = (*c)->Call(protocol::TempIdRequest{}, std::chrono::seconds(10));
        const auto t3 = Clock::now();
        auto bye = (*c)->Call(protocol::Logout{}, std::chrono::seconds(10));
        if (!w.ok() || !std::holds_alternative<protocol::Welcome>(*w) || !id.ok() ||
            !std::holds_alternative<protocol::TempIdResponse>(*id) || !bye.ok()) {
          ++failures;
          continue;
        }
        c_ms.push_back(Ms(t1 - t0));
        l_ms.push_back(Ms(t2 - t1));
        t_ms.push_back(Ms(t3 - t2));
        ++sessions;
      }
      std::lock_guard lock(mu);
      connect_ms.insert(connect_ms.end(), c_ms.begin(), c_ms.end());
      login_ms.insert(login_ms.end(), l_ms.begin(), l_ms.end());
      tempid_ms.insert(tempid_ms.end(), t_ms.begin(), t_ms.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  server->Stop();

  std::printf("server load: %d clients, %.1f s, Argon2id m=%d KiB t=2 p=1, 2 auth workers\n",
              clients, elapsed, argon2_kib);
  std::printf("  sessions completed     %ld (%.1f/s), failures %ld\n", sessions.load(),
              static_cast<double>(sessions.load()) / elapsed, failures.load());
  std::printf("  connect+TLS+Hello ms   p50 %.2f  p99 %.2f\n", Percentile(connect_ms, 0.5),
              Percentile(connect_ms, 0.99));
  std::printf("  Login ms               p50 %.2f  p99 %.2f\n", Percentile(login_ms, 0.5),
              Percentile(login_ms, 0.99));
  std::printf("  Download_tempID ms     p50 %.2f  p99 %.2f\n", Percentile(tempid_ms, 0.5),
              Percentile(tempid_ms, 0.99));
  std::printf("  logins busy            %llu\n",
              static_cast<unsigned long long>(server->service().auth_stats().logins_busy.load()));
  std::printf("  TempIDs issued         %llu (fsyncs %llu)\n",
              static_cast<unsigned long long>(server->service().stats().tempids_issued.load()),
              static_cast<unsigned long long>(server->service().tempids().stats().syncs));
  server.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
