// The front end of bluetrace-client: the conversation a user has with the program (server
// identity, registration, login, the command loop), over a ClientController that does the
// work and a Terminal that does the reading and printing. It prints the original's exact
// messages (README.md, "Running the client") and turns every outcome into an exit status.
//
// Not thread-safe: RunClient runs on the main thread, which owns the Terminal. Received
// beacons reach the Terminal through its Post(), from the controller's receiving thread;
// news of a connection lost while a prompt waits ends that prompt through Cancel(), from
// the controller's background thread, and the run with status 3.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/service/client_controller.hpp"
#include "bluetrace/util/secret.hpp"
#include "client_terminal.hpp"

namespace bluetrace::apps {

// Exit statuses of bluetrace-client (also listed by --help and in the README).
inline constexpr int kExitOk = 0;           // logged out, or input ended after a login
inline constexpr int kExitError = 1;        // anything else: local files, unexpected answers
inline constexpr int kExitUsage = 2;        // bad flags or configuration
inline constexpr int kExitUnreachable = 3;  // the server could not be reached, or went away
inline constexpr int kExitUntrusted = 4;    // the server's certificate was not trusted
inline constexpr int kExitBlocked = 5;      // the account is blocked
inline constexpr int kExitNoLogin = 6;      // no login: input ended, registration refused, ...
// After SIGINT, SIGTERM, SIGHUP or SIGQUIT: 128 + the signal number.

// The text of the exit statuses, for --help.
std::string ExitStatusHelp();

struct FrontendOptions {
  std::string server;  // "host:port", for messages
  std::string user;    // empty: ask "Username: "
  // From --password-file: used instead of asking, and only once (a wrong one ends the run).
  std::optional<util::SecretString> password;
  bool register_user = false;  // --register: create the account, then log in
  bool have_ca_file = false;   // for the advice printed when the server is not trusted
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;
  // Waits before a busy login is tried again (service::LoginBusyWait); empty: sleeps.
  std::function<void(std::chrono::seconds)> sleep;
};

// Connects, registers when asked, logs in and runs commands until logout, end of input, a
// signal or the loss of the connection; returns the exit status. The controller's
// BeaconSink and ConnectionLostSink are pointed at `terminal` for the duration of the call.
int RunClient(service::ClientController& client, Terminal& terminal, FrontendOptions& options);

}  // namespace bluetrace::apps
