// Line splitting shared by every text file parser (credentials.txt, tempIDs.txt, contact
// logs): LF or CRLF line ends, a present or missing final newline, and blank lines (empty,
// or only spaces/tabs) are all accepted (docs/ORIGINAL.md §6.7). A stray CR anywhere but before
// the LF, or a NUL byte, is an error naming the line. Line numbers count from 1 and include
// blank lines, so they match what an editor shows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

struct TextLine {
  std::uint64_t number = 0;  // 1-based
  std::string_view text;     // without the line end
};

// Calls `fn` for every non-blank line of `content`, in order. Stops at the first error
// (from the splitter or from `fn`); errors are prefixed "<file_name> line <n>: ".
util::Status ForEachLine(std::string_view content, std::string_view file_name,
                         const std::function<util::Status(const TextLine&)>& fn);

// Incremental form for files read in chunks (tempIDs.txt can hold millions of lines):
// Feed() pieces split anywhere, then Finish(). Lines within the length limit are delivered
// (and errors reported) exactly as ForEachLine would for the whole content, however it is
// split. Holds at most one partial line; a single line longer than `max_line_bytes` (line
// end excluded) is an error. After an error, Feed() and Finish() return that error again
// without delivering anything.
class LineSplitter {
 public:
  explicit LineSplitter(std::string_view file_name, std::size_t max_line_bytes = 4096)
      : file_name_(file_name), max_line_bytes_(max_line_bytes) {}

  util::Status Feed(std::string_view chunk, const std::function<util::Status(const TextLine&)>& fn);
  // Delivers a last line without a final newline. Calling it again does nothing.
  util::Status Finish(const std::function<util::Status(const TextLine&)>& fn);

  // Byte offset just past the '\n' of the last line accepted so far (delivered, or skipped
  // as blank): where a reader may truncate a file whose tail failed.
  std::uint64_t complete_bytes() const { return complete_bytes_; }
  // Bytes of a trailing partial line (no '\n' yet).
  std::size_t partial_bytes() const { return partial_.size(); }

 private:
  // Checks and delivers one line, `raw` ending in '\n' unless called from Finish().
  util::Status Deliver(std::string_view raw,
                       const std::function<util::Status(const TextLine&)>& fn);

  std::string file_name_;
  std::size_t max_line_bytes_;
  std::string partial_;
  std::uint64_t line_number_ = 0;
  std::uint64_t complete_bytes_ = 0;
  util::Status error_;  // the first error, repeated by later calls
};

}  // namespace bluetrace::protocol
