// Internal to the store layer: one streaming pass over tempIDs.txt, shared by
// FileTempIdStore's start-up load and its compaction.
//
// The file is read in 1 MiB chunks; only complete lines (ending in '\n') go to the
// protocol::LineSplitter during the pass, so any error it or the parser reports there is
// about a complete line, i.e. real corruption. The bytes after the last '\n' (at most one
// line) are examined at the end: a valid record without a line end is accepted (the
// original's files end that way), anything else is a torn write and is described in the
// result instead of failing the scan.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "bluetrace/protocol/text_lines.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::store::internal {

struct TempIdFileScan {
  std::uint64_t bytes = 0;           // size of the file read
  std::uint64_t lines = 0;           // lines, blank ones and an unterminated last one included
  std::uint64_t complete_bytes = 0;  // offset just past the last '\n'
  // Line end of the first line: "\r\n", "\n", or empty when no line was terminated
  // (a lone last line ending in '\r' counts as CRLF).
  std::string line_end;
  // The last line is a valid record (or blank) without '\n'. tail_has_cr: it ends in '\r',
  // so only "\n" is missing.
  bool unterminated_tail = false;
  bool tail_has_cr = false;
  // The bytes after complete_bytes are not a valid record: a torn write.
  bool torn = false;
  std::string torn_reason;
};

// Calls `on_record` for every record in file order, the unterminated last line included
// when it is valid. Errors: the file cannot be read; a malformed complete line
// (kInvalidArgument, "<path> line <n>: <problem>"); any error `on_record` returns.
util::Result<TempIdFileScan> ScanTempIdFile(
    FileSystem& fs, const std::string& path, protocol::TimeZoneMode mode,
    std::size_t max_line_bytes,
    const std::function<util::Status(const protocol::TextLine&, const protocol::TempIdRecord&)>&
        on_record);

}  // namespace bluetrace::store::internal
