#include "support/client_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>

#include "support/server_process.hpp"

extern char** environ;

namespace bluetrace::test {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The test's environment with `overrides` ("NAME=value") replacing or adding entries.
std::vector<std::string> Environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& o : overrides) replaced |= o.substr(0, o.find('=')) == name;
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (auto& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

int StatusOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

int CountOccurrences(std::string_view haystack, std::string_view needle) {
  int n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string_view::npos && !needle.empty();
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

ClientProcess::ClientProcess(std::string binary, std::string work_dir, const std::string& name,
                             std::vector<std::string> args, const std::vector<std::string>& env)
    : out_path_(work_dir + "/" + name + ".stdout"), err_path_(work_dir + "/" + name + ".stderr") {
  // A client that has exited must not take the test down when the test writes to it.
  signal(SIGPIPE, SIG_IGN);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addchdir_np(&actions, work_dir.c_str());
  args.insert(args.begin(), binary);
  std::vector<std::string> envs = Environment(env);
  auto argv = Pointers(args);
  auto envp = Pointers(envs);
  pid_t pid = -1;
  if (posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data()) == 0) {
    pid_ = pid;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(fds[0]);
  stdin_fd_ = fds[1];
}

ClientProcess::~ClientProcess() {
  CloseStdin();
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void ClientProcess::Write(std::string_view text) {
  while (stdin_fd_ >= 0 && !text.empty()) {
    const ssize_t n = write(stdin_fd_, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void ClientProcess::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

bool ClientProcess::Reap(bool block) {
  if (pid_ <= 0) return true;
  int status = 0;
  if (waitpid(pid_, &status, block ? 0 : WNOHANG) != pid_) return false;
  exit_status_ = StatusOf(status);
  pid_ = -1;
  return true;
}

bool ClientProcess::running() { return !Reap(false); }

bool ClientProcess::WaitForOutput(std::string_view text, int count,
                                  std::chrono::milliseconds timeout) {
  bool exited = false;
  WaitFor(
      [&] {
        if (CountOccurrences(Stdout(), text) >= count) return true;
        exited = Reap(false);
        return exited;
      },
      timeout);
  return CountOccurrences(Stdout(), text) >= count;
}

int ClientProcess::WaitExit(std::chrono::milliseconds timeout) {
  WaitFor([&] { return Reap(false); }, timeout);
  return pid_ > 0 ? -1 : exit_status_;
}

void ClientProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

std::string ClientProcess::Stdout() const { return Slurp(out_path_); }
std::string ClientProcess::Stderr() const { return Slurp(err_path_); }

PtyProcess::PtyProcess(const std::string& binary, const std::string& work_dir,
                       const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> all_args = args;
  all_args.insert(all_args.begin(), binary);
  std::vector<std::string> overrides = env;
  overrides.insert(overrides.begin(), "TERM=xterm");
  std::vector<std::string> envs = Environment(overrides);
  // Everything the child needs is built before fork: after it only exec-safe calls.
  auto argv = Pointers(all_args);
  auto envp = Pointers(envs);
  winsize size{};
  size.ws_row = 24;
  size.ws_col = 120;
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid == 0) {
    if (chdir(work_dir.c_str()) == 0) execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  if (pid < 0) return;
  pid_ = pid;
  master_ = master;
  fcntl(master_, F_SETFL, fcntl(master_, F_GETFL) | O_NONBLOCK);
  fcntl(master_, F_SETFD, FD_CLOEXEC);
}

PtyProcess::~PtyProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (master_ >= 0) close(master_);
}

void PtyProcess::Write(std::string_view text) {
  while (master_ >= 0 && !text.empty()) {
    const ssize_t n = write(master_, text.data(), text.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool PtyProcess::Drain() {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(master_, buf, sizeof buf);
    if (n > 0) {
      output_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // EAGAIN: nothing more now; EIO or 0: the program closed the terminal.
    return n < 0 && errno == EAGAIN;
  }
}

bool PtyProcess::WaitForOutput(std::string_view text, int count,
                               std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (master_ >= 0) {
    const bool open = Drain();
    if (CountOccurrences(output_, text) >= count) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (!open || left.count() <= 0) return false;
    pollfd p{master_, POLLIN, 0};
    poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 50)));
  }
  return false;
}

unsigned PtyProcess::local_flags() const {
  termios t{};
  if (master_ < 0 || tcgetattr(master_, &t) != 0) return 0;
  return static_cast<unsigned>(t.c_lflag);
}

int PtyProcess::WaitExit(std::chrono::milliseconds timeout) {
  WaitFor(
      [&] {
        if (master_ >= 0) Drain();
        if (pid_ <= 0) return true;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
        exit_status_ = StatusOf(status);
        pid_ = -1;
        return true;
      },
      timeout);
  return pid_ > 0 ? -1 : exit_status_;
}

void PtyProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

}  // namespace bluetrace::test
