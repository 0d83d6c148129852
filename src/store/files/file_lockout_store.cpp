#include "bluetrace/store/files/file_lockout_store.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "bluetrace/protocol/text_lines.hpp"

namespace bluetrace::store {
namespace {

bool IsUserField(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

template <typename Int>
bool ParseDecimal(std::string_view s, Int& out) {
  if (s.empty() || s.size() > 20 || s[0] == '-' || s[0] == '+') return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

Result<std::vector<LockoutLine>> ParseLockoutsFile(std::string_view content,
                                                   std::string_view file_name) {
  std::vector<LockoutLine> lines;
  std::unordered_set<std::string> seen;
  const Status st =
      protocol::ForEachLine(content, file_name, [&](const protocol::TextLine& line) -> Status {
        const std::string_view text = line.text;
        const std::size_t a = text.find(' ');
        const std::size_t b = a == std::string_view::npos ? a : text.find(' ', a + 1);
        if (b == std::string_view::npos || text.find(' ', b + 1) != std::string_view::npos) {
          return util::InvalidArgument(
              "expected \"<user> <consecutive_failures> <blocked_until_unix>\"");
        }
        LockoutLine out;
        out.user = std::string(text.substr(0, a));
        if (!IsUserField(out.user)) return util::InvalidArgument("bad user field");
        if (!ParseDecimal(text.substr(a + 1, b - a - 1), out.failures)) {
          return util::InvalidArgument("bad consecutive_failures field");
        }
        if (!ParseDecimal(text.substr(b + 1), out.blocked_until)) {
          return util::InvalidArgument("bad blocked_until_unix field");
        }
        if (!seen.insert(out.user).second) {
          return util::InvalidArgument("duplicate user " + out.user);
        }
        lines.push_back(std::move(out));
        return Status::Ok();
      });
  if (!st.ok()) return st;
  return lines;
}

std::string FormatLockoutLine(const LockoutLine& line) {
  return line.user + ' ' + std::to_string(line.failures) + ' ' + std::to_string(line.blocked_until);
}

FileLockoutStore::FileLockoutStore(FileSystem& fs, std::string path, LockoutPolicy policy,
                                   const util::Clock& clock, InterProcessLock lock)
    : fs_(fs), path_(std::move(path)), policy_(policy), clock_(clock), lock_(std::move(lock)) {}

Result<std::unique_ptr<FileLockoutStore>> FileLockoutStore::Open(FileSystem& fs, std::string path,
                                                                 LockoutPolicy policy,
                                                                 const util::Clock& clock,
                                                                 InterProcessLock lock) {
  BLUETRACE_RETURN_IF_ERROR(ValidateLockoutPolicy(policy));
  std::unique_ptr<FileLockoutStore> store(
      new FileLockoutStore(fs, std::move(path), policy, clock, std::move(lock)));
  BLUETRACE_RETURN_IF_ERROR(store->Reload());
  return store;
}

Result<FileLockoutStore::KnownMap> FileLockoutStore::LoadFile() const {
  auto content = fs_.ReadFile(path_);
  if (!content.ok()) {
    if (content.status().code() == util::StatusCode::kNotFound) return KnownMap{};
    return content.status();
  }
  BLUETRACE_ASSIGN_OR_RETURN(auto lines, ParseLockoutsFile(*content, path_));
  const std::int64_t now = clock_.NowUnixSeconds();
  KnownMap map;
  for (const LockoutLine& line : lines) {
    // The policy may have changed since the file was written (or the clock moved back):
    // no count above the limit, no block longer than the policy allows.
    Entry entry{std::min(line.failures, policy_.max_failures),
                std::min(line.blocked_until, now + policy_.block_seconds)};
    Expire(entry, now);
    if (entry.failures > 0 || entry.blocked_until > 0) map.emplace(line.user, entry);
  }
  return map;
}

Status FileLockoutStore::Reload() {
  // write_mu_ keeps our own rewrites out while the file is read; the file is replaced
  // atomically, so reading it needs no inter-process lock.
  util::MutexLock w(write_mu_);
  BLUETRACE_ASSIGN_OR_RETURN(auto map, LoadFile());
  util::MutexLock l(mu_);
  MergeFromFile(std::move(map));
  return Status::Ok();
}

void FileLockoutStore::MergeFromFile(KnownMap file) {
  for (auto it = known_.begin(); it != known_.end();) {
    if (dirty_.count(it->first) == 0 && file.count(it->first) == 0) {
      it = known_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [user, entry] : file) {
    if (dirty_.count(user) != 0) continue;
    ForgetUnknown(user);
    known_[user] = entry;
  }
}

void FileLockoutStore::Expire(Entry& entry, std::int64_t now) const {
  if (entry.blocked_until != 0 && entry.blocked_until <= now) entry = Entry{};
}

const FileLockoutStore::Entry* FileLockoutStore::Find(std::string_view user) const {
  const std::string key(user);
  if (auto it = known_.find(key); it != known_.end()) return &it->second;
  if (auto it = unknown_index_.find(key); it != unknown_index_.end()) return &it->second->second;
  return nullptr;
}

void FileLockoutStore::ForgetUnknown(const std::string& user) {
  if (auto it = unknown_index_.find(user); it != unknown_index_.end()) {
    unknown_lru_.erase(it->second);
    unknown_index_.erase(it);
  }
}

BlockState FileLockoutStore::Check(std::string_view user) const {
  const std::int64_t now = clock_.NowUnixSeconds();
  util::MutexLock l(mu_);
  const Entry* entry = Find(user);
  if (entry == nullptr || entry->blocked_until <= now) return BlockState{};
  return BlockState{true, entry->blocked_until - now};
}

Result<FailureResult> FileLockoutStore::RecordFailure(std::string_view user, bool known_user) {
  const std::int64_t now = clock_.NowUnixSeconds();
  FailureResult result;
  std::uint64_t version = 0;
  bool persist = false;
  {
    util::MutexLock l(mu_);
    const std::string key(user);
    Entry* entry = nullptr;
    auto known_it = known_.find(key);
    auto lru_it = unknown_index_.find(key);
    if (known_it != known_.end()) {
      entry = &known_it->second;
      persist = true;
    } else if (known_user) {
      // A name that failed before it was registered keeps its count.
      Entry carried;
      if (lru_it != unknown_index_.end()) carried = lru_it->second->second;
      ForgetUnknown(key);
      entry = &known_.emplace(key, carried).first->second;
      persist = true;
    } else if (lru_it != unknown_index_.end()) {
      unknown_lru_.splice(unknown_lru_.begin(), unknown_lru_, lru_it->second);
      entry = &unknown_lru_.front().second;
    } else {
      unknown_lru_.emplace_front(key, Entry{});
      unknown_index_.emplace(key, unknown_lru_.begin());
      if (unknown_lru_.size() > policy_.max_unknown_entries) {
        unknown_index_.erase(unknown_lru_.back().first);
        unknown_lru_.pop_back();
      }
      entry = &unknown_lru_.front().second;
    }
    Expire(*entry, now);
    if (entry->blocked_until > now) {
      // Already blocked: the caller should not have verified at all; nothing changes.
      return FailureResult{true, 0, entry->blocked_until - now};
    }
    entry->failures = std::min(entry->failures + 1, policy_.max_failures);
    if (entry->failures >= policy_.max_failures) {
      entry->blocked_until = now + policy_.block_seconds;
      result = FailureResult{true, 0, policy_.block_seconds};
    } else {
      result = FailureResult{false, policy_.max_failures - entry->failures, 0};
    }
    if (persist) {
      dirty_.insert(key);
      version = ++version_;
    }
  }
  if (persist) BLUETRACE_RETURN_IF_ERROR(Persist(version));
  return result;
}

Status FileLockoutStore::RecordSuccess(std::string_view user) {
  std::uint64_t version = 0;
  {
    util::MutexLock l(mu_);
    const std::string key(user);
    ForgetUnknown(key);
    if (known_.erase(key) == 0) return Status::Ok();
    dirty_.insert(key);
    version = ++version_;
  }
  return Persist(version);
}

Status FileLockoutStore::Unblock(std::string_view user) {
  const std::int64_t now = clock_.NowUnixSeconds();
  std::uint64_t version = 0;
  {
    util::MutexLock l(mu_);
    const Entry* entry = Find(user);
    if (entry == nullptr || entry->blocked_until <= now) {
      return util::NotFound(std::string(user) + " is not blocked");
    }
    const std::string key(user);
    ForgetUnknown(key);
    if (known_.erase(key) == 0) return Status::Ok();
    dirty_.insert(key);
    version = ++version_;
  }
  return Persist(version);
}

std::vector<BlockedUser> FileLockoutStore::ListBlocked() const {
  const std::int64_t now = clock_.NowUnixSeconds();
  std::vector<BlockedUser> out;
  {
    util::MutexLock l(mu_);
    for (const auto& [user, entry] : known_) {
      if (entry.blocked_until > now) {
        out.push_back({user, entry.blocked_until, entry.blocked_until - now, true});
      }
    }
    for (const auto& [user, entry] : unknown_lru_) {
      if (entry.blocked_until > now) {
        out.push_back({user, entry.blocked_until, entry.blocked_until - now, false});
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const BlockedUser& a, const BlockedUser& b) { return a.user < b.user; });
  return out;
}

std::size_t FileLockoutStore::known_entries() const {
  util::MutexLock l(mu_);
  return known_.size();
}

std::size_t FileLockoutStore::unknown_entries() const {
  util::MutexLock l(mu_);
  return unknown_lru_.size();
}

std::string FileLockoutStore::Serialize(std::int64_t now) const {
  std::vector<std::pair<std::string_view, Entry>> rows;
  for (const auto& [user, entry] : known_) {
    Entry e = entry;
    Expire(e, now);
    if (e.failures > 0 || e.blocked_until > 0) rows.emplace_back(user, e);
  }
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [user, e] : rows) {
    out += FormatLockoutLine({std::string(user), e.failures, e.blocked_until});
    out += '\n';
  }
  return out;
}

Status FileLockoutStore::Persist(std::uint64_t version) {
  util::MutexLock w(write_mu_);
  // A rewrite made while this thread waited may already contain its change.
  if (persisted_version_ >= version) return Status::Ok();
  // Under the inter-process lock the file cannot change until our rewrite replaces it, so
  // what we merge with is what we write over.
  auto held = AcquireLock(fs_, lock_);
  if (!held.ok()) return held.status().WithContext("persist lockouts");
  auto on_disk = LoadFile();
  if (!on_disk.ok()) return on_disk.status().WithContext("persist lockouts");
  std::string contents;
  std::uint64_t snapshot_version = 0;
  std::unordered_set<std::string> written;
  {
    util::MutexLock l(mu_);
    MergeFromFile(std::move(on_disk).value());
    contents = Serialize(clock_.NowUnixSeconds());
    snapshot_version = version_;
    written.swap(dirty_);
  }
  Status st = fs_.ReplaceFileAtomically(path_, contents, 0600);
  if (!st.ok()) {
    // Still newer than the file: they go out with the next write.
    util::MutexLock l(mu_);
    dirty_.merge(written);
    return st.WithContext("persist lockouts");
  }
  persisted_version_ = snapshot_version;
  return Status::Ok();
}

}  // namespace bluetrace::store
