// Internal to the store layer: streaming passes over tempIDs.txt, shared by
// FileTempIdStore's start-up load and its compaction.
//
// The file is read in 1 MiB chunks; only complete lines (ending in '\n') go to the
// protocol::LineSplitter during the pass, so any error it or the parser reports there is
// about a complete line, i.e. real corruption. The bytes after the last '\n' (at most one
// line) are examined at the end: a valid record without a line end is accepted (the
// original's files end that way), anything else is a torn write and is described in the
// result instead of failing the scan.
//
// A TempIdFileScanner reads up to a given offset and can be resumed later (the compaction
// reads the bulk of the file while appends go on, then the tail appended meanwhile).
// Not thread-safe: one thread at a time. ScanTempIdFileOnTwoThreads parses on a thread of
// its own while the caller's thread consumes the records (the start-up load).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>

#include "bluetrace/protocol/text_lines.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::store::internal {

struct TempIdFileScan {
  std::uint64_t bytes = 0;           // bytes of the file read
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

using TempIdRecordFn =
    std::function<util::Status(const protocol::TextLine&, const protocol::TempIdRecord&)>;

class TempIdFileScanner {
 public:
  // Opens `path` for reading. Errors: the FileSystem's (kNotFound for a missing file).
  static util::Result<std::unique_ptr<TempIdFileScanner>> Open(FileSystem& fs,
                                                               const std::string& path,
                                                               protocol::TimeZoneMode mode,
                                                               std::size_t max_line_bytes);

  TempIdFileScanner(const TempIdFileScanner&) = delete;
  TempIdFileScanner& operator=(const TempIdFileScanner&) = delete;

  // Reads on until `limit` bytes of the file have been read, or to its end, calling
  // `on_record` for every complete line's record in file order. Errors: the file cannot be
  // read; a malformed complete line (kInvalidArgument, "<path> line <n>: <problem>"); any
  // error `on_record` returns. After an error the scanner must not be used again.
  util::Status ReadTo(std::uint64_t limit, const TempIdRecordFn& on_record);

  // Ends the pass after the last ReadTo: examines the bytes after the last '\n' (delivering
  // a valid unterminated last record to `on_record`) and returns what the pass found.
  // Errors: any error `on_record` returns.
  util::Result<TempIdFileScan> Finish(const TempIdRecordFn& on_record);

  // Bytes read so far.
  std::uint64_t bytes_read() const { return scan_.bytes; }

 private:
  TempIdFileScanner(std::unique_ptr<ReadableFile> file, std::string path,
                    protocol::TimeZoneMode mode, std::size_t max_line_bytes);
  // Parses one line and hands its record on, noting whether `on_record` failed.
  util::Status Deliver(const protocol::TextLine& line, const TempIdRecordFn& on_record);

  std::unique_ptr<ReadableFile> file_;
  const std::string path_;
  const protocol::TimeZoneMode mode_;
  const std::size_t max_line_bytes_;
  protocol::LineSplitter splitter_;
  TempIdFileScan scan_;
  // buf_[0, held_) holds the bytes after the last '\n' seen: at most one line, because a
  // longer run without '\n' switches to `overlong_` and is no longer kept.
  std::string buf_;
  std::size_t held_ = 0;
  bool overlong_ = false;
  // Set when `on_record` (not the parser) fails, so a failure on the last line is not
  // mistaken for a torn write.
  bool record_failed_ = false;
};

// One whole pass: Open, ReadTo the end, Finish.
util::Result<TempIdFileScan> ScanTempIdFile(FileSystem& fs, const std::string& path,
                                            protocol::TimeZoneMode mode, std::size_t max_line_bytes,
                                            const TempIdRecordFn& on_record);

// A parsed record and its 1-based line number.
struct ParsedTempIdLine {
  std::uint64_t line = 0;
  protocol::TempIdRecord record;
};

using TempIdBatchFn = std::function<util::Status(std::span<const ParsedTempIdLine>)>;

// ScanTempIdFile with the reading and parsing on a second thread, which hands the records
// to `on_batch` on the calling thread in batches, in file order, while it parses on: the
// caller's work on the records (the start-up's index inserts) overlaps the parsing. At
// most a few batches are in flight (bounded memory: a few MiB). Same result and errors as
// ScanTempIdFile; when `on_batch` fails, the parser stops, is joined, and that error is
// returned. Falls back to one thread if no thread can be started.
util::Result<TempIdFileScan> ScanTempIdFileOnTwoThreads(FileSystem& fs, const std::string& path,
                                                        protocol::TimeZoneMode mode,
                                                        std::size_t max_line_bytes,
                                                        const TempIdBatchFn& on_batch);

}  // namespace bluetrace::store::internal
