#include "tempid_file.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <new>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store::internal {
namespace {

constexpr std::size_t kChunkBytes = 1 << 20;

// ScanTempIdFileOnTwoThreads: records a batch, and batches parsed ahead of the consumer.
// 4 x 4096 records of about 64 bytes: about 1 MiB in flight, enough to ride out a slow
// batch on either side.
constexpr std::size_t kBatchRecords = 4096;
constexpr std::size_t kBatchesAhead = 4;

using Batch = std::vector<ParsedTempIdLine>;

// The hand-off between the parsing thread (Push, Finish) and the consuming one (Pop,
// Recycle, Cancel). Emptied batches go back to the parser so their capacity is reused.
class BatchQueue {
 public:
  // Waits for room. False when the consumer has cancelled: stop parsing.
  bool Push(Batch batch) {
    util::MutexLock lock(mu_);
    while (full_.size() >= kBatchesAhead && !cancelled_) cv_.wait(mu_);
    if (cancelled_) return false;
    full_.push_back(std::move(batch));
    cv_.notify_all();
    return true;
  }

  // An empty batch with room for kBatchRecords (a recycled one when there is one).
  Batch Empty() {
    {
      util::MutexLock lock(mu_);
      if (!empty_.empty()) {
        Batch batch = std::move(empty_.back());
        empty_.pop_back();
        return batch;
      }
    }
    Batch batch;
    batch.reserve(kBatchRecords);
    return batch;
  }

  // The parser is done (whatever the outcome): Pop returns false once the queue is drained.
  void Finish() {
    util::MutexLock lock(mu_);
    finished_ = true;
    cv_.notify_all();
  }

  // Waits for the next batch; false when the parser finished and every batch was taken.
  bool Pop(Batch& out) {
    util::MutexLock lock(mu_);
    while (full_.empty() && !finished_) cv_.wait(mu_);
    if (full_.empty()) return false;
    out = std::move(full_.front());
    full_.pop_front();
    cv_.notify_all();
    return true;
  }

  void Recycle(Batch batch) {
    batch.clear();
    util::MutexLock lock(mu_);
    if (empty_.size() < kBatchesAhead + 1) empty_.push_back(std::move(batch));
  }

  // The consumer gives up: a waiting or later Push returns false.
  void Cancel() {
    util::MutexLock lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  util::Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Batch> full_ GUARDED_BY(mu_);
  std::vector<Batch> empty_ GUARDED_BY(mu_);
  bool finished_ GUARDED_BY(mu_) = false;
  bool cancelled_ GUARDED_BY(mu_) = false;
};

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

util::Result<TempIdFileScan> ScanTempIdFileOnTwoThreads(FileSystem& fs, const std::string& path,
                                                        protocol::TimeZoneMode mode,
                                                        std::size_t max_line_bytes,
                                                        const TempIdBatchFn& on_batch) {
  BatchQueue queue;
  // Written by the parser before queue.Finish(), read here after join().
  util::Result<TempIdFileScan> scan = util::Internal("TempID file scan did not run");
  const auto parse = [&] {
    try {
      Batch batch = queue.Empty();
      scan =
          ScanTempIdFile(fs, path, mode, max_line_bytes,
                         [&](const protocol::TextLine& line, const protocol::TempIdRecord& r) {
                           batch.push_back(ParsedTempIdLine{line.number, r});
                           if (batch.size() < kBatchRecords) return util::Status::Ok();
                           if (!queue.Push(std::move(batch))) {
                             return util::Unavailable("TempID file scan stopped by its consumer");
                           }
                           batch = queue.Empty();
                           return util::Status::Ok();
                         });
      if (scan.ok() && !batch.empty()) static_cast<void>(queue.Push(std::move(batch)));
    } catch (const std::bad_alloc&) {
      scan = util::ResourceExhausted("out of memory reading " + path);
    }
    queue.Finish();
  };
  std::thread parser;
  try {
    parser = std::thread(parse);
  } catch (const std::system_error&) {
    return ScanTempIdFile(fs, path, mode, max_line_bytes,
                          [&](const protocol::TextLine& line, const protocol::TempIdRecord& r) {
                            const ParsedTempIdLine one{line.number, r};
                            return on_batch(std::span<const ParsedTempIdLine>(&one, 1));
                          });
  }
  util::Status consumed;
  try {
    Batch batch;
    while (queue.Pop(batch)) {
      consumed = on_batch(batch);
      queue.Recycle(std::move(batch));
      if (!consumed.ok()) break;
    }
  } catch (...) {  // e.g. bad_alloc from the caller's inserts: stop the parser first
    queue.Cancel();
    parser.join();
    throw;
  }
  queue.Cancel();  // a no-op when the parser is done; stops it after an error
  parser.join();
  if (!consumed.ok()) return consumed;
  return scan;
}

}  // namespace bluetrace::store::internal
