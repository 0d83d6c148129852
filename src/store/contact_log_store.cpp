#include "bluetrace/store/contact_log_store.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "bluetrace/protocol/text_lines.hpp"

namespace bluetrace::store {
namespace {

using util::Result;
using util::Status;

// The file's contents, or "" when it does not exist.
Result<std::string> ReadOrEmpty(FileSystem& fs, const std::string& path) {
  auto text = fs.ReadFile(path);
  if (!text.ok() && text.status().code() == util::StatusCode::kNotFound) return std::string();
  return text;
}

// "<TempID> <unix seconds>": 20 digits, one space, 1-18 digits.
Result<std::pair<protocol::TempId, std::int64_t>> ParseReceiptLine(std::string_view line) {
  if (line.size() < protocol::TempId::kSize + 2 || line[protocol::TempId::kSize] != ' ') {
    return util::Corruption("expected \"<TempID> <receipt unix seconds>\"");
  }
  auto id = protocol::TempId::Parse(line.substr(0, protocol::TempId::kSize));
  if (!id.ok()) return util::Corruption(id.status().message());
  const std::string_view digits = line.substr(protocol::TempId::kSize + 1);
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return util::Corruption("the receipt time must be 1 to 18 decimal digits");
  }
  std::int64_t value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return std::make_pair(*id, value);
}

std::string ReceiptLine(const ContactLogRecord& r) {
  return r.entry.id.ToString() + " " + std::to_string(r.received) + "\n";
}

}  // namespace

ContactLogStore::ContactLogStore(FileSystem& fs, const util::Clock& clock,
                                 ContactLogOptions options)
    : fs_(fs),
      clock_(clock),
      options_(std::move(options)),
      log_path_(JoinPath(options_.dir, kLogFileName)),
      receipt_path_(JoinPath(options_.dir, kReceiptFileName)) {}

Result<std::unique_ptr<ContactLogStore>> ContactLogStore::Open(FileSystem& fs,
                                                               const util::Clock& clock,
                                                               ContactLogOptions options) {
  if (options.retention_seconds < 1) {
    return util::InvalidArgument("contact log retention must be at least 1 second");
  }
  BLUETRACE_RETURN_IF_ERROR(fs.CreateDirs(options.dir, 0700));
  std::unique_ptr<ContactLogStore> store(new ContactLogStore(fs, clock, std::move(options)));
  util::MutexLock lock(store->mu_);
  BLUETRACE_RETURN_IF_ERROR(store->Load());
  return store;
}

Status ContactLogStore::Load() {
  BLUETRACE_ASSIGN_OR_RETURN(auto log_text, ReadOrEmpty(fs_, log_path_));
  auto entries =
      protocol::ParseContactLog(log_text, log_path_, options_.time_mode, options_.max_entries);
  if (!entries.ok()) return entries.status();

  BLUETRACE_ASSIGN_OR_RETURN(auto receipt_text, ReadOrEmpty(fs_, receipt_path_));
  std::unordered_map<protocol::TempId, std::int64_t> receipts;
  std::string_view complete = receipt_text;
  std::string_view torn;
  if (!complete.empty() && complete.back() != '\n') {
    // The last line has no newline: an append cut short by a crash, or a whole line whose
    // newline was lost. Use it only when it parses.
    const auto nl = complete.rfind('\n');
    torn = nl == std::string_view::npos ? complete : complete.substr(nl + 1);
    complete = nl == std::string_view::npos ? std::string_view() : complete.substr(0, nl + 1);
  }
  const Status receipts_read =
      protocol::ForEachLine(complete, receipt_path_, [&](const protocol::TextLine& line) {
        BLUETRACE_ASSIGN_OR_RETURN(auto parsed, ParseReceiptLine(line.text));
        receipts[parsed.first] = parsed.second;  // the last line for a TempID counts
        return Status::Ok();
      });
  // The line splitter's own complaints (a stray CR) are kInvalidArgument; for the sidecar
  // every malformed line is corruption, as the header promises.
  if (!receipts_read.ok()) return util::Corruption(receipts_read.message());
  if (!torn.empty()) {
    auto parsed = ParseReceiptLine(torn);
    if (parsed.ok()) receipts[parsed->first] = parsed->second;
  }

  records_.clear();
  for (const protocol::ContactLogEntry& e : *entries) {
    auto it = receipts.find(e.id);
    ContactLogRecord r{e, it == receipts.end() ? e.expiry : it->second};
    if (index_.emplace(e.id, records_.size()).second) records_.push_back(r);
  }
  BLUETRACE_ASSIGN_OR_RETURN(auto removed, PruneLocked());
  if (removed == 0 && (LogText() != log_text || ReceiptText() != receipt_text)) {
    BLUETRACE_RETURN_IF_ERROR(Rewrite());
  }
  return Status::Ok();
}

std::string ContactLogStore::LogText() const {
  std::string text;
  text.reserve(records_.size() * 61);
  for (const ContactLogRecord& r : records_) {
    text += protocol::FormatContactLogLine(r.entry, options_.time_mode);
    text += '\n';
  }
  return text;
}

std::string ContactLogStore::ReceiptText() const {
  std::string text;
  text.reserve(records_.size() * 32);
  for (const ContactLogRecord& r : records_) text += ReceiptLine(r);
  return text;
}

void ContactLogStore::Reindex() {
  index_.clear();
  for (std::size_t i = 0; i < records_.size(); ++i) index_.emplace(records_[i].entry.id, i);
}

void ContactLogStore::CloseAppenders() {
  if (log_file_) (void)log_file_->Close();
  if (receipt_file_) (void)receipt_file_->Close();
  log_file_.reset();
  receipt_file_.reset();
}

Status ContactLogStore::Rewrite() {
  // Appenders would keep writing to the replaced inodes.
  CloseAppenders();
  // The log first: a crash before the sidecar is replaced leaves only extra sidecar lines.
  BLUETRACE_RETURN_IF_ERROR(fs_.ReplaceFileAtomically(log_path_, LogText(), 0600));
  return fs_.ReplaceFileAtomically(receipt_path_, ReceiptText(), 0600);
}

Result<std::size_t> ContactLogStore::PruneLocked() {
  const std::int64_t now = clock_.NowUnixSeconds();
  const std::int64_t retention = options_.retention_seconds;
  const auto expired = [now, retention](const ContactLogRecord& r) {
    // received + retention <= now, written so it cannot overflow for any stored value.
    return r.received <= std::numeric_limits<std::int64_t>::max() - retention &&
           r.received + retention <= now;
  };
  const std::size_t before = records_.size();
  records_.erase(std::remove_if(records_.begin(), records_.end(), expired), records_.end());
  const std::size_t removed = before - records_.size();
  if (removed == 0) return removed;
  Reindex();
  BLUETRACE_RETURN_IF_ERROR(Rewrite());
  return removed;
}

Result<std::size_t> ContactLogStore::Prune() {
  util::MutexLock lock(mu_);
  return PruneLocked();
}

Status ContactLogStore::AppendLocked(const ContactLogRecord& record) {
  if (!receipt_file_) {
    BLUETRACE_ASSIGN_OR_RETURN(auto f, fs_.OpenForAppend(receipt_path_, 0600));
    receipt_file_ = std::move(f);
  }
  if (!log_file_) {
    BLUETRACE_ASSIGN_OR_RETURN(auto f, fs_.OpenForAppend(log_path_, 0600));
    log_file_ = std::move(f);
  }
  // The receipt time first, so a stored entry always has one (see the header).
  BLUETRACE_RETURN_IF_ERROR(receipt_file_->Append(ReceiptLine(record)));
  BLUETRACE_RETURN_IF_ERROR(receipt_file_->Sync());
  BLUETRACE_RETURN_IF_ERROR(
      log_file_->Append(protocol::FormatContactLogLine(record.entry, options_.time_mode) + "\n"));
  return log_file_->Sync();
}

Result<ContactLogStore::AddOutcome> ContactLogStore::Add(const protocol::ContactLogEntry& entry,
                                                         std::int64_t received_unix) {
  util::MutexLock lock(mu_);
  if (index_.count(entry.id) != 0) return AddOutcome::kDuplicate;
  if (records_.size() >= options_.max_entries) {
    return util::ResourceExhausted("the contact log holds " + std::to_string(records_.size()) +
                                   " entries, its limit; the beacon was not stored");
  }
  const ContactLogRecord record{entry, received_unix};
  Status st = AppendLocked(record);
  if (!st.ok()) {
    // The tails are unknown now (a torn or unsynced line): restore the files from memory.
    Status repair = Rewrite();
    if (!repair.ok()) {
      return Status(st.code(),
                    st.message() + "; repairing the contact log failed too: " + repair.ToString());
    }
    return st;
  }
  index_.emplace(entry.id, records_.size());
  records_.push_back(record);
  return AddOutcome::kAdded;
}

Result<ContactLogStore::Snapshot> ContactLogStore::PruneAndRead() {
  util::MutexLock lock(mu_);
  BLUETRACE_RETURN_IF_ERROR(PruneLocked().status());
  BLUETRACE_ASSIGN_OR_RETURN(auto text, ReadOrEmpty(fs_, log_path_));
  BLUETRACE_ASSIGN_OR_RETURN(
      auto entries, protocol::ParseContactLog(text, log_path_, options_.time_mode,
                                              std::max(options_.max_entries, records_.size())));
  return Snapshot{std::move(text), std::move(entries)};
}

std::vector<ContactLogRecord> ContactLogStore::Records() const {
  util::MutexLock lock(mu_);
  return records_;
}

std::size_t ContactLogStore::size() const {
  util::MutexLock lock(mu_);
  return records_.size();
}

}  // namespace bluetrace::store
