// bluetrace-server: parses flags and configuration, wires the stores, the service and the
// TLS transport together, and runs until SIGTERM/SIGINT. SIGHUP reloads the certificate of
// the protocol port and the console (keeping the old one when the new one is bad) and
// re-reads the user files.
//
//   bluetrace-server <server_port> <block_duration>          (the original's command line)
//   bluetrace-server --config /etc/bluetrace/server.toml [flags]
#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/certificate_validity.hpp"
#include "bluetrace/net/console_server.hpp"
#include "bluetrace/net/descriptor_budget.hpp"
#include "bluetrace/net/listener.hpp"
#include "bluetrace/net/ops_server.hpp"
#include "bluetrace/net/server.hpp"
#include "bluetrace/net/server_daemon.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/service/console.hpp"
#include "bluetrace/service/metrics.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/service/server_config.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/files/leftover_temp_files.hpp"
#include "bluetrace/store/instrumented_file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/version.hpp"
#include "log_setup.hpp"

namespace {

using namespace bluetrace;  // NOLINT: a program's main wires every layer

constexpr int kExitUsage = 2;    // bad flags or configuration
constexpr int kExitStartup = 1;  // state files, certificate, port

struct Flags {
  std::optional<std::uint16_t> positional_port;
  std::optional<std::int64_t> positional_block;
  std::string config_file;
  std::optional<std::string> ready_file;
  // The values of the flags that override configuration keys, one per
  // service::ServerConfigKeys() entry (nullopt: not given, or the key has no flag).
  std::vector<std::optional<std::string>> key_flags =
      std::vector<std::optional<std::string>>(service::ServerConfigKeys().size());
  bool check_config = false;
  bool print_config = false;
};

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "bluetrace-server: %s\n", message.c_str());
  return code;
}

// One of the original's positional arguments, a whole decimal number in [min, max]; taken
// as text so that a bad one is named with its range (CLI11 says only "Could not convert").
util::Result<std::int64_t> ParsePositional(const char* name, const std::string& text,
                                           std::int64_t min, std::int64_t max, const char* unit) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return util::InvalidArgument(std::string(name) + " must be " + std::to_string(min) + " to " +
                                 std::to_string(max) + unit + ", got " + text);
  }
  return value;
}

// Defaults, then the file, then flags, then the original's positional arguments.
util::Status BuildConfig(const Flags& f, service::ServerConfig& c) {
  if (!f.config_file.empty()) {
    BLUETRACE_ASSIGN_OR_RETURN(auto text,
                               store::PosixFileSystem::Instance().ReadFile(f.config_file, 1 << 20));
    BLUETRACE_RETURN_IF_ERROR(service::ParseServerConfig(text, f.config_file, c));
  }
  const auto keys = service::ServerConfigKeys();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (f.key_flags[i]) {
      BLUETRACE_RETURN_IF_ERROR(service::ApplyServerConfigFlag(keys[i], *f.key_flags[i], c));
    }
  }
  if (f.positional_port) c.port = *f.positional_port;
  if (f.positional_block) {
    if (*f.positional_block < 1) {
      return util::InvalidArgument("block_duration must be a positive number of seconds");
    }
    c.block_duration_seconds = *f.positional_block;
  }
  return service::ValidateServerConfig(c);
}

service::TransportMetrics TransportMetricsOf(const net::ServerStats& s) {
  service::TransportMetrics t;
  t.connections_open = s.connections_open.load(std::memory_order_relaxed);
  t.connections_accepted = s.connections_accepted.load(std::memory_order_relaxed);
  t.refused_total_limit = s.refused_total_limit.load(std::memory_order_relaxed);
  t.refused_address_limit = s.refused_address_limit.load(std::memory_order_relaxed);
  t.refused_rate = s.refused_rate.load(std::memory_order_relaxed);
  t.tls_handshakes_failed = s.tls_handshakes_failed.load(std::memory_order_relaxed);
  t.frames_in = s.frames_in.load(std::memory_order_relaxed);
  t.frames_out = s.frames_out.load(std::memory_order_relaxed);
  t.protocol_errors = s.protocol_errors.load(std::memory_order_relaxed);
  t.timeouts = s.timeouts.load(std::memory_order_relaxed);
  return t;
}

// The ops listener (only when ops.metrics_address is set). Ready means the TLS listener
// accepts, the certificate it presents is within its validity window now (clients refuse
// it otherwise), the TempID store still takes writes (it turns read-only on a failed
// fsync) and the audit log can be written (audited events are refused while it cannot).
util::Result<std::unique_ptr<net::OpsServer>> StartOps(
    net::Listener listener, const net::Server& server, const service::ReportingService& service,
    const store::InstrumentedFileSystem& fs, const net::CertificateValidityWatch& certificate) {
  net::OpsHandlers handlers;
  handlers.ready = [&server, &service, &certificate]() -> util::Status {
    if (server.port() == 0) return util::Unavailable("the TLS listener is not accepting");
    BLUETRACE_RETURN_IF_ERROR(certificate.Check());
    util::Status st = service.tempids().health();
    if (!st.ok()) return util::Unavailable("TempID store: " + st.message());
    if (!service.audit_healthy()) return util::Unavailable("the audit log is not writable");
    return util::Status();
  };
  handlers.metrics = [&server, &service, &fs] {
    return service::RenderMetrics(service, TransportMetricsOf(server.stats()), &fs);
  };
  auto ops = std::make_unique<net::OpsServer>(net::OpsServerOptions{}, std::move(handlers));
  BLUETRACE_RETURN_IF_ERROR(ops->Start(std::move(listener)));
  return util::Result<std::unique_ptr<net::OpsServer>>(std::move(ops));
}

net::TlsServerOptions TlsOptions(const net::ServerCertificate& cert,
                                 const service::ServerConfig& c) {
  return net::TlsServerOptions{cert.certificate_file, cert.private_key_file, c.tls_min_version};
}

// Temporary files of writes a crash interrupted (one may copy credentials.txt): removed
// before anything else writes, under the .server.lock we hold. Never fatal.
void RemoveLeftoverTempFiles(store::FileSystem& fs, const std::string& state_dir) {
  store::LeftoverTempFileOptions options;
  options.caller_holds_server_lock = true;
  auto found = store::RemoveLeftoverTempFiles(fs, state_dir, options);
  if (!found.ok()) {
    spdlog::warn("cannot look for leftover temporary files: {}", found.status().ToString());
    return;
  }
  if (found->removed_files > 0) {
    spdlog::warn("removed {} of writes interrupted by a crash",
                 store::DescribeLeftovers(found->removed_files, found->removed_bytes));
  }
  if (found->kept_files > 0) {
    // Only .lock-credentials or .lock-lockouts can be busy here: bluetrace-admin is
    // rewriting, and its temporary is live. The next start removes what remains.
    std::string why;
    for (const auto& st : found->kept_because) why += (why.empty() ? "" : "; ") + st.ToString();
    spdlog::warn("kept {}: {}", store::DescribeLeftovers(found->kept_files, found->kept_bytes),
                 why);
  }
  for (const auto& st : found->errors) {
    spdlog::warn("leftover temporary file not removed: {}", st.ToString());
  }
}

std::string LimitText(std::uint64_t limit) {
  return limit == UINT64_MAX ? "unlimited" : std::to_string(limit);
}

// Raises the open-file limit where allowed, then lowers limits.max_connections to what fits
// under it after the server's own reserve (net/descriptor_budget.hpp), loudly.
util::Status FitToOpenFileLimit(service::ServerConfig& c) {
  BLUETRACE_ASSIGN_OR_RETURN(auto limit, net::RaiseOpenFileLimit());
  if (!limit.raise_error.ok()) {
    // Expected under the packaged unit (SystemCallFilter=~@resources; LimitNOFILE= sets it).
    spdlog::info("open-file limit stays at {} (hard limit {}): {}", LimitText(limit.soft),
                 LimitText(limit.hard), limit.raise_error.message());
  } else if (limit.soft != limit.soft_before) {
    spdlog::info("raised the open-file limit from {} to {}", LimitText(limit.soft_before),
                 LimitText(limit.soft));
  }
  const std::uint64_t reserve = net::ReservedDescriptors(c);
  BLUETRACE_ASSIGN_OR_RETURN(auto fitted,
                             net::FitMaxConnections(c.max_connections, limit.soft, reserve));
  if (fitted != c.max_connections) {
    spdlog::warn(
        "limits.max_connections = {} does not fit the open-file limit of {} descriptors minus "
        "{} reserved for the server itself; using max_connections = {} (raise LimitNOFILE= or "
        "ulimit -n, or lower limits.max_connections)",
        c.max_connections, LimitText(limit.soft), reserve, fitted);
    c.max_connections = fitted;
  } else {
    spdlog::debug("open-file limit {}: {} reserved, max_connections {} fits", LimitText(limit.soft),
                  reserve, c.max_connections);
  }
  return util::Status::Ok();
}

int Run(const service::ServerConfig& c, const std::string& ready_file,
        const net::ConfigSource& reread) {
  auto& fs = store::PosixFileSystem::Instance();
  auto& clock = util::SystemClock::Instance();

  if (auto st = store::RequireStateDirectory(fs, c.state_dir); !st.ok())
    return Fail(kExitStartup, st.message());
  // Held while we run: one server per state directory, bluetrace-admin compact knows not to
  // rewrite tempIDs.txt under us, and verify not to remove our temporary files. Those two
  // hold it for a moment, hence the short wait.
  auto running =
      store::AcquireLock(fs, {store::StateDir(c.state_dir).server_lock(), std::chrono::seconds(2)});
  if (!running.ok()) {
    return Fail(kExitStartup, running.status().code() == util::StatusCode::kUnavailable
                                  ? "another bluetrace-server is running on " + c.state_dir
                                  : running.status().ToString());
  }
  // The listeners first: a port already taken, or an address that is not local, stops
  // start-up before anything is written (a new self-signed certificate included).
  auto listener = net::Listener::Open(c.bind_address, c.port);
  if (!listener.ok()) return Fail(kExitStartup, listener.status().ToString());
  std::optional<net::Listener> ops_listener;
  if (!c.metrics_address.empty()) {
    std::string host;
    std::uint16_t port = 0;
    if (auto st = service::ParseMetricsAddress(c.metrics_address, host, port); !st.ok()) {
      return Fail(kExitUsage, st.ToString());
    }
    auto opened = net::Listener::Open(host, port);
    if (!opened.ok()) {
      return Fail(kExitStartup, opened.status().WithContext("ops listener").ToString());
    }
    ops_listener.emplace(std::move(*opened));
  }

  std::optional<net::Listener> console_listener;
  if (c.console_enabled) {
    auto opened = net::Listener::Open(c.console_address, c.console_port);
    if (!opened.ok()) {
      return Fail(kExitStartup, opened.status().WithContext("console listener").ToString());
    }
    console_listener.emplace(std::move(*opened));
  }

  RemoveLeftoverTempFiles(fs, c.state_dir);
  auto cert = net::EnsureServerCertificate(fs, c.state_dir, c.certificate_file, c.private_key_file);
  if (!cert.ok()) return Fail(kExitStartup, cert.status().ToString());
  spdlog::info("{} certificate {} ({})", cert->created ? "created self-signed" : "using",
               cert->certificate_file, cert->fingerprint_sha256);
  auto tls = net::MakeServerContext(TlsOptions(*cert, c), fs);
  if (!tls.ok()) return Fail(kExitStartup, tls.status().ToString());
  // Outside its validity window the certificate still loads; clients refuse it. Not fatal
  // (a reload can fix it), but said, and /readyz fails meanwhile.
  net::CertificateValidityWatch certificate_validity(clock);
  net::WatchCertificate(fs.ReadFile(cert->certificate_file, 1 << 20), cert->certificate_file,
                        certificate_validity, clock, "");

  // Every store writes through this, so /metrics can show their fsync latency.
  store::InstrumentedFileSystem timed_fs(fs);
  std::unique_ptr<service::Console> console;
  if (c.console_output) {
    console = std::make_unique<service::StreamConsole>(stdout);
  } else {
    console = std::make_unique<service::NullConsole>();
  }
  auto service = service::ReportingService::Open(
      c, service::ServiceEnv{timed_fs, clock, util::OpenSslRandom::Instance(), *console});
  if (!service.ok()) return Fail(kExitStartup, service.status().ToString());
  for (const auto& note : (*service)->startup_notes()) spdlog::info("{}", note);
  for (const auto& warning : (*service)->startup_warnings()) spdlog::warn("{}", warning);

  net::Server server(net::ServerOptionsFromConfig(c), *tls, **service);
  if (auto st = server.Start(std::move(*listener)); !st.ok()) {
    return Fail(kExitStartup, st.ToString());
  }
  spdlog::info("bluetrace-server {} listening on {} port {} (TLS {}+), state in {}", kVersion,
               c.bind_address, server.port(), c.tls_min_version, c.state_dir);
  std::unique_ptr<net::OpsServer> ops;
  if (ops_listener) {
    auto started =
        StartOps(std::move(*ops_listener), server, **service, timed_fs, certificate_validity);
    if (!started.ok()) return Fail(kExitStartup, started.status().ToString());
    ops = std::move(*started);
    spdlog::info("ops listener on {} port {} (/healthz, /readyz, /metrics)",
                 c.metrics_address.substr(0, c.metrics_address.rfind(':')), ops->port());
  }
  // The contact tracers' console: its own port, the same TLS context.
  std::unique_ptr<service::ConsoleService> console_service;
  std::unique_ptr<net::ConsoleRouter> console_router;
  std::unique_ptr<net::ConsoleServer> console_server;
  if (console_listener) {
    store::Stores& stores = (*service)->stores();
    service::ConsoleOptions options;
    options.idle_timeout_seconds = c.console_idle_timeout;
    options.absolute_timeout_seconds = c.console_absolute_timeout;
    options.max_failed_logins = c.console_max_failed_logins;
    options.block_seconds = c.console_block_duration;
    options.argon2 = {c.argon2_memory_kib, c.argon2_iterations, c.argon2_parallelism};
    console_service = std::make_unique<service::ConsoleService>(
        service::ConsoleStores{*stores.staff, *stores.contact_statuses, *stores.reports,
                               *stores.audit, *stores.upload_codes},
        (*service)->upload_codes(), clock, util::OpenSslRandom::Instance(), options);
    console_router =
        std::make_unique<net::ConsoleRouter>(*console_service, util::OpenSslRandom::Instance());
    net::ConsoleServerOptions server_options;
    server_options.max_connections = c.console_max_connections;
    console_server = std::make_unique<net::ConsoleServer>(server_options, *tls, *console_router);
    if (auto st = console_server->Start(std::move(*console_listener)); !st.ok()) {
      return Fail(kExitStartup, st.ToString());
    }
    spdlog::info("console on https://{}:{}/ (staff accounts: bluetrace-admin staff)",
                 c.console_address, console_server->port());
  }
  if (!ready_file.empty()) {
    auto st = fs.ReplaceFileAtomically(ready_file, std::to_string(server.port()) + "\n", 0644);
    if (!st.ok()) spdlog::warn("cannot write the ready file: {}", st.ToString());
  }
  // Under systemd (Type=notify): started means accepting, not merely forked.
  sd_notifyf(0, "READY=1\nSTATUS=listening on %s port %u", c.bind_address.c_str(),
             static_cast<unsigned>(server.port()));

  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  net::ServerDaemon daemon(
      net::ServerDaemonParts{server, **service, fs, clock, certificate_validity, *cert, reread,
                             console_server.get()},
      c);
  for (;;) {
    // Short, so changes made by bluetrace-admin take effect within about a second.
    timespec wait{1, 0};
    const int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) {
      sd_notify(0, "STOPPING=1");
      spdlog::info("{}: stopping (sessions get {} s to finish)",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT", c.shutdown_grace);
      break;
    }
    if (sig == SIGHUP) {
      sd_notify(0, "RELOADING=1");
      daemon.Reload();
      sd_notify(0, "READY=1");
    }
    daemon.RunDueWork();
  }
  if (ops) ops->Stop();  // its callbacks read the service, which is reset below
  if (console_server) console_server->Stop();  // its pages read the stores, closed below
  server.Stop(std::chrono::seconds(c.shutdown_grace));
  service->reset();  // finishes accepted requests, then closes the stores
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Signals are taken synchronously by the main thread (sigtimedwait); every thread
  // started later inherits this mask. A peer closing mid-write must not kill us.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Flags f;
  CLI::App app{"bluetrace-server: the BlueTrace contact-tracing reporting server (TLS)"};
  app.set_version_flag("--version", std::string("bluetrace-server ") + bluetrace::kVersion);
  std::optional<std::string> positional_port, positional_block;
  app.add_option("server_port", positional_port,
                 "TCP port, 0 to 65535 (the original's first argument)");
  app.add_option("block_duration", positional_block,
                 "seconds a user stays blocked after 3 failed logins, 1 to " +
                     std::to_string(service::kMaxBlockDurationSeconds));
  app.add_option("-c,--config", f.config_file, "TOML configuration file (config/server.toml)");
  const auto keys = service::ServerConfigKeys();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const service::ServerConfigKey& key = keys[i];
    if (key.flag.empty()) continue;
    const std::string help = std::string(key.help) + " (" + std::string(key.name) + ")";
    if (std::holds_alternative<bool service::ServerConfig::*>(key.field)) {
      app.add_flag_callback(
          std::string(key.flag), [&f, i] { f.key_flags[i] = "false"; }, help);
    } else {
      app.add_option(std::string(key.flag), f.key_flags[i], help);
    }
  }
  app.add_option("--ready-file", f.ready_file,
                 "write the bound port to this file once accepting connections");
  app.add_flag("--check-config", f.check_config, "validate the configuration and exit");
  app.add_flag("--print-config", f.print_config, "print the effective configuration and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here too, with status 0.
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  if (positional_port) {
    auto port = ParsePositional("server_port", *positional_port, 0, 65535, "");
    if (!port.ok()) return Fail(kExitUsage, port.status().message());
    f.positional_port = static_cast<std::uint16_t>(*port);
  }
  if (positional_block) {
    auto block =
        ParsePositional("block_duration", *positional_block, service::kMinBlockDurationSeconds,
                        service::kMaxBlockDurationSeconds, " seconds");
    if (!block.ok()) return Fail(kExitUsage, block.status().message());
    f.positional_block = *block;
  }

  service::ServerConfig config;
  if (auto st = BuildConfig(f, config); !st.ok()) return Fail(kExitUsage, st.message());
  if (f.print_config) {
    std::fputs(service::FormatServerConfig(config).c_str(), stdout);
    return 0;
  }
  if (f.check_config) {
    if (auto st =
            store::RequireStateDirectory(store::PosixFileSystem::Instance(), config.state_dir);
        !st.ok()) {
      return Fail(kExitUsage, st.message());
    }
    if (!config.certificate_file.empty()) {
      auto tls = net::MakeServerContext(
          net::TlsServerOptions{config.certificate_file, config.private_key_file,
                                config.tls_min_version},
          store::PosixFileSystem::Instance());
      if (!tls.ok()) return Fail(kExitUsage, tls.status().ToString());
    }
    std::printf("configuration OK\n");
    return 0;
  }
  apps::SetUpStderrLogging("bluetrace", config.log_level);
  if (auto st = FitToOpenFileLimit(config); !st.ok()) return Fail(kExitStartup, st.ToString());
  const net::ConfigSource reread = [&f]() -> util::Result<service::ServerConfig> {
    service::ServerConfig fresh;
    BLUETRACE_RETURN_IF_ERROR(BuildConfig(f, fresh));
    return fresh;
  };
  return Run(config, f.ready_file.value_or(""), reread);
}
