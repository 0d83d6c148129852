#include "client_terminal.hpp"

#include <editline/readline.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

namespace bluetrace::apps {
namespace {

// A line longer than this (a script feeding garbage) is cut into pieces; no command or
// password is anywhere near it.
constexpr std::size_t kMaxLineBytes = 4096;
constexpr std::array<int, 4> kSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Process-wide state the signal handler may touch: only async-signal-safe operations
// (tcsetattr, write, lock-free atomics).
std::atomic<int> g_signal{0};
std::atomic<int> g_wake_fd{-1};
std::atomic<int> g_tty_fd{-1};
termios g_saved_termios{};
std::array<struct sigaction, kSignals.size()> g_previous{};

extern "C" void OnSignal(int sig) {
  const int saved_errno = errno;
  const int tty = g_tty_fd.load();
  if (tty >= 0) tcsetattr(tty, TCSANOW, &g_saved_termios);
  // A second signal while the first is being handled (a logout that takes its time) ends
  // the program at once; the terminal is already back in its mode.
  if (g_signal.exchange(sig) != 0) _exit(128 + sig);
  const int fd = g_wake_fd.load();
  const char byte = 's';
  if (fd >= 0) {
    [[maybe_unused]] const ssize_t n = write(fd, &byte, 1);
  }
  errno = saved_errno;
}

// libedit's line callback has no user pointer; one Terminal reads at a time.
struct EditedLine {
  bool done = false;
  bool end = false;
  std::string text;
};
EditedLine* g_edited = nullptr;

extern "C" void OnEditedLine(char* text) {
  if (g_edited == nullptr) return;
  g_edited->done = true;
  if (text == nullptr) {
    g_edited->end = true;
    return;
  }
  g_edited->text = text;
  std::memset(text, 0, std::strlen(text));
  std::free(text);
}

// Tab completion (libedit binds Tab to rl_complete, which asks this function). The names are
// the Terminal's, set while a command line is read; otherwise nothing is completed.
const std::vector<std::string>* g_command_names = nullptr;

extern "C" char* NextCommandName(const char* text, int state) {
  static std::size_t next = 0;
  if (state == 0) next = 0;
  if (g_command_names == nullptr) return nullptr;
  const std::string_view prefix(text);
  while (next < g_command_names->size()) {
    const std::string& name = (*g_command_names)[next++];
    if (name.starts_with(prefix)) return strdup(name.c_str());
  }
  return nullptr;
}

extern "C" char** CompleteCommandName(const char* text, int start, int /*end*/) {
  rl_attempted_completion_over = 1;  // never fall back to file names
  if (g_command_names == nullptr) return nullptr;
  for (int i = 0; i < start; ++i) {
    if (rl_line_buffer[i] != ' ' && rl_line_buffer[i] != '\t')
      return nullptr;  // not the first word
  }
  return rl_completion_matches(text, NextCommandName);
}

void DropCarriageReturn(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

}  // namespace

Terminal::Terminal(TerminalOptions options) : options_(std::move(options)) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    wake_read_ = fds[0];
    wake_write_ = fds[1];
  }
  g_signal = 0;
  g_wake_fd = wake_write_;
  if (options_.interactive && tcgetattr(options_.in_fd, &g_saved_termios) == 0) {
    g_tty_fd = options_.in_fd;
    // Our handler restores the terminal; libedit's own would re-raise to the process group.
    rl_catch_signals = 0;
    rl_readline_name = "bluetrace-client";
    rl_attempted_completion_function = CompleteCommandName;
    using_history();
  }
  if (options_.handle_signals) {
    struct sigaction action {};
    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
      sigaction(kSignals[i], &action, &g_previous[i]);
    }
  }
}

Terminal::~Terminal() {
  if (options_.handle_signals) {
    for (std::size_t i = 0; i < kSignals.size(); ++i)
      sigaction(kSignals[i], &g_previous[i], nullptr);
  }
  const int tty = g_tty_fd.exchange(-1);
  if (tty >= 0) tcsetattr(tty, TCSANOW, &g_saved_termios);
  g_wake_fd = -1;
  if (wake_read_ >= 0) close(wake_read_);
  if (wake_write_ >= 0) close(wake_write_);
  util::WipeString(input_);
}

int Terminal::signal() const { return g_signal.load(); }

void Terminal::SetCommandNames(std::vector<std::string> names) {
  command_names_ = std::move(names);
}

void Terminal::Print(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), options_.out);
  std::fflush(options_.out);
}

void Terminal::PrintError(std::string_view text) {
  std::fflush(options_.out);
  const std::string line = "bluetrace-client: " + std::string(text) + "\n";
  std::fwrite(line.data(), 1, line.size(), options_.err);
  std::fflush(options_.err);
}

void Terminal::Post(std::vector<std::string> lines) {
  {
    util::MutexLock lock(mu_);
    posted_.push_back(std::move(lines));
  }
  const char byte = 'p';
  // A full pipe already holds a wake-up, so a failed write loses nothing.
  [[maybe_unused]] ssize_t n = write(wake_write_, &byte, 1);
}

void Terminal::PrintPosted() { PrintQueued(false); }

void Terminal::Cancel() {
  cancelled_ = true;
  const char byte = 'c';
  [[maybe_unused]] ssize_t n = write(wake_write_, &byte, 1);
}

bool Terminal::PrintQueued(bool fresh_line) {
  std::deque<std::vector<std::string>> batches;
  {
    util::MutexLock lock(mu_);
    batches.swap(posted_);
  }
  if (batches.empty()) return false;
  std::string text = fresh_line ? "\n" : "";
  for (const auto& lines : batches) {
    for (const auto& l : lines) text += l + "\n";
  }
  Print(text);
  return true;
}

Terminal::Wait Terminal::WaitForInput() {
  for (;;) {
    std::array<pollfd, 2> fds = {pollfd{options_.in_fd, POLLIN, 0}, pollfd{wake_read_, POLLIN, 0}};
    const int n = poll(fds.data(), fds.size(), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Wait::kError;
    if (fds[1].revents != 0) return Wait::kWake;
    if (fds[0].revents & (POLLIN | POLLHUP)) return Wait::kInput;
    if (fds[0].revents != 0) return Wait::kError;
  }
}

ReadStatus Terminal::TakeWake() {
  char buf[64];
  while (read(wake_read_, buf, sizeof buf) > 0) {
  }
  if (g_signal.load() != 0) return ReadStatus::kInterrupted;
  return cancelled_ ? ReadStatus::kCancelled : ReadStatus::kLine;
}

ReadStatus Terminal::ReadScriptedLine(std::string_view prompt, std::string& line) {
  for (;;) {
    if (cancelled_) return ReadStatus::kCancelled;  // before lines a script sent ahead
    const std::size_t newline = input_.find('\n');
    if (newline != std::string::npos || input_.size() >= kMaxLineBytes || input_ended_) {
      if (newline == std::string::npos && input_.empty()) return ReadStatus::kEnd;
      const std::size_t take =
          newline != std::string::npos ? newline : std::min(input_.size(), kMaxLineBytes);
      line.assign(input_, 0, take);
      // Rebuild rather than erase, so no copy of a password stays in the old buffer.
      std::string rest = input_.substr(std::min(input_.size(), take + 1));
      util::WipeString(input_);
      input_ = std::move(rest);
      DropCarriageReturn(line);
      return ReadStatus::kLine;
    }
    switch (WaitForInput()) {
      case Wait::kError:
        input_ended_ = true;
        continue;
      case Wait::kWake: {
        // A script's transcript shows posted lines where they happened, after the prompt
        // that was waiting, then that prompt again (unless the read ends here).
        const ReadStatus why = TakeWake();
        const bool printed = PrintQueued(!prompt.empty());
        if (why != ReadStatus::kLine) return why;
        if (printed) Print(prompt);
        continue;
      }
      case Wait::kInput:
        break;
    }
    char buf[4096];
    const ssize_t n = read(options_.in_fd, buf, sizeof buf);
    if (n > 0) input_.append(buf, static_cast<std::size_t>(n));
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) input_ended_ = true;
    std::memset(buf, 0, sizeof buf);
  }
}

ReadStatus Terminal::ReadLine(std::string_view prompt, bool command, std::string& line) {
  line.clear();
  PrintQueued(false);
  if (options_.interactive) return ReadEditedLine(prompt, command, line);
  Print(prompt);
  const ReadStatus status = ReadScriptedLine(prompt, line);
  Print(status == ReadStatus::kLine ? line + "\n" : "\n");
  return status;
}

ReadStatus Terminal::ReadSecret(std::string_view prompt, util::SecretString& secret) {
  secret.clear();
  PrintQueued(false);
  std::string line;
  ReadStatus status;
  if (options_.interactive) {
    status = ReadHiddenLine(prompt, line);
  } else {
    Print(prompt);
    status = ReadScriptedLine(prompt, line);
    Print("\n");
  }
  if (status == ReadStatus::kLine) secret = util::SecretString(std::move(line));
  util::WipeString(line);
  return status;
}

void Terminal::HoldTypeAhead() {
  // Between lines libedit hands the terminal back in its usual mode, where keys typed while
  // a command runs would be echoed by the kernel and a Ctrl-D taken as end of file before
  // libedit sees it. Without echo and line processing they wait, as bytes, for the next
  // line; signals (Ctrl-C) still work.
  termios hold = g_saved_termios;
  hold.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON);
  hold.c_cc[VMIN] = 1;
  hold.c_cc[VTIME] = 0;
  tcsetattr(options_.in_fd, TCSANOW, &hold);
}

ReadStatus Terminal::ReadEditedLine(std::string_view prompt, bool command, std::string& line) {
  static const bool dumb = [] {
    const char* term = std::getenv("TERM");
    return term == nullptr || std::strcmp(term, "dumb") == 0;
  }();
  EditedLine edited;
  g_edited = &edited;
  g_command_names = command ? &command_names_ : nullptr;
  const std::string prompt_text(prompt);
  rl_callback_handler_install(prompt_text.c_str(), OnEditedLine);
  // Raw mode from the start: otherwise the first key of each line is echoed by the kernel
  // and held until Enter.
  rl_prep_terminal(1);
  ReadStatus status = ReadStatus::kLine;
  while (!edited.done) {
    if (cancelled_) {
      status = ReadStatus::kCancelled;
      break;
    }
    const Wait w = WaitForInput();
    if (w == Wait::kWake) {
      if (const ReadStatus why = TakeWake(); why != ReadStatus::kLine) {
        status = why;
        break;
      }
      // Clear the line being edited, print above it, and let libedit draw it again.
      std::fputs(dumb ? "\n" : "\r\033[K", options_.out);
      if (PrintQueued(false)) rl_forced_update_display();
      continue;
    }
    int available = 0;
    if (w == Wait::kError || ioctl(options_.in_fd, FIONREAD, &available) != 0 || available <= 0) {
      // A hung-up terminal: libedit would read nothing and never call back.
      status = ReadStatus::kEnd;
      break;
    }
    rl_callback_read_char();
  }
  rl_callback_handler_remove();
  rl_deprep_terminal();
  g_edited = nullptr;
  g_command_names = nullptr;
  HoldTypeAhead();
  if (status == ReadStatus::kLine && edited.end) status = ReadStatus::kEnd;
  if (status != ReadStatus::kLine) {
    Print("\n");
    util::WipeString(edited.text);
    return status;
  }
  line = std::move(edited.text);
  DropCarriageReturn(line);
  if (command && !line.empty()) add_history(line.c_str());
  return status;
}

ReadStatus Terminal::ReadHiddenLine(std::string_view prompt, std::string& line) {
  termios before{};
  const bool have_mode = tcgetattr(options_.in_fd, &before) == 0;
  if (have_mode) {
    // From the terminal's own mode (line editing by the kernel), without echo. ECHONL
    // still echoes the Enter, so the cursor moves on as after any other answer. Set before
    // the prompt appears, so nothing typed after it can be echoed.
    termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= static_cast<tcflag_t>(ECHONL | ICANON);
    tcsetattr(options_.in_fd, TCSANOW, &quiet);
  }
  Print(prompt);
  ReadStatus status = ReadStatus::kLine;
  for (;;) {
    if (cancelled_) {
      status = ReadStatus::kCancelled;
      break;
    }
    const Wait w = WaitForInput();
    if (w == Wait::kWake) {
      if (const ReadStatus why = TakeWake(); why != ReadStatus::kLine) {
        status = why;
        break;
      }
      if (PrintQueued(true)) Print(prompt);
      continue;
    }
    char buf[512];
    const ssize_t n = w == Wait::kError ? 0 : read(options_.in_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      status = ReadStatus::kEnd;
      break;
    }
    line.append(buf, static_cast<std::size_t>(n));
    std::memset(buf, 0, sizeof buf);
    const std::size_t newline = line.find('\n');
    if (newline != std::string::npos) {
      line.resize(newline);
      break;
    }
    if (line.size() > kMaxLineBytes) break;
  }
  if (have_mode) tcsetattr(options_.in_fd, TCSANOW, &before);
  if (status != ReadStatus::kLine) {
    Print("\n");
    util::WipeString(line);
  }
  DropCarriageReturn(line);
  return status;
}

}  // namespace bluetrace::apps
