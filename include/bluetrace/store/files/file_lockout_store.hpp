// FileLockoutStore: the LockoutStore of lockouts.txt (rules and contract:
// store/lockout_store.hpp). Known users' entries are persisted, one line
// "<user> <consecutive_failures> <blocked_until_unix>" per user with failures or a block,
// rewritten atomically (group commit; disk I/O never holds the lock Check() needs).
// Names that are no account live only in memory, in an LRU of `max_unknown_entries` (one
// evicted starts again from zero; rate limiting makes that expensive), so a spray of names
// grows neither memory nor the file. bluetrace-admin rewrites the same file: see Persist
// and Reload for how the two merge. Thread-safe; the FileSystem and Clock must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/lockout_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/status.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

// One line of lockouts.txt, "<user> <consecutive_failures> <blocked_until_unix>", the
// values as written (no policy applied).
struct LockoutLine {
  std::string user;
  std::uint32_t failures = 0;
  std::int64_t blocked_until = 0;  // unix seconds; 0: not blocked
  friend bool operator==(const LockoutLine&, const LockoutLine&) = default;
};

// The one parser of lockouts.txt (the layout rules of protocol/text_lines.hpp): a malformed
// line or a user named twice is kInvalidArgument naming `file_name` and the line.
Result<std::vector<LockoutLine>> ParseLockoutsFile(std::string_view content,
                                                   std::string_view file_name);
// The line for `line`, without a line end. The file lists users in byte order, one per line,
// each ending in '\n'.
std::string FormatLockoutLine(const LockoutLine& line);

class FileLockoutStore final : public LockoutStore {
 public:
  // Loads `path` (a missing file is an empty store). A malformed file is kInvalidArgument
  // naming the file and the line; I/O errors as FileSystem reports them; a bad policy is
  // kInvalidArgument. Blocks that have already run out are dropped while loading.
  // `lock` coordinates the rewrites with other processes (see above); empty: none.
  static Result<std::unique_ptr<FileLockoutStore>> Open(FileSystem& fs, std::string path,
                                                        LockoutPolicy policy,
                                                        const util::Clock& clock,
                                                        InterProcessLock lock = {});

  FileLockoutStore(const FileLockoutStore&) = delete;
  FileLockoutStore& operator=(const FileLockoutStore&) = delete;

  BlockState Check(std::string_view user) const override;
  // Errors: only from persisting a known user's entry (see Durability in LockoutStore).
  Result<FailureResult> RecordFailure(std::string_view user, bool known_user) override;
  // Writes only when there were failures to forget.
  Status RecordSuccess(std::string_view user) override;
  Status Unblock(std::string_view user) override;
  std::vector<BlockedUser> ListBlocked() const override;

  // Re-reads the state file for changes made by another process (bluetrace-admin).
  // Known users' entries are replaced by the file's, except those changed here and not yet
  // written; unknown names are kept. On error the store is unchanged.
  Status Reload() override;

  std::size_t known_entries() const;
  std::size_t unknown_entries() const;

 private:
  struct Entry {
    std::uint32_t failures = 0;
    std::int64_t blocked_until = 0;  // 0: not blocked
  };
  using KnownMap = std::unordered_map<std::string, Entry>;
  using LruList = std::list<std::pair<std::string, Entry>>;  // most recent first

  FileLockoutStore(FileSystem& fs, std::string path, LockoutPolicy policy, const util::Clock& clock,
                   InterProcessLock lock);

  Result<KnownMap> LoadFile() const;
  // Takes the file's entries for every known user not in dirty_.
  void MergeFromFile(KnownMap file) REQUIRES(mu_);
  // The entry of `user` (known map first, then the LRU), or nullptr.
  const Entry* Find(std::string_view user) const REQUIRES(mu_);
  // Drops `user` from the unknown-name LRU, if there.
  void ForgetUnknown(const std::string& user) REQUIRES(mu_);
  // Forgets a block that has run out: the count starts again from zero.
  void Expire(Entry& entry, std::int64_t now) const;
  // Makes the state of version `version` (or a later one) durable. Holds the
  // InterProcessLock given at Open while it re-reads the file and merges: entries of users
  // changed here since the last write are this store's, every other entry is the file's;
  // so an admin's unblock is never written over, nor the server's failures lost. A lock not
  // had in time fails like a failed write: the change stands in memory (a failing disk
  // must not weaken a lockout) and goes out with the next write.
  Status Persist(std::uint64_t version) EXCLUDES(mu_, write_mu_);
  std::string Serialize(std::int64_t now) const REQUIRES(mu_);

  FileSystem& fs_;
  const std::string path_;
  const LockoutPolicy policy_;
  const util::Clock& clock_;
  const InterProcessLock lock_;

  mutable util::Mutex mu_;
  KnownMap known_ GUARDED_BY(mu_);
  // Known users changed here since the last successful write (their entry, or its
  // absence, is newer than the file's).
  std::unordered_set<std::string> dirty_ GUARDED_BY(mu_);
  LruList unknown_lru_ GUARDED_BY(mu_);
  std::unordered_map<std::string, LruList::iterator> unknown_index_ GUARDED_BY(mu_);
  std::uint64_t version_ GUARDED_BY(mu_) = 0;  // bumped by every change of known_

  // Serialises rewrites of the file; taken before mu_, never while holding it.
  util::Mutex write_mu_;
  std::uint64_t persisted_version_ GUARDED_BY(write_mu_) = 0;
};

}  // namespace bluetrace::store
