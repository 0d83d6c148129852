#include "bluetrace/store/files/file_tempid_store.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
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

}  // namespace

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
  if (!exists) {
    report.created = true;
  } else {
    BLUETRACE_ASSIGN_OR_RETURN(auto size, fs_.FileSize(path));
    index.Reserve(static_cast<std::size_t>(size / kMinLineBytes));
    BulkLoader loader(index, path);
    auto scan =
        internal::ScanTempIdFile(fs_, path, options_.time_mode, options_.max_line_bytes,
                                 [&](const protocol::TextLine& line, const TempIdRecord& record) {
                                   return loader.Add(line.number, record);
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
  return Rewrite(clock_.NowUnixSeconds() - options_.retention_seconds, {}, nullptr);
}

util::Result<std::uint64_t> FileTempIdStore::RemoveUser(std::string_view user) {
  if (user.empty()) return util::InvalidArgument("no user named");
  std::uint64_t removed = 0;
  BLUETRACE_RETURN_IF_ERROR(Rewrite(std::nullopt, user, &removed).status());
  return removed;
}

util::Result<CompactionStats> FileTempIdStore::Rewrite(std::optional<std::int64_t> cutoff,
                                                       std::string_view drop_user,
                                                       std::uint64_t* removed) {
  util::MutexLock compact_lock(compact_mu_);
  std::vector<std::uint64_t> duplicates;
  std::string line_end;
  {
    util::MutexLock lock(mu_);
    BLUETRACE_RETURN_IF_ERROR(WaitWritable());
    compacting_ = true;  // new writers wait; the queued ones finish first
    while (!writers_.empty()) cv_.wait(mu_);
    duplicates = duplicate_lines_;
    line_end = line_end_;
  }

  // Reading and rewriting happen without mu_, so lookups continue; no write can start.
  CompactionStats stats;
  stats.cutoff = cutoff.value_or(std::numeric_limits<std::int64_t>::min());
  std::vector<TempId> expired;
  std::string contents;
  std::size_t next_duplicate = 0;
  auto scan = internal::ScanTempIdFile(
      fs_, options_.path, options_.time_mode, options_.max_line_bytes,
      [&](const protocol::TextLine& line, const TempIdRecord& record) {
        while (next_duplicate < duplicates.size() && duplicates[next_duplicate] < line.number) {
          ++next_duplicate;
        }
        if (next_duplicate < duplicates.size() && duplicates[next_duplicate] == line.number) {
          ++stats.duplicates_dropped;
        } else if (record.expiry < stats.cutoff) {
          expired.push_back(record.id);
          ++stats.records_dropped;
        } else if (!drop_user.empty() && record.user == drop_user) {
          expired.push_back(record.id);  // leaves the index with the expired ones
          if (removed != nullptr) ++*removed;
        } else {
          contents.append(line.text);
          contents += line_end;
          ++stats.records_kept;
        }
        return Status::Ok();
      });
  Status st = scan.status();
  if (st.ok() && scan->torn) {
    st = util::Corruption(options_.path + " changed under the store: " + scan->torn_reason);
  }
  if (st.ok()) {
    auto mode = fs_.FileMode(options_.path);  // the rewrite keeps the file's permissions
    st = mode.ok() ? fs_.ReplaceFileAtomically(options_.path, contents, *mode) : mode.status();
  }
  if (!st.ok()) {
    util::MutexLock lock(mu_);
    compacting_ = false;
    cv_.notify_all();
    return st.WithContext("compacting " + options_.path);
  }
  stats.bytes_before = scan->bytes;
  stats.bytes_after = contents.size();
  contents = std::string();

  // The old handle points at the replaced file; appends must go to the new one.
  auto file = fs_.OpenForAppend(options_.path);
  util::MutexLock lock(mu_);
  for (const TempId& id : expired) index_.Erase(id);
  duplicate_lines_.clear();
  pending_prefix_.clear();
  if (file.ok()) {
    static_cast<void>(file_->Close());  // fully synced; nothing to lose
    file_ = std::move(*file);
  } else {
    failed_ = file.status().WithContext("reopening after compaction");
  }
  ++stats_.compactions;
  compacting_ = false;
  cv_.notify_all();
  if (!failed_.ok()) return failed_;
  return stats;
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
