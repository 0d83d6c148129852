// bluetrace-client: parses flags and configuration, builds the ClientController, and hands
// the terminal to the front end (client_frontend.hpp), which talks to the user.
//
//   bluetrace-client <server_IP> <server_port> <client_udp_port>   (the original's)
//   bluetrace-client 127.0.0.1 4000 8000 --ca-file server.crt --user +61410888888
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "bluetrace/net/client_controller.hpp"
#include "bluetrace/service/client_config.hpp"
#include "bluetrace/service/client_controller.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/known_servers.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/version.hpp"
#include "client_frontend.hpp"
#include "client_terminal.hpp"

namespace {

using namespace bluetrace;  // NOLINT: a program's main wires every layer

struct Flags {
  std::optional<std::string> server_ip;
  std::optional<std::uint16_t> server_port, udp_port;
  std::string config_file, user, password_file, log_file, log_level = "info";
  std::optional<std::string> ca_file, data_dir, known_servers;
  bool register_user = false;
  bool print_config = false;
  bool verbose = false;
};

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "bluetrace-client: %s\n", message.c_str());
  return code;
}

// Defaults, then the file, then flags, then the original's positional arguments.
util::Status BuildOptions(store::FileSystem& fs, const Flags& f, service::ClientOptions& o) {
  if (!f.config_file.empty()) {
    BLUETRACE_ASSIGN_OR_RETURN(auto text, fs.ReadFile(f.config_file, 1 << 20));
    BLUETRACE_RETURN_IF_ERROR(service::ParseClientConfig(text, f.config_file, o));
  }
  if (f.ca_file) o.ca_file = *f.ca_file;
  if (f.data_dir) o.data_dir = *f.data_dir;
  if (f.known_servers) o.known_servers_file = *f.known_servers;
  if (f.server_ip) o.server_host = *f.server_ip;
  if (f.server_port) o.server_port = *f.server_port;
  if (f.udp_port) o.udp_port = *f.udp_port;
  if (!f.print_config && (o.server_host.empty() || o.server_port == 0 || !f.udp_port)) {
    return util::InvalidArgument(
        "usage: bluetrace-client <server_IP> <server_port> <client_udp_port> [options]; "
        "--help lists the options");
  }
  return service::ValidateClientOptions(o);
}

// The terminal is the user's: logs go to --log-file or nowhere.
void SetUpLogging(const Flags& f) {
  std::shared_ptr<spdlog::logger> logger;
  if (f.log_file.empty()) {
    logger = spdlog::null_logger_mt("bluetrace");
    logger->set_level(spdlog::level::off);
  } else {
    logger = spdlog::basic_logger_mt("bluetrace", f.log_file);
    auto level = spdlog::level::from_str(f.log_level);
    // --verbose: every dropped datagram and every beacon, each with its reason.
    if (f.verbose) level = std::min(level, spdlog::level::debug);
    logger->set_level(level);
    logger->flush_on(std::min(level, spdlog::level::info));
  }
  spdlog::set_default_logger(logger);
}

util::Result<util::SecretString> ReadPasswordFile(store::FileSystem& fs, const std::string& path) {
  // Not BLUETRACE_ASSIGN_OR_RETURN: a short password moved out of the Result would leave
  // its bytes in the Result's small-string buffer, unwiped.
  auto text = fs.ReadFile(path, 64 * 1024);
  if (!text.ok()) return text.status();
  std::string line = text->substr(0, text->find('\n'));
  util::WipeString(*text);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return util::InvalidArgument(path + ": the first line is empty");
  return util::SecretString(std::move(line));
}

}  // namespace

int main(int argc, char** argv) {
  // A server closing mid-write must not kill us.
  signal(SIGPIPE, SIG_IGN);

  Flags f;
  CLI::App app{
      "bluetrace-client: the BlueTrace contact-tracing client (TLS to the server, UDP "
      "beacons to other clients)"};
  app.set_version_flag("--version", std::string("bluetrace-client ") + bluetrace::kVersion);
  app.add_option("server_IP", f.server_ip, "the reporting server's IP address (or host name)");
  app.add_option("server_port", f.server_port, "the server's TCP port");
  app.add_option("client_udp_port", f.udp_port, "UDP port this client receives beacons on");
  app.add_option("-c,--config", f.config_file, "TOML configuration file (config/client.toml)");
  app.add_option("--ca-file", f.ca_file,
                 "verify the server's certificate against this CA or certificate (PEM); "
                 "without it the server is trusted on first use");
  app.add_option(
      "--known-servers", f.known_servers,
      "trust-on-first-use fingerprints (default ~/.local/state/bluetrace/known_servers)");
  app.add_option("--data-dir", f.data_dir, "directory of contactlog.txt (default: .)");
  app.add_option("--user", f.user, "user name (phone number): skips the Username prompt");
  app.add_option("--password-file", f.password_file,
                 "read the password from the first line of this file");
  app.add_flag("--register", f.register_user, "create the account first, then log in");
  auto* log_file =
      app.add_option("--log-file", f.log_file, "write diagnostics to this file (default: none)");
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error (with --log-file)");
  app.add_flag("-v,--verbose", f.verbose,
               "log at debug level (with --log-file): why each datagram was dropped, each "
               "beacon received")
      ->needs(log_file);
  app.add_flag("--print-config", f.print_config,
               "print the effective configuration (config/client.toml keys) and exit");
  app.footer(apps::ExitStatusHelp());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here too, with status 0.
    return app.exit(e) == 0 ? 0 : apps::kExitUsage;
  }

  auto& fs = store::PosixFileSystem::Instance();
  service::ClientOptions options;
  if (auto st = BuildOptions(fs, f, options); !st.ok()) return Fail(apps::kExitUsage, st.message());
  if (f.print_config) {
    std::fputs(service::FormatClientConfig(options).c_str(), stdout);
    return 0;
  }
  apps::FrontendOptions front;
  front.server = store::KnownServerKey(options.server_host, options.server_port);
  front.user = f.user;
  front.register_user = f.register_user;
  front.have_ca_file = !options.ca_file.empty();
  front.time_mode = options.time_mode;
  if (!f.password_file.empty()) {
    auto password = ReadPasswordFile(fs, f.password_file);
    if (!password.ok()) return Fail(apps::kExitUsage, password.status().message());
    front.password = std::move(*password);
  }
  SetUpLogging(f);

  apps::TerminalOptions terminal_options;
  terminal_options.interactive = isatty(STDIN_FILENO) == 1;
  apps::Terminal terminal(terminal_options);
  auto client = net::MakeClientController(
      options, {fs, util::SystemClock::Instance(), util::OpenSslRandom::Instance()});
  return apps::RunClient(*client, terminal, front);
}
