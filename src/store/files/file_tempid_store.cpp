#include "bluetrace/store/files/file_tempid_store.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <limits>
#include <span>
#include <thread>
#include <utility>

#include "bluetrace/protocol/text_lines.hpp"
#include "tempid_file.hpp"

namespace bluetrace::store {
namespace {

using protocol::TempId;
using protocol::TempIdRecord;
using util::Status;

// No real line is shorter (a short UserID, a TempID, two timestamps and three spaces):
// dividing the file size by it gives an upper bound on the records to make room for.
constexpr std::uint64_t kMinLineBytes = 64;

// Inserts loaded records a few lines behind the parser, prefetching each one's slots as it
// is parsed, so the cache misses of a large index overlap instead of queueing (loading got
// about 1.4 times faster). Records keep their file order.
class BulkLoader {
 public:
  BulkLoader(TempIdIndex& index, const std::string& path) : index_(index), path_(path) {}

  // OK, or the first insertion error (naming its line); then loading must stop.
  Status Add(std::uint64_t line, const TempIdRecord& record) {
    index_.Prefetch(record);
    pending_[count_].line = line;
    pending_[count_].record = record;
    return ++count_ == kDepth ? Flush() : Status::Ok();
  }

  Status Flush() {
    for (std::size_t i = 0; i < count_ && error_.ok(); ++i) {
      Status st = index_.Insert(pending_[i].record);
      if (st.code() == util::StatusCode::kAlreadyExists) {
        duplicates_.push_back(pending_[i].line);  // the first record of a TempID wins
      } else if (!st.ok()) {
        error_ = st.WithContext(path_ + " line " + std::to_string(pending_[i].line));
      }
    }
    count_ = 0;
    return error_;
  }

  const Status& error() const { return error_; }
  std::vector<std::uint64_t>& duplicates() { return duplicates_; }

 private:
  static constexpr std::size_t kDepth = 16;
  struct Pending {
    std::uint64_t line = 0;
    TempIdRecord record;
  };

  TempIdIndex& index_;
  const std::string& path_;
  std::array<Pending, kDepth> pending_;
  std::size_t count_ = 0;
  std::vector<std::uint64_t> duplicates_;
  Status error_;
};

// A compaction's phase 1 writes out in pieces of this size, each written behind before
// the next (see Copier::Flush): small, so that an issue's fdatasync arriving meanwhile waits
// behind at most one piece. Measured: docs/BENCHMARKS.md.
constexpr std::size_t kCopyBufferBytes = 64 << 10;
// Dropped records leave the index this many per hold of the store's lock (each erase is a
// cache miss or two: about 0.1 ms per batch), so an Issue waits at most about that long.
constexpr std::size_t kEraseBatch = 256;

// Creates an empty temporary file next to `path` (the name ReplaceFileAtomically's
// temporaries have, so leftover_temp_files.hpp recognises a crash's leftover) with `mode`.
Result<std::unique_ptr<AppendFile>> CreateTempFileNextTo(FileSystem& fs, const std::string& path,
                                                         mode_t mode, std::string& temp_path) {
  static std::atomic<std::uint64_t> counter{0};
  const std::size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  // A stale temporary of a crashed process with a recycled pid can collide; try new names.
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp_path = JoinPath(
        dir, TempFileName(base, static_cast<std::uint64_t>(::getpid()), counter.fetch_add(1)));
    BLUETRACE_ASSIGN_OR_RETURN(const bool exists, fs.Exists(temp_path));
    if (!exists) return fs.OpenForAppend(temp_path, mode);
  }
  return util::AlreadyExists("no free temporary file name next to " + path);
}

// Makes the calling thread yield the CPU to the others of the process (nice + 10, at most
// 19; on Linux a thread has its own nice value). Advisory: on an error it stays as it was.
// Used on a thread that ends afterwards, as raising the priority again needs a privilege.
void LowerThisThreadsCpuPriority() {
  const auto tid = static_cast<id_t>(::gettid());
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) return;
  static_cast<void>(::setpriority(PRIO_PROCESS, tid, std::min(current + 10, 19)));
}

}  // namespace

// A compaction's copy: the scan of the old file, the temporary file the kept records go to,
// and what was dropped. Used by the compacting thread only.
struct FileTempIdStore::Copier {
  KeepRule rule;
  std::vector<std::uint64_t> duplicates;  // line numbers, ascending
  std::string line_end;
  std::unique_ptr<internal::TempIdFileScanner> scanner;
  std::string temp_path;
  std::unique_ptr<AppendFile> temp;
  std::string buffer;   // kept lines not yet appended to `temp`
  bool trickle = true;  // phase 1: write behind and pace (see Flush)
  std::size_t next_duplicate = 0;
  std::vector<TempId> dropped;  // leave the index once the new file is in place
  std::int64_t earliest_expiry = std::numeric_limits<std::int64_t>::max();
  CompactionStats stats;

  Status Take(const protocol::TextLine& line, const TempIdRecord& record) {
    while (next_duplicate < duplicates.size() && duplicates[next_duplicate] < line.number) {
      ++next_duplicate;
    }
    if (next_duplicate < duplicates.size() && duplicates[next_duplicate] == line.number) {
      ++stats.duplicates_dropped;
    } else if (!rule.Keeps(record)) {
      dropped.push_back(record.id);
      ++stats.records_dropped;
    } else {
      buffer.append(line.text);
      buffer += line_end;
      ++stats.records_kept;
      earliest_expiry = std::min(earliest_expiry, record.expiry);
      if (buffer.size() >= kCopyBufferBytes) return Flush();
    }
    return Status::Ok();
  }

  // Reads the old file on to `limit` bytes, copying what the rule keeps.
  Status CopyTo(std::uint64_t limit) {
    BLUETRACE_RETURN_IF_ERROR(
        scanner->ReadTo(limit, [this](const protocol::TextLine& line, const TempIdRecord& record) {
          return Take(line, record);
        }));
    return Flush();
  }

  Status Flush() {
    if (buffer.empty()) return Status::Ok();
    BLUETRACE_RETURN_IF_ERROR(temp->Append(buffer));
    stats.bytes_after += buffer.size();
    buffer.clear();
    if (!trickle) return Status::Ok();
    // Phase 1 trickles to the disk: each piece is written behind (at most two pieces dirty
    // or in flight, so the bulk never waits in the page cache for one fsync that every
    // issue's fdatasync would queue behind), and after each the copy pauses as long as it
    // waited for the disk, leaving the disk idle at least half the time for the issues.
    // Real time, not the injected clock's: it only paces this thread.
    const auto started = std::chrono::steady_clock::now();
    BLUETRACE_RETURN_IF_ERROR(temp->WriteBehind());
    std::this_thread::sleep_for(std::chrono::steady_clock::now() - started);
    return Status::Ok();
  }

  // Closes and removes the temporary file after a failure (best effort: a leftover is
  // cleaned up at the next start).
  void Discard(FileSystem& fs) {
    if (temp == nullptr) return;
    static_cast<void>(temp->Close());
    temp.reset();
    static_cast<void>(fs.RemoveFile(temp_path));
  }
};

// One caller waiting in the group-commit queue; lives on that caller's stack.
struct FileTempIdStore::Writer {
  TempId id;
  std::string line;  // with its line end
  Status status;
  bool done = false;
};

FileTempIdStore::FileTempIdStore(FileSystem& fs, util::Clock& clock, TempIdStoreOptions options)
    : fs_(fs), clock_(clock), options_(std::move(options)) {}

FileTempIdStore::~FileTempIdStore() {
  util::MutexLock lock(mu_);
  // Everything acknowledged was synced already; a close error cannot lose a record.
  if (file_) static_cast<void>(file_->Close());
  // A failed batch whose cut failed too: try once more, so a clean stop leaves a file that
  // verifies. Only bytes past the last acknowledged record go, and never by growing the
  // file; if this fails as well, Open cuts the torn tail at the next start.
  if (unrepaired_size_) {
    auto size = fs_.FileSize(options_.path);
    if (size.ok() && *size > *unrepaired_size_) {
      static_cast<void>(fs_.Truncate(options_.path, *unrepaired_size_));
    }
  }
}

util::Result<std::unique_ptr<FileTempIdStore>> FileTempIdStore::Open(FileSystem& fs,
                                                                     util::Clock& clock,
                                                                     TempIdStoreOptions options,
                                                                     RecoveryReport* report) {
  if (options.path.empty()) return util::InvalidArgument("TempID store: empty path");
  if (options.retention_seconds < 0) {
    return util::InvalidArgument("TempID store: retention_seconds must be >= 0");
  }
  if (options.max_line_bytes < kMinLineBytes) {
    return util::InvalidArgument("TempID store: max_line_bytes must be >= " +
                                 std::to_string(kMinLineBytes));
  }
  if (options.max_issue_attempts < 1 || options.max_batch_bytes < 1) {
    return util::InvalidArgument(
        "TempID store: max_issue_attempts and max_batch_bytes must be >= 1");
  }
  std::unique_ptr<FileTempIdStore> store(new FileTempIdStore(fs, clock, std::move(options)));
  RecoveryReport local;
  BLUETRACE_RETURN_IF_ERROR(store->Load(local));
  if (report != nullptr) *report = std::move(local);
  return store;
}

Status FileTempIdStore::Load(RecoveryReport& report) {
  const std::string& path = options_.path;
  BLUETRACE_ASSIGN_OR_RETURN(auto exists, fs_.Exists(path));

  // Built in locals, then moved under the lock: nothing else can see the store yet.
  TempIdIndex index;
  std::vector<std::uint64_t> duplicates;
  std::string line_end = "\n";
  std::string pending_prefix;
  std::uint64_t expected_size = 0;
  std::int64_t earliest_expiry = std::numeric_limits<std::int64_t>::max();
  const std::int64_t cutoff = clock_.NowUnixSeconds() - options_.retention_seconds;
  if (!exists) {
    report.created = true;
  } else {
    BLUETRACE_ASSIGN_OR_RETURN(auto size, fs_.FileSize(path));
    index.Reserve(static_cast<std::size_t>(size / kMinLineBytes));
    BulkLoader loader(index, path);
    // Parsing (about 60% of the load's CPU) runs on a second thread beside the inserts.
    auto scan = internal::ScanTempIdFileOnTwoThreads(
        fs_, path, options_.time_mode, options_.max_line_bytes,
        [&](std::span<const internal::ParsedTempIdLine> batch) {
          for (const auto& parsed : batch) {
            earliest_expiry = std::min(earliest_expiry, parsed.record.expiry);
            if (parsed.record.expiry < cutoff) ++report.expired_records;
            BLUETRACE_RETURN_IF_ERROR(loader.Add(parsed.line, parsed.record));
          }
          return Status::Ok();
        });
    // An insertion error surfaces at a later line than its own; report it as it is.
    BLUETRACE_RETURN_IF_ERROR(loader.error());
    if (!scan.ok()) return scan.status();
    BLUETRACE_RETURN_IF_ERROR(loader.Flush());
    duplicates = std::move(loader.duplicates());
    report.file_bytes = scan->bytes;
    report.lines = scan->lines;
    expected_size = scan->bytes;
    if (scan->torn) {
      BLUETRACE_RETURN_IF_ERROR(fs_.Truncate(path, scan->complete_bytes));
      expected_size = scan->complete_bytes;
      report.torn_bytes_removed = scan->bytes - scan->complete_bytes;
      report.torn_tail_description = "torn last line (no line end): " + scan->torn_reason +
                                     "; cut off " + std::to_string(report.torn_bytes_removed) +
                                     " bytes after offset " + std::to_string(expected_size);
    }
    if (!scan->line_end.empty()) line_end = scan->line_end;
    if (scan->unterminated_tail) {
      report.missing_final_newline = true;
      pending_prefix = scan->tail_has_cr ? "\n" : line_end;
    }
  }

  BLUETRACE_ASSIGN_OR_RETURN(auto file, fs_.OpenForAppend(path));
  if (file->Size() != expected_size) {
    return util::FailedPrecondition(path + " changed size while it was being loaded");
  }
  report.duplicate_lines = duplicates.size();
  report.records = index.size();

  util::MutexLock lock(mu_);
  index_ = std::move(index);
  file_ = std::move(file);
  file_size_ = expected_size;
  earliest_expiry_ = earliest_expiry;
  duplicate_lines_ = std::move(duplicates);
  line_end_ = std::move(line_end);
  pending_prefix_ = std::move(pending_prefix);
  return Status::Ok();
}

util::Result<std::vector<std::string>> FileTempIdStore::VerifyFile(FileSystem& fs,
                                                                   const std::string& path,
                                                                   protocol::TimeZoneMode mode) {
  std::vector<std::string> problems;
  auto text = fs.ReadFile(path, 1ull << 36);
  if (!text.ok()) {
    if (text.status().code() == util::StatusCode::kNotFound) return problems;
    return text.status();
  }
  const std::string name = path.substr(path.find_last_of('/') + 1);
  Status st = protocol::ForEachLine(*text, name, [&](const protocol::TextLine& line) {
    auto parsed = protocol::ParseTempIdLine(line.text, mode);
    if (!parsed.ok()) {
      problems.push_back(name + " line " + std::to_string(line.number) + ": " +
                         parsed.status().message());
    }
    return Status::Ok();
  });
  if (!st.ok()) problems.push_back(st.message());
  return problems;
}

util::Result<std::string> FileTempIdStore::FormatChecked(const TempIdRecord& record) const {
  std::string line = protocol::FormatTempIdLine(record, options_.time_mode);
  auto parsed = protocol::ParseTempIdLine(line, options_.time_mode);
  if (!parsed.ok()) {
    return util::InvalidArgument("TempID record cannot be stored: " + parsed.status().message());
  }
  if (*parsed != record) {
    return util::InvalidArgument("TempID record would not read back identically (user '" +
                                 record.user + "' not canonical, or times out of range)");
  }
  return line;
}

Status FileTempIdStore::WaitWritable() {
  while (compacting_) cv_.wait(mu_);
  return WritableStatus();
}

Status FileTempIdStore::WritableStatus() const {
  if (failed_.ok()) return Status::Ok();
  return util::Unavailable(options_.path + ": TempID store is read-only after a failed write (" +
                           failed_.ToString() + "); restart to recover");
}

util::Result<TempIdRecord> FileTempIdStore::Issue(std::string_view user, std::int64_t start,
                                                  std::int64_t expiry, util::Random& random) {
  TempIdRecord record;
  record.user = std::string(user);
  record.start = start;
  record.expiry = expiry;
  for (int attempt = 0; attempt < options_.max_issue_attempts; ++attempt) {
    auto id = TempId::Generate(random);
    if (!id.ok()) return id.status();
    record.id = *id;
    BLUETRACE_ASSIGN_OR_RETURN(auto line, FormatChecked(record));

    util::MutexLock lock(mu_);
    BLUETRACE_RETURN_IF_ERROR(WaitWritable());
    // Reserving the TempID in the index before the write keeps two concurrent issues from
    // picking the same one.
    Status st = index_.Insert(record);
    if (st.code() == util::StatusCode::kAlreadyExists) continue;
    BLUETRACE_RETURN_IF_ERROR(st);
    earliest_expiry_ = std::min(earliest_expiry_, record.expiry);
    BLUETRACE_RETURN_IF_ERROR(Commit(record.id, std::move(line)));
    return record;
  }
  return util::ResourceExhausted("no unused TempID after " +
                                 std::to_string(options_.max_issue_attempts) + " draws");
}

Status FileTempIdStore::Append(const TempIdRecord& record) {
  BLUETRACE_ASSIGN_OR_RETURN(auto line, FormatChecked(record));
  util::MutexLock lock(mu_);
  BLUETRACE_RETURN_IF_ERROR(WaitWritable());
  BLUETRACE_RETURN_IF_ERROR(index_.Insert(record));
  earliest_expiry_ = std::min(earliest_expiry_, record.expiry);
  return Commit(record.id, std::move(line));
}

Status FileTempIdStore::Commit(const TempId& id, std::string line) {
  Writer w;
  w.id = id;
  w.line = std::move(line);
  w.line += line_end_;
  writers_.push_back(&w);
  while (!w.done && writers_.front() != &w) cv_.wait(mu_);
  if (!w.done) WriteBatch();  // first in the queue: this caller leads the next batch
  return w.status;
}

void FileTempIdStore::WriteBatch() {
  std::string batch = pending_prefix_;
  std::size_t count = 0;
  for (const Writer* w : writers_) {
    if (count > 0 && batch.size() + w->line.size() > options_.max_batch_bytes) break;
    batch += w->line;
    ++count;
  }

  // A batch queued behind a failed one must not write after the unknown tail.
  Status st = WritableStatus();
  if (st.ok()) {
    AppendFile* file = file_.get();
    // Every earlier batch was synced: this is the end of the last acknowledged record.
    const std::uint64_t acknowledged_size = file->Size();
    // Later callers queue up meanwhile and form the next batch; lookups go on.
    mu_.Unlock();
    const auto started = clock_.SteadyNow();
    st = file->Append(batch);
    if (st.ok()) st = file->Sync();
    const auto elapsed = clock_.SteadyNow() - started;
    // Nothing of a failed batch was acknowledged: cut it off (half a line after ENOSPC,
    // or whatever a failed fdatasync left) so the file on disk stays whole records. The
    // cut is a new operation on the file, not a retried fsync.
    Status cut;
    if (!st.ok()) cut = fs_.Truncate(options_.path, acknowledged_size);
    mu_.Lock();
    if (!cut.ok()) unrepaired_size_ = acknowledged_size;
    ++stats_.syncs;
    stats_.sync_nanos_total += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
    if (st.ok()) {
      pending_prefix_.clear();
      file_size_ = acknowledged_size + batch.size();
      stats_.records_appended += count;
      stats_.largest_batch = std::max<std::uint64_t>(stats_.largest_batch, count);
    } else {
      failed_ = st;
    }
  }

  for (std::size_t i = 0; i < count; ++i) {
    Writer* w = writers_.front();
    writers_.pop_front();
    if (!st.ok()) index_.Erase(w->id);  // never acknowledged, so not issued
    w->status = st;
    w->done = true;
  }
  cv_.notify_all();
}

std::optional<TempIdRecord> FileTempIdStore::Lookup(const TempId& id) const {
  util::MutexLock lock(mu_);
  return index_.Lookup(id);
}

util::Result<CompactionStats> FileTempIdStore::Compact() {
  KeepRule rule;
  rule.cutoff = clock_.NowUnixSeconds() - options_.retention_seconds;
  return CompactWith(rule);
}

util::Result<std::uint64_t> FileTempIdStore::RemoveUser(std::string_view user) {
  if (user.empty()) return util::InvalidArgument("no user named");
  // The compaction with one more reason to drop a record and no retention cutoff, so the
  // file never holds a half-removed user and the store keeps one rewrite path.
  KeepRule rule;
  rule.cutoff = std::numeric_limits<std::int64_t>::min();
  rule.drop_user = std::string(user);
  BLUETRACE_ASSIGN_OR_RETURN(const CompactionStats stats, CompactWith(rule));
  return stats.records_dropped;
}

util::Result<CompactionStats> FileTempIdStore::CompactWith(const KeepRule& rule) {
  util::MutexLock compact_lock(compact_mu_);
  Copier copier;
  copier.rule = rule;
  copier.stats.cutoff = rule.cutoff;
  std::uint64_t copy_end = 0;
  {
    util::MutexLock lock(mu_);
    BLUETRACE_RETURN_IF_ERROR(WritableStatus());
    if (duplicate_lines_.empty() && pending_prefix_.empty() &&
        rule.KeepsEveryRecordExpiringFrom(earliest_expiry_)) {
      // Nothing would change: the file is left as it is, not even rewritten.
      copier.stats.records_kept = index_.size();
      copier.stats.bytes_before = file_size_;
      copier.stats.bytes_after = file_size_;
      ++stats_.compactions;
      return copier.stats;
    }
    copier.duplicates = duplicate_lines_;
    copier.line_end = line_end_;
    copy_end = file_size_;  // the end of the last acknowledged batch
  }

  // Phase 1, the copy: nothing held that Issue or Lookup needs. It runs on a thread of its
  // own at a lower CPU priority, so that on a busy machine issuing threads get the CPU
  // first (measured: docs/BENCHMARKS.md).
  const std::string& path = options_.path;
  Status st;
  std::thread copy_thread([&] {
    LowerThisThreadsCpuPriority();
    auto mode = fs_.FileMode(path);  // the new file keeps the old one's permissions
    st = mode.status();
    if (st.ok()) {
      auto scanner =
          internal::TempIdFileScanner::Open(fs_, path, options_.time_mode, options_.max_line_bytes);
      st = scanner.status();
      if (st.ok()) copier.scanner = std::move(*scanner);
    }
    if (st.ok()) {
      auto temp = CreateTempFileNextTo(fs_, path, *mode, copier.temp_path);
      st = temp.status();
      if (st.ok()) copier.temp = std::move(*temp);
    }
    if (st.ok()) st = copier.CopyTo(copy_end);
    // Syncing the bulk now keeps the fsync in phase 2, while writes wait, to a few lines.
    if (st.ok()) st = copier.temp->Sync();
  });
  copy_thread.join();
  if (st.ok()) st = FinishCompaction(copier);
  if (!st.ok()) {
    copier.Discard(fs_);  // if phase 2 did not already
    return st.WithContext("compacting " + path);
  }

  // Phase 3: the dropped records leave the index in batches, so issues interleave. Until
  // then an issue may draw one of their TempIDs and simply draw again. After each batch
  // the loop pauses as long as the batch held the lock, so that issues and lookups get at
  // least half of it: std::mutex is not fair, and with only a yield between batches this
  // loop took the lock straight back while an Issue (which takes it several times) waited
  // through many batches (p99 195 ms at 10 million lines: docs/BENCHMARKS.md). A pause is
  // real time, not the injected clock's: it only paces this thread.
  for (std::size_t i = 0; i < copier.dropped.size(); i += kEraseBatch) {
    const std::size_t end = std::min(copier.dropped.size(), i + kEraseBatch);
    const auto started = std::chrono::steady_clock::now();
    {
      util::MutexLock lock(mu_);
      for (std::size_t j = i; j < end; ++j) index_.Erase(copier.dropped[j]);
    }
    std::this_thread::sleep_for(std::chrono::steady_clock::now() - started);
  }
  return copier.stats;
}

Status FileTempIdStore::FinishCompaction(Copier& copier) {
  const std::string& path = options_.path;
  std::uint64_t tail_end = 0;
  Status st;
  {
    util::MutexLock lock(mu_);
    compacting_ = true;  // new writers wait; the queued ones finish first
    while (!writers_.empty()) cv_.wait(mu_);
    st = WritableStatus();
    tail_end = file_size_;
  }
  // Phase 2, the tail: writes wait, lookups go on; no pacing here, the fsync follows.
  copier.trickle = false;
  bool renamed = false;
  std::unique_ptr<AppendFile> file;
  if (st.ok()) st = copier.CopyTo(tail_end);
  if (st.ok()) {
    auto scan = copier.scanner->Finish(
        [&copier](const protocol::TextLine& line, const TempIdRecord& record) {
          return copier.Take(line, record);
        });
    st = scan.status();
    if (st.ok() && (scan->torn || scan->bytes != tail_end)) {
      st = util::Corruption(path + " changed under the store" +
                            (scan->torn ? ": " + scan->torn_reason : std::string()));
    }
  }
  if (st.ok()) st = copier.Flush();
  if (st.ok()) st = copier.temp->Sync();
  if (st.ok()) st = copier.temp->Close();
  if (st.ok()) {
    st = fs_.Rename(copier.temp_path, path);
    // Only the directory's fsync can fail after the rename itself.
    auto temp_left = fs_.Exists(copier.temp_path);
    renamed = st.ok() || (temp_left.ok() && !*temp_left);
  }
  if (renamed) {
    copier.temp.reset();
    // The old handle points at the replaced file; appends must go to the new one.
    if (st.ok()) {
      auto reopened = fs_.OpenForAppend(path);
      if (reopened.ok()) {
        file = std::move(*reopened);
      } else {
        st = reopened.status().WithContext("reopening after compaction");
      }
    }
  } else {
    copier.Discard(fs_);
  }
  copier.stats.bytes_before = tail_end;

  util::MutexLock lock(mu_);
  if (file != nullptr) {
    static_cast<void>(file_->Close());  // fully synced; nothing to lose
    file_ = std::move(file);
    file_size_ = copier.stats.bytes_after;
    earliest_expiry_ = copier.earliest_expiry;
    duplicate_lines_.clear();
    pending_prefix_.clear();
    ++stats_.compactions;
  } else if (renamed) {
    // The file in place is the new one (or, after a crash, perhaps the old one again):
    // appending to the old handle would write to a file that is gone.
    failed_ = st;
  }
  compacting_ = false;
  cv_.notify_all();
  return st;
}

std::size_t FileTempIdStore::size() const {
  util::MutexLock lock(mu_);
  return index_.size();
}

std::uint64_t FileTempIdStore::MemoryBytes() const {
  util::MutexLock lock(mu_);
  return index_.MemoryBytes();
}

TempIdStoreStats FileTempIdStore::stats() const {
  util::MutexLock lock(mu_);
  return stats_;
}

Status FileTempIdStore::health() const {
  util::MutexLock lock(mu_);
  return failed_;
}

}  // namespace bluetrace::store
