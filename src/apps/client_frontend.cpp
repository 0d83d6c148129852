#include "client_frontend.hpp"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/service/client_rules.hpp"
#include "bluetrace/service/password_rules.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::apps {
namespace {

using service::ClientLoginStatus;
using util::StatusCode;

// The original's texts (docs/ORIGINAL.md §5).
constexpr std::string_view kWelcome = "Welcome to the BlueTrace Simulator!\n";
constexpr std::string_view kWrongPassword = "Invalid Password. Please try again\n";
constexpr std::string_view kNowBlocked =
    "Invalid Password. Your account has been blocked. Please try again later\n";
constexpr std::string_view kStillBlocked =
    "Your account is blocked due to multiple login failures. Please try again later\n";
constexpr std::string_view kInvalidCommand = "Error. Invalid command\n";

// Ours, for people new to the original's commands: `help` (or `?`), and the usage printed
// after the original's error for a Beacon line that is not well formed.
constexpr std::string_view kHelp =
    "Commands:\n"
    "  Download_tempID               get a new TempID from the server\n"
    "  Upload_contact_log            send the contact log to the server\n"
    "  Beacon <dest IP> <dest port>  send the current TempID to another client (UDP)\n"
    "  Deregister                    withdraw consent: delete this account and its TempIDs\n"
    "  logout                        log out and exit\n"
    "  help                          list these commands (also ?)\n";
constexpr std::string_view kBeaconUsage = "Usage: Beacon <dest IP> <dest port>\n";
// What Tab completes as the first word at the `> ` prompt.
const std::vector<std::string> kCommandNames = {
    "Download_tempID", "Upload_contact_log", "Beacon", "Deregister", "logout", "help"};

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

std::optional<std::uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// The controller keeps kUnavailable for a connection that is gone; a busy or rate-limiting
// server is kResourceExhausted and leaves the session usable (client_controller.hpp).
bool ConnectionLost(const util::Status& status) {
  return status.code() == StatusCode::kUnavailable;
}

void SleepSeconds(std::int64_t seconds) {
  timespec ts{static_cast<time_t>(seconds), 0};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

// One run of the client: the steps of RunClient, each returning an exit status when the
// run ends there.
class Conversation {
 public:
  Conversation(service::ClientController& client, Terminal& terminal, FrontendOptions& options)
      : client_(client), terminal_(terminal), options_(options), user_(options.user) {}

  // Any thread (the controller's ConnectionLostSink): the server went away while no command
  // was running. The prompt that waits ends, and the run with it (Lost).
  void OnConnectionLost(const util::Status& why) {
    {
      util::MutexLock lock(lost_mu_);
      lost_while_idle_ = why;
    }
    terminal_.Cancel();
  }

  int Run() {
    if (auto end = ConnectToServer()) return *end;
    if (options_.register_user) {
      if (auto end = RegisterUser()) return *end;
    }
    if (auto end = LogIn()) return *end;
    return Commands();
  }

 private:
  std::optional<int> Interrupted() const {
    if (terminal_.signal() == 0) return std::nullopt;
    return 128 + terminal_.signal();
  }

  // The end of the run after a failure reaching the server.
  int Lost(const util::Status& status) {
    terminal_.PrintError("lost the connection to the server " + options_.server + ": " +
                         status.message());
    return kExitUnreachable;
  }

  // The end of the run when a prompt's read ended without a line (before a login).
  int ReadEnded(ReadStatus status) {
    switch (status) {
      case ReadStatus::kInterrupted:
        return 128 + terminal_.signal();
      case ReadStatus::kCancelled:
        return Lost(LostWhileIdle());
      default:
        return kExitNoLogin;
    }
  }

  util::Status LostWhileIdle() {
    util::MutexLock lock(lost_mu_);
    return lost_while_idle_;
  }

  std::optional<int> ConnectToServer() {
    service::TrustPrompt trust;
    if (terminal_.interactive()) {
      trust = [this](const std::string& host_port, const std::string& fingerprint) {
        terminal_.Print("The authenticity of the server " + host_port +
                        " cannot be established.\nIts certificate's fingerprint is " + fingerprint +
                        ".\n");
        std::string answer;
        if (terminal_.ReadLine("Trust this server? [y/N] ", false, answer) != ReadStatus::kLine) {
          return false;
        }
        const auto words = Words(answer);
        return words.size() == 1 && (words[0] == "y" || words[0] == "Y" || words[0] == "yes" ||
                                     words[0] == "Yes" || words[0] == "YES");
      };
    }
    auto identity = client_.Connect(trust);
    if (auto end = Interrupted()) return end;
    if (identity.ok()) return std::nullopt;
    // The controller's messages name the address they are about.
    const util::Status& st = identity.status();
    switch (st.code()) {
      case StatusCode::kPermissionDenied:
        terminal_.PrintError("not trusting the server " + options_.server + ": " + st.message());
        if (!options_.have_ca_file && !terminal_.interactive() &&
            st.message().find("--ca-file") == std::string::npos) {
          terminal_.PrintError(
              "pass --ca-file <the server's certificate or CA>, or run the client once in a "
              "terminal to confirm the server's fingerprint");
        }
        return kExitUntrusted;
      case StatusCode::kUnavailable:
        terminal_.PrintError(st.message());
        return kExitUnreachable;
      default:
        terminal_.PrintError(st.message());
        return kExitError;
    }
  }

  // The server gives a connection limited time to log in (its timeouts.login), and the
  // connection is made before the prompts: a person who types slowly gets a new connection
  // rather than an error. The server's identity is settled by then, so no prompt.
  bool Reconnected(const util::Status& why) {
    return ConnectionLost(why) && client_.Connect(service::TrustPrompt()).ok();
  }

  // Reads the user name unless --user gave it.
  std::optional<int> AskUser() {
    if (!user_.empty()) return std::nullopt;
    std::string line;
    for (;;) {
      const ReadStatus status = terminal_.ReadLine("Username: ", false, line);
      if (status != ReadStatus::kLine) return ReadEnded(status);
      const auto words = Words(line);
      if (!words.empty()) {
        // Phone numbers may be typed with inner spaces ("+61 410 888 888").
        user_ = std::string(words.front().data(),
                            static_cast<std::size_t>(words.back().data() + words.back().size() -
                                                     words.front().data()));
        return std::nullopt;
      }
    }
  }

  std::optional<int> AskPassword(std::string_view prompt, util::SecretString& password) {
    const ReadStatus status = terminal_.ReadSecret(prompt, password);
    if (status != ReadStatus::kLine) return ReadEnded(status);
    return std::nullopt;
  }

  // --register. The user name and the new password are checked by the server's default
  // rules (protocol/phone.hpp, service/password_rules.hpp) as soon as each is typed, so no
  // one types a password twice to learn that the user name was wrong. In a terminal, what
  // was refused is asked again: the user name when it is no phone number or already
  // registered, only the password when it breaks the rules (a server may have stricter
  // ones). A script, --user or --password-file cannot answer again: the run ends there, as
  // it does for any other refusal (registration disabled, busy).
  std::optional<int> RegisterUser() {
    terminal_.Print("Registering a new user. The username is a phone number, e.g. +61410888888.\n");
    const bool can_ask_user = terminal_.interactive() && options_.user.empty();
    const bool can_ask_password = terminal_.interactive() && !options_.password;
    bool have_new_password = false;
    for (;;) {
      if (auto end = AskUser()) return end;
      if (auto phone = protocol::CanonicalPhone(user_); !phone.ok()) {
        terminal_.Print("Registration failed: " + phone.status().message() + "\n");
        if (!can_ask_user) return kExitNoLogin;
        user_.clear();
        continue;
      }
      if (!have_new_password) {
        if (auto end = ChooseNewPassword(can_ask_password)) return end;
        have_new_password = true;
      }
      util::Status st = client_.Register(user_, password_);
      if (!st.ok() && Reconnected(st)) st = client_.Register(user_, password_);
      if (st.ok()) {
        terminal_.Print("Registered " + user_ + "\n");
        have_password_ = true;
        return std::nullopt;
      }
      if (ConnectionLost(st)) return Lost(st);
      terminal_.Print("Registration failed: " + st.message() + "\n");
      if (st.code() == StatusCode::kInvalidArgument && can_ask_password) {
        // The user name passed the check the server makes (the same CanonicalPhone), so
        // what the server refused is the password.
        have_new_password = false;
      } else if (st.code() == StatusCode::kAlreadyExists && can_ask_user) {
        user_.clear();
      } else {
        return kExitNoLogin;
      }
    }
  }

  // Sets password_ to the new account's password: from --password-file, else typed twice,
  // its length checked before the second time.
  std::optional<int> ChooseNewPassword(bool can_ask_again) {
    if (options_.password) {
      password_ = std::move(*options_.password);
      options_.password.reset();
      if (util::Status st = service::CheckPasswordLength(password_.size()); !st.ok()) {
        terminal_.Print("Registration failed: " + st.message() + "\n");
        return kExitNoLogin;
      }
      return std::nullopt;
    }
    for (;;) {
      util::SecretString first, second;
      if (auto end = AskPassword("Password: ", first)) return end;
      if (util::Status st = service::CheckPasswordLength(first.size()); !st.ok()) {
        terminal_.Print("Registration failed: " + st.message() + "\n");
        if (!can_ask_again) return kExitNoLogin;
        continue;
      }
      if (auto end = AskPassword("Confirm password: ", second)) return end;
      if (first == second) {
        password_ = std::move(first);
        return std::nullopt;
      }
      terminal_.Print("Passwords do not match. Please try again\n");
    }
  }

  std::optional<int> LogIn() {
    if (auto end = AskUser()) return end;
    if (!have_password_) {
      if (options_.password) {
        password_ = std::move(*options_.password);
        options_.password.reset();
        from_file_ = true;
      } else if (auto end = AskPassword("Password: ", password_)) {
        return end;
      }
    }
    int busy = 0;
    for (;;) {
      auto result = client_.Login(user_, password_);
      if (!result.ok() && Reconnected(result.status())) result = client_.Login(user_, password_);
      if (auto end = Interrupted()) return end;
      if (!result.ok()) return Lost(result.status());
      switch (result->status) {
        case ClientLoginStatus::kWelcome:
          password_.clear();
          terminal_.Print(kWelcome);
          return std::nullopt;
        case ClientLoginStatus::kWrongPassword:
          terminal_.Print(kWrongPassword);
          if (from_file_) {
            terminal_.PrintError("the password from --password-file was not accepted");
            return kExitNoLogin;
          }
          if (auto end = AskPassword("Password: ", password_)) return end;
          break;
        case ClientLoginStatus::kBlocked:
          terminal_.Print(kNowBlocked);
          return kExitBlocked;
        case ClientLoginStatus::kStillBlocked:
          terminal_.Print(kStillBlocked);
          return kExitBlocked;
        case ClientLoginStatus::kBusy: {
          const auto wait = service::LoginBusyWait(++busy, result->seconds);
          if (!wait) {
            terminal_.PrintError("the server stayed busy; please try again later");
            return kExitUnreachable;
          }
          terminal_.Print("The server is busy. Trying again...\n");
          if (options_.sleep) {
            options_.sleep(*wait);
          } else {
            SleepSeconds(wait->count());
          }
          break;
        }
        case ClientLoginStatus::kError:
          terminal_.PrintError("login failed: " + result->message);
          return kExitNoLogin;
      }
    }
  }

  // A failed command: the run ends when the connection is gone (after a login nothing else
  // fails a precondition), else the user may go on.
  std::optional<int> CommandFailed(const util::Status& status) {
    if (ConnectionLost(status) || status.code() == StatusCode::kFailedPrecondition) {
      return Lost(status);
    }
    terminal_.Print("Error. " + status.message() + "\n");
    return std::nullopt;
  }

  std::string Time(std::int64_t t) const {
    return protocol::FormatTimestamp(t, options_.time_mode);
  }

  std::optional<int> DownloadTempId() {
    auto record = client_.DownloadTempId();
    if (!record.ok()) return CommandFailed(record.status());
    terminal_.Print("TempID:\n" + record->id.ToString() + "\n");
    return std::nullopt;
  }

  std::optional<int> UploadContactLog() {
    util::SecretString code;
    if (client_.upload_code_required()) {
      // The health authority's code, typed as given (case, spaces and hyphens do not matter).
      std::string line;
      const ReadStatus status = terminal_.ReadLine("Upload code: ", false, line);
      if (status == ReadStatus::kCancelled) return Lost(LostWhileIdle());
      if (status != ReadStatus::kLine) {
        util::WipeString(line);
        return Interrupted();
      }
      code = util::SecretString(std::move(line));
    }
    auto upload = client_.UploadContactLog(code);
    if (!upload.ok()) return CommandFailed(upload.status());
    std::string text;
    for (const auto& e : upload->entries) {
      text += e.id.ToString() + ",\n" + Time(e.start) + ",\n" + Time(e.expiry) + ";\n";
    }
    text += std::to_string(upload->received) + (upload->received == 1 ? " entry" : " entries") +
            " received by the server\n";
    terminal_.Print(text);
    return std::nullopt;
  }

  // Withdrawal of consent: the password again, then the account is gone and the run ends.
  std::optional<int> Deregister() {
    util::SecretString password;
    const ReadStatus status = terminal_.ReadSecret("Password: ", password);
    if (status == ReadStatus::kCancelled) return Lost(LostWhileIdle());
    if (status != ReadStatus::kLine) return Interrupted();
    util::Status st = client_.Deregister(password);
    if (!st.ok()) return CommandFailed(st);  // a wrong password: the user may go on
    terminal_.Print(
        "Deregistered: your account and the link from your TempIDs to your phone "
        "number are deleted.\n");
    return kExitOk;
  }

  std::optional<int> Beacon(std::string_view ip, std::uint16_t port) {
    auto sent = client_.SendBeacon(std::string(ip), port);
    if (!sent.ok()) {
      auto end = CommandFailed(sent.status());
      // kInvalidArgument is an address that is no IP literal (client_controller.hpp).
      if (!end && sent.status().code() == StatusCode::kInvalidArgument) {
        terminal_.Print(kBeaconUsage);
      }
      return end;
    }
    terminal_.Print(sent->id.ToString() + ",\n" + Time(sent->start) + ",\n" + Time(sent->expiry) +
                    ".\n");
    return std::nullopt;
  }

  int Commands() {
    std::string line;
    for (;;) {
      const ReadStatus status = terminal_.ReadLine("> ", true, line);
      if (status == ReadStatus::kCancelled) {
        // The connection is gone: there is no one to log out from.
        terminal_.PrintPosted();
        return Lost(LostWhileIdle());
      }
      if (status != ReadStatus::kLine) {
        // End of input logs out like the command; a signal does too, on its way out.
        (void)client_.Logout();
        terminal_.PrintPosted();
        return status == ReadStatus::kEnd ? kExitOk : 128 + terminal_.signal();
      }
      const auto words = Words(line);
      std::optional<int> end;
      if (words.empty()) {
        continue;
      } else if (words.size() == 1 && words[0] == "Download_tempID") {
        end = DownloadTempId();
      } else if (words.size() == 1 && words[0] == "Upload_contact_log") {
        end = UploadContactLog();
      } else if (words.size() == 1 && words[0] == "Deregister") {
        end = Deregister();
      } else if (words.size() == 3 && words[0] == "Beacon" && ParsePort(words[2])) {
        end = Beacon(words[1], *ParsePort(words[2]));
      } else if (words[0] == "Beacon") {
        terminal_.Print(kInvalidCommand);
        terminal_.Print(kBeaconUsage);
      } else if (words.size() == 1 && (words[0] == "help" || words[0] == "?")) {
        terminal_.Print(kHelp);
      } else if (words.size() == 1 && words[0] == "logout") {
        (void)client_.Logout();
        terminal_.PrintPosted();
        return kExitOk;
      } else {
        terminal_.Print(kInvalidCommand);
      }
      if (!end) end = Interrupted();
      if (end) {
        terminal_.PrintPosted();
        return *end;
      }
    }
  }

  service::ClientController& client_;
  Terminal& terminal_;
  FrontendOptions& options_;
  std::string user_;
  util::SecretString password_;
  bool have_password_ = false;  // registration already asked for it
  bool from_file_ = false;

  util::Mutex lost_mu_;
  util::Status lost_while_idle_ GUARDED_BY(lost_mu_) =
      util::Unavailable("the server closed the connection");
};

}  // namespace

std::string ExitStatusHelp() {
  return "Exit status:\n"
         "  0  logged out, or the input ended after a login\n"
         "  1  an unexpected error (local files, the server's answers)\n"
         "  2  bad flags or configuration\n"
         "  3  the server could not be reached, or the connection was lost\n"
         "  4  the server's certificate is not trusted (CA, or a changed fingerprint)\n"
         "  5  the account is blocked\n"
         "  6  no login: the input ended first, a registration or --password-file was "
         "refused\n"
         "  128+N  ended by signal N (SIGINT, SIGTERM, SIGHUP, SIGQUIT)\n";
}

int RunClient(service::ClientController& client, Terminal& terminal, FrontendOptions& options) {
  terminal.SetCommandNames(kCommandNames);
  Conversation conversation(client, terminal, options);
  client.SetBeaconSink(
      [&terminal](const std::vector<std::string>& lines) { terminal.Post(lines); });
  client.SetConnectionLostSink(
      [&conversation](const util::Status& why) { conversation.OnConnectionLost(why); });
  const int status = conversation.Run();
  client.SetConnectionLostSink(nullptr);
  client.SetBeaconSink(nullptr);
  terminal.PrintPosted();
  return status;
}

}  // namespace bluetrace::apps
