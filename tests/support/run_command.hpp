// RunCommandForTest: runs a shell command (tests that check our output against the openssl
// command line tool, or run a script of the repository) and captures what it prints.
#pragma once

#include <string>

namespace bluetrace::test {

struct CommandResult {
  int exit_code = -1;  // the command's exit status; -1 when it did not exit normally
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` with /bin/sh (stderr redirected into stdout). Arguments must be quoted by
// the caller, e.g. with ShellQuoteForTest.
CommandResult RunCommandForTest(const std::string& command);

// `s` in single quotes, safe as one shell word.
std::string ShellQuoteForTest(const std::string& s);

}  // namespace bluetrace::test
