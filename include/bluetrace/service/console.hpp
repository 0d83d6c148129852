// Console: where the server prints the original assignment's console lines (docs/ORIGINAL.md §3),
// separate from the logs. Print() takes a block of complete lines and prints it as a
// unit, so blocks of concurrent sessions never interleave. Thread-safe.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::service {

class Console {
 public:
  virtual ~Console() = default;
  virtual void Print(std::string_view block) = 0;
};

// Writes to a stdio stream (stdout by default) and flushes after every block.
class StreamConsole final : public Console {
 public:
  explicit StreamConsole(std::FILE* stream = stdout) : stream_(stream) {}
  void Print(std::string_view block) override;

 private:
  std::FILE* stream_;
  util::Mutex mu_;
};

// Discards everything (console_output = false).
class NullConsole final : public Console {
 public:
  void Print(std::string_view) override {}
};

// Keeps everything printed (tests, embedding).
class CapturingConsole final : public Console {
 public:
  void Print(std::string_view block) override;
  std::string Text() const;

 private:
  mutable util::Mutex mu_;
  std::string text_ GUARDED_BY(mu_);
};

}  // namespace bluetrace::service
