// Terminal: bluetrace-client's console, in one of two modes.
//
// Interactive (stdin is a terminal): lines are read with libedit (line editing and
// history), the password with echo turned off, and the terminal's original mode is put
// back on every exit path: the destructor, and SIGINT/SIGTERM/SIGHUP/SIGQUIT, whose handler
// restores it before anything else happens. Scripted (stdin is a pipe or a file): lines are
// read as they come and the line read is echoed after its prompt (never a password), so a
// transcript reads like the terminal session it stands for.
//
// Another thread can end the reading for good with Cancel() (the server went away while a
// prompt waits): the read in progress returns at once, in either mode.
//
// Output that arrives unprompted (a received beacon, from another thread) is handed to
// Post(), which only queues it and wakes the main thread; the main thread prints it while it
// waits for input, on a fresh line, then draws the prompt again (libedit redraws the line
// being edited). So only the main thread ever writes to the output, and a beacon can never
// land in the middle of a prompt or of a command's output.
//
// Threads: everything but Post() belongs to the thread that created the Terminal. One
// Terminal at a time per process (the signal handler and libedit are process-wide).
#pragma once

#include <atomic>
#include <cstdio>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::apps {

struct TerminalOptions {
  int in_fd = 0;
  std::FILE* out = stdout;
  std::FILE* err = stderr;  // PrintError's "bluetrace-client: ..." lines
  // Interactive mode needs in_fd to be the controlling terminal on stdin and out stdout
  // (libedit reads and writes those).
  bool interactive = false;
  // Install the signal handlers (the program does; unit tests may not want them).
  bool handle_signals = true;
};

enum class ReadStatus {
  kLine,         // a line was read
  kEnd,          // end of input (Ctrl-D on an empty line, a closed pipe)
  kInterrupted,  // SIGINT, SIGTERM, SIGHUP or SIGQUIT arrived; see Terminal::signal()
  kCancelled,    // Cancel() was called: the program must stop reading (the server went away)
};

class Terminal {
 public:
  explicit Terminal(TerminalOptions options);
  // Puts the terminal mode back and removes the signal handlers.
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Prints `prompt` and reads one line, without its line end (a CR before the LF is dropped
  // too). `command` marks the program's command line (interactive mode): a non-empty line
  // is added to the libedit history, and Tab completes the first word from
  // SetCommandNames. Elsewhere Tab completes nothing (no file names at a Username prompt).
  ReadStatus ReadLine(std::string_view prompt, bool command, std::string& line);

  // The words Tab completes at the start of a command line (interactive mode).
  void SetCommandNames(std::vector<std::string> names);

  // The same without echo: interactive mode turns the terminal's echo off while the
  // password is typed; scripted mode does not echo the line after the prompt.
  ReadStatus ReadSecret(std::string_view prompt, util::SecretString& secret);

  // Main thread: writes `text` as it is and flushes.
  void Print(std::string_view text);

  // Main thread: writes "bluetrace-client: <text>" and a line end to the error stream.
  void PrintError(std::string_view text);

  // Any thread: queues complete lines (no line ends) to be printed by the main thread the
  // next time it waits for input or calls PrintPosted().
  void Post(std::vector<std::string> lines);

  // Main thread: prints whatever Post() queued.
  void PrintPosted();

  // Any thread: ends the read in progress, and every later one, with kCancelled (what was
  // queued by Post() is still printed first).
  void Cancel();

  // The signal that interrupted a read, or 0.
  int signal() const;
  bool interactive() const { return options_.interactive; }

 private:
  enum class Wait { kInput, kWake, kError };
  // Waits until in_fd is readable or the wake pipe is written (a post, a signal, a cancel).
  Wait WaitForInput();
  // Drains the wake pipe; why a read must end now (kInterrupted, kCancelled), or kLine when
  // it goes on.
  ReadStatus TakeWake();
  // Prints queued lines, reporting whether there were any.
  bool PrintQueued(bool fresh_line);
  ReadStatus ReadScriptedLine(std::string_view prompt, std::string& line);
  ReadStatus ReadEditedLine(std::string_view prompt, bool command, std::string& line);
  ReadStatus ReadHiddenLine(std::string_view prompt, std::string& line);
  // Interactive mode, between lines: keys typed ahead are kept for libedit.
  void HoldTypeAhead();

  TerminalOptions options_;
  int wake_read_ = -1;
  int wake_write_ = -1;
  std::vector<std::string> command_names_;
  std::string input_;  // scripted mode: bytes read but not yet returned as lines
  bool input_ended_ = false;
  std::atomic<bool> cancelled_{false};

  util::Mutex mu_;
  std::deque<std::vector<std::string>> posted_ GUARDED_BY(mu_);
};

}  // namespace bluetrace::apps
