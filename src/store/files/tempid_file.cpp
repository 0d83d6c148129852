#include "tempid_file.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

namespace bluetrace::store::internal {
namespace {

constexpr std::size_t kChunkBytes = 1 << 20;

}  // namespace

TempIdFileScanner::TempIdFileScanner(std::unique_ptr<ReadableFile> file, std::string path,
                                     protocol::TimeZoneMode mode, std::size_t max_line_bytes)
    : file_(std::move(file)),
      path_(std::move(path)),
      mode_(mode),
      max_line_bytes_(max_line_bytes),
      splitter_(path_, max_line_bytes) {}

util::Result<std::unique_ptr<TempIdFileScanner>> TempIdFileScanner::Open(
    FileSystem& fs, const std::string& path, protocol::TimeZoneMode mode,
    std::size_t max_line_bytes) {
  BLUETRACE_ASSIGN_OR_RETURN(auto file, fs.OpenForRead(path));
  return std::unique_ptr<TempIdFileScanner>(
      new TempIdFileScanner(std::move(file), path, mode, max_line_bytes));
}

util::Status TempIdFileScanner::Deliver(const protocol::TextLine& line,
                                        const TempIdRecordFn& on_record) {
  BLUETRACE_ASSIGN_OR_RETURN(auto record, protocol::ParseTempIdLine(line.text, mode_));
  util::Status st = on_record(line, record);
  if (!st.ok()) record_failed_ = true;
  return st;
}

util::Status TempIdFileScanner::ReadTo(std::uint64_t limit, const TempIdRecordFn& on_record) {
  const auto deliver = [&](const protocol::TextLine& line) { return Deliver(line, on_record); };
  while (scan_.bytes < limit) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, limit - scan_.bytes));
    buf_.resize(held_ + want);
    BLUETRACE_ASSIGN_OR_RETURN(auto n, file_->Read(buf_.data() + held_, want));
    if (n == 0) break;
    scan_.bytes += n;
    const std::string_view data(buf_.data(), held_ + n);
    const std::size_t last = data.rfind('\n');
    if (last != std::string_view::npos) {
      if (overlong_) {
        return util::InvalidArgument(path_ + " line " + std::to_string(scan_.lines + 1) +
                                     ": line longer than " + std::to_string(max_line_bytes_) +
                                     " bytes");
      }
      const std::string_view complete = data.substr(0, last + 1);
      if (scan_.line_end.empty()) {
        const std::size_t first = complete.find('\n');
        scan_.line_end = first > 0 && complete[first - 1] == '\r' ? "\r\n" : "\n";
      }
      BLUETRACE_RETURN_IF_ERROR(splitter_.Feed(complete, deliver));
      scan_.lines += static_cast<std::uint64_t>(std::count(complete.begin(), complete.end(), '\n'));
      scan_.complete_bytes += complete.size();
      held_ = data.size() - complete.size();
      std::memmove(buf_.data(), buf_.data() + complete.size(), held_);
    } else {
      held_ = data.size();
    }
    if (held_ > max_line_bytes_ + 1) {  // + 1: the CR of a CRLF whose LF is still to come
      overlong_ = true;
      held_ = 0;
    }
  }
  return util::Status::Ok();
}

util::Result<TempIdFileScan> TempIdFileScanner::Finish(const TempIdRecordFn& on_record) {
  const auto deliver = [&](const protocol::TextLine& line) { return Deliver(line, on_record); };
  TempIdFileScan scan = std::move(scan_);
  if (overlong_) {
    scan.lines += 1;
    scan.torn = true;
    scan.torn_reason = path_ + " line " + std::to_string(scan.lines) + ": " +
                       std::to_string(scan.bytes - scan.complete_bytes) +
                       " bytes without a line end (longer than any record)";
    return scan;
  }
  if (held_ == 0) return scan;

  scan.lines += 1;
  std::string_view tail(buf_.data(), held_);
  const bool has_cr = tail.back() == '\r';
  if (has_cr) tail.remove_suffix(1);  // "record\r": only the '\n' is missing
  util::Status st = splitter_.Feed(tail, deliver);
  if (st.ok()) st = splitter_.Finish(deliver);
  if (!st.ok()) {
    if (record_failed_) return st;
    scan.torn = true;
    scan.torn_reason = st.message();
    return scan;
  }
  scan.unterminated_tail = true;
  scan.tail_has_cr = has_cr;
  if (has_cr && scan.line_end.empty()) scan.line_end = "\r\n";
  return scan;
}

util::Result<TempIdFileScan> ScanTempIdFile(FileSystem& fs, const std::string& path,
                                            protocol::TimeZoneMode mode, std::size_t max_line_bytes,
                                            const TempIdRecordFn& on_record) {
  BLUETRACE_ASSIGN_OR_RETURN(auto scanner, TempIdFileScanner::Open(fs, path, mode, max_line_bytes));
  BLUETRACE_RETURN_IF_ERROR(scanner->ReadTo(std::numeric_limits<std::uint64_t>::max(), on_record));
  return scanner->Finish(on_record);
}

}  // namespace bluetrace::store::internal
