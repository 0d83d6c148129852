// ClientProcess and PtyProcess: run a real program (bluetrace-client) for end-to-end tests
// and talk to it step by step, as a script or a person would.
//
// ClientProcess gives the child a stdin pipe the test writes to (and may keep open, so the
// client stays alive to receive beacons) and sends stdout and stderr to files in the test's
// work directory. PtyProcess runs the child on a pseudo-terminal (forkpty) and reads what
// it draws. Only the processes they started are signalled, by pid; every wait is bounded.
// Not thread-safe; one test thread drives each.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace bluetrace::test {

class ClientProcess {
 public:
  // Starts `binary` with `args` in `work_dir`; stdout and stderr go to
  // <work_dir>/<name>.stdout and .stderr. `env` entries ("NAME=value") replace or extend
  // the test's environment.
  ClientProcess(std::string binary, std::string work_dir, const std::string& name,
                std::vector<std::string> args, const std::vector<std::string>& env = {});
  // Closes stdin and kills the process (SIGKILL) if it still runs.
  ~ClientProcess();
  ClientProcess(const ClientProcess&) = delete;
  ClientProcess& operator=(const ClientProcess&) = delete;

  // Writes to the child's stdin (no-op once closed).
  void Write(std::string_view text);
  void CloseStdin();

  // Waits until stdout holds `text` at least `count` times; false when the process exits
  // without it or `timeout` passes.
  bool WaitForOutput(std::string_view text, int count = 1,
                     std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Waits for the process to exit by itself; its exit status (128 + N after signal N), or
  // -1 on timeout.
  int WaitExit(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void Signal(int sig);

  std::string Stdout() const;
  std::string Stderr() const;
  bool running();

 private:
  bool Reap(bool block);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::string out_path_;
  std::string err_path_;
  int exit_status_ = -1;
};

class PtyProcess {
 public:
  // Starts `binary` with `args` in `work_dir` on a new pseudo-terminal, with TERM=xterm
  // and `env` added to the test's environment.
  PtyProcess(const std::string& binary, const std::string& work_dir,
             const std::vector<std::string>& args, const std::vector<std::string>& env = {});
  ~PtyProcess();
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;

  // Types `text` (use "\r" for Enter, as a terminal sends).
  void Write(std::string_view text);

  // Reads what the program drew until it holds `text` at least `count` times in all;
  // false when the program ends first or `timeout` passes.
  bool WaitForOutput(std::string_view text, int count = 1,
                     std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Everything drawn so far (line ends as the terminal sends them, "\r\n").
  const std::string& output() const { return output_; }

  // The terminal's local flags (c_lflag) now, e.g. to see whether ECHO is on.
  unsigned local_flags() const;

  int WaitExit(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void Signal(int sig);

 private:
  // Appends what is readable now; false once the terminal has no writer left.
  bool Drain();

  pid_t pid_ = -1;
  int master_ = -1;
  std::string output_;
  int exit_status_ = -1;
};

// Counts the occurrences of `needle` in `haystack`.
int CountOccurrences(std::string_view haystack, std::string_view needle);

}  // namespace bluetrace::test
