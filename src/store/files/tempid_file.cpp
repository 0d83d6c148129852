#include "tempid_file.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace bluetrace::store::internal {
namespace {

constexpr std::size_t kChunkBytes = 1 << 20;

}  // namespace

util::Result<TempIdFileScan> ScanTempIdFile(
    FileSystem& fs, const std::string& path, protocol::TimeZoneMode mode,
    std::size_t max_line_bytes,
    const std::function<util::Status(const protocol::TextLine&, const protocol::TempIdRecord&)>&
        on_record) {
  BLUETRACE_ASSIGN_OR_RETURN(auto file, fs.OpenForRead(path));

  TempIdFileScan scan;
  protocol::LineSplitter splitter(path, max_line_bytes);
  // Set when `on_record` (not the parser) fails, so a failure on the last line is not
  // mistaken for a torn write.
  bool record_failed = false;
  const auto deliver = [&](const protocol::TextLine& line) -> util::Status {
    BLUETRACE_ASSIGN_OR_RETURN(auto record, protocol::ParseTempIdLine(line.text, mode));
    util::Status st = on_record(line, record);
    if (!st.ok()) record_failed = true;
    return st;
  };

  // buf[0, held) holds the bytes after the last '\n' seen: at most one line, because a
  // longer run without '\n' switches to `overlong` and is no longer kept.
  std::string buf;
  std::size_t held = 0;
  bool overlong = false;
  while (true) {
    buf.resize(held + kChunkBytes);
    BLUETRACE_ASSIGN_OR_RETURN(auto n, file->Read(buf.data() + held, kChunkBytes));
    if (n == 0) break;
    scan.bytes += n;
    const std::string_view data(buf.data(), held + n);
    const std::size_t last = data.rfind('\n');
    if (last != std::string_view::npos) {
      if (overlong) {
        return util::InvalidArgument(path + " line " + std::to_string(scan.lines + 1) +
                                     ": line longer than " + std::to_string(max_line_bytes) +
                                     " bytes");
      }
      const std::string_view complete = data.substr(0, last + 1);
      if (scan.line_end.empty()) {
        const std::size_t first = complete.find('\n');
        scan.line_end = first > 0 && complete[first - 1] == '\r' ? "\r\n" : "\n";
      }
      BLUETRACE_RETURN_IF_ERROR(splitter.Feed(complete, deliver));
      scan.lines += static_cast<std::uint64_t>(std::count(complete.begin(), complete.end(), '\n'));
      scan.complete_bytes += complete.size();
      held = data.size() - complete.size();
      std::memmove(buf.data(), buf.data() + complete.size(), held);
    } else {
      held = data.size();
    }
    if (held > max_line_bytes + 1) {  // + 1: the CR of a CRLF whose LF is still to come
      overlong = true;
      held = 0;
    }
  }

  if (overlong) {
    scan.lines += 1;
    scan.torn = true;
    scan.torn_reason = path + " line " + std::to_string(scan.lines) + ": " +
                       std::to_string(scan.bytes - scan.complete_bytes) +
                       " bytes without a line end (longer than any record)";
    return scan;
  }
  if (held == 0) return scan;

  scan.lines += 1;
  std::string_view tail(buf.data(), held);
  const bool has_cr = tail.back() == '\r';
  if (has_cr) tail.remove_suffix(1);  // "record\r": only the '\n' is missing
  util::Status st = splitter.Feed(tail, deliver);
  if (st.ok()) st = splitter.Finish(deliver);
  if (!st.ok()) {
    if (record_failed) return st;
    scan.torn = true;
    scan.torn_reason = st.message();
    return scan;
  }
  scan.unterminated_tail = true;
  scan.tail_has_cr = has_cr;
  if (has_cr && scan.line_end.empty()) scan.line_end = "\r\n";
  return scan;
}

}  // namespace bluetrace::store::internal
