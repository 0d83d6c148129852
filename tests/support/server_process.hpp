// ServerProcess: runs the real bluetrace-server binary for end-to-end tests, in a state
// directory of the test's, and stops it again. Only processes it started are signalled
// (by their pid); every wait is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace bluetrace::test {

class ServerProcess {
 public:
  // `args` follow the program name; stdout and stderr go to files in `work_dir`, which is
  // also the working directory.
  ServerProcess(std::string binary, std::string work_dir, std::vector<std::string> args);
  // Kills the process (SIGKILL) if it still runs.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Waits until `ready_file` holds the bound port (returns it) or the process exits or
  // `timeout` passes (returns 0).
  std::uint16_t WaitReady(const std::string& ready_file,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Waits for the process to exit by itself; its exit status, or -1 on timeout / signal.
  int WaitExit(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Sends `sig` to the process (if it still runs).
  void Signal(int sig);

  // Sends SIGTERM and waits for the exit status (-1 when it did not exit in time).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  std::string Stdout() const;
  std::string Stderr() const;
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  std::string out_path_;
  std::string err_path_;
  int exit_status_ = -1;
};

// Path of a program built by this tree (BLUETRACE_BIN_DIR is set by CMake).
std::string ProgramPath(const std::string& name);

// Makes `dir` (a new directory) a test server's state directory: the original's
// credentials.txt and tempIDs.txt, and `dir`/`config_name` binding 127.0.0.1 with fast
// Argon2id, generous rate limits and then `extra_toml` (more keys and sections).
void PrepareServerDirForTest(const std::string& dir, const std::string& config_name,
                             const std::string& extra_toml = "");

// Polls `predicate` every 20 ms until it holds or `timeout` passes.
template <typename Pred>
bool WaitFor(Pred predicate, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (predicate()) return true;
    struct timespec ts {
      0, 20'000'000
    };
    nanosleep(&ts, nullptr);
  }
  return predicate();
}

}  // namespace bluetrace::test
