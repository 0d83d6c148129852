// LockoutStore: consecutive login failures per user and the blocks they cause
// (docs/ORIGINAL.md §3, 5, 6.1, 6.2).
//
// Rules. After `max_failures` consecutive failures a user is blocked for `block_seconds`;
// while blocked even the right password is refused (the caller asks Check() before it
// verifies anything). A success resets the count. Counts are per user, whatever the
// connection or source address. Once a block has run out the count starts again from
// zero. All time comes from the injected Clock.
//
// Known and unknown names. The caller says whether the name is a registered user. Entries
// of known users are persisted in a state file and survive a restart: one line
// "<user> <consecutive_failures> <blocked_until_unix>" per user with failures or an active
// block, rewritten atomically on every change. Entries of unknown names live only in
// memory, in an LRU of at most `max_unknown_entries`, and never touch the disk, so a spray
// of random names can neither grow memory without bound nor fill the disk. Unknown names
// are counted and blocked exactly like known ones, so the answers of RecordFailure and
// Check do not reveal whether an account exists. The one limit: an unknown name evicted
// from the LRU (after max_unknown_entries other unknown names failed since) starts again
// from zero, which a known user would not; rate limiting makes that many attempts
// expensive.
//
// Durability. A change is made in memory first and then written; when the write fails the
// error is returned, but the in-memory change stands (a failing disk must not weaken a
// lockout, nor turn a correct login into a failure) and the next successful write
// persists it. The file on disk always holds a complete earlier or later state. Several
// concurrent changes share one rewrite (group commit); disk I/O never holds the lock
// that Check() needs.
//
// Other processes. The server and bluetrace-admin both change the file. Every rewrite
// holds the InterProcessLock given at Open, re-reads the file under it and merges: the
// entries of users this store changed since its last write are its own, every other
// entry is taken from the file. So an admin's unblock is never written over by the
// server's next rewrite, and the server's failures are never lost to an admin's rewrite.
// Reload() merges the same way. If the lock cannot be had in time, the write fails like
// any other failed write (the change stands in memory and goes out with the next one).
//
// Thread-safe. The FileSystem and the Clock must outlive the store.
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
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/status.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

struct LockoutPolicy {
  std::uint32_t max_failures = 3;           // consecutive failures that cause a block, >= 1
  std::int64_t block_seconds = 60;          // the original's block_duration, 1 s to 1 year
  std::size_t max_unknown_entries = 10000;  // memory bound for names that are no account
};

// OK, or kInvalidArgument naming the field out of range.
Status ValidateLockoutPolicy(const LockoutPolicy& policy);

struct BlockState {
  bool blocked = false;
  std::int64_t seconds_left = 0;  // > 0 when blocked
};

struct FailureResult {
  bool now_blocked = false;         // this failure caused the block (or one was running)
  std::uint32_t attempts_left = 0;  // failures still allowed before a block; 0 when blocked
  std::int64_t block_seconds = 0;   // when blocked: how long the block still lasts
};

struct BlockedUser {
  std::string user;
  std::int64_t blocked_until = 0;  // unix seconds
  std::int64_t seconds_left = 0;
  bool known = false;  // false: a name that is no account (kept only in memory)
};

class LockoutStore {
 public:
  // The lock file, in the state directory, that every process rewriting lockouts.txt
  // there takes (the server and bluetrace-admin).
  static constexpr char kLockFileName[] = ".lock-lockouts";

  // Loads `path` (a missing file is an empty store). A malformed file is kInvalidArgument
  // naming the file and the line; I/O errors as FileSystem reports them; a bad policy is
  // kInvalidArgument. Blocks that have already run out are dropped while loading.
  // `lock` coordinates the rewrites with other processes (see above); empty: none.
  static Result<std::unique_ptr<LockoutStore>> Open(FileSystem& fs, std::string path,
                                                    LockoutPolicy policy, const util::Clock& clock,
                                                    InterProcessLock lock = {});

  LockoutStore(const LockoutStore&) = delete;
  LockoutStore& operator=(const LockoutStore&) = delete;

  // Whether `user` is blocked now, and for how long still.
  BlockState Check(std::string_view user) const;

  // Counts one failed login of `user`. A failure while a block runs does not extend it.
  // Errors: only from persisting a known user's entry (see Durability above).
  Result<FailureResult> RecordFailure(std::string_view user, bool known_user);

  // A successful login: forgets the user's failures. Writes only when there were any.
  Status RecordSuccess(std::string_view user);

  // Lifts an active block (the admin's command) and forgets the failures. kNotFound when
  // `user` is not blocked.
  Status Unblock(std::string_view user);

  // Users blocked right now, known and unknown, sorted by name.
  std::vector<BlockedUser> ListBlocked() const;

  // Re-reads the state file for changes made by another process (bluetrace-admin).
  // Known users' entries are replaced by the file's, except those changed here and not yet
  // written; unknown names are kept. On error the store is unchanged.
  Status Reload();

  std::size_t known_entries() const;
  std::size_t unknown_entries() const;

 private:
  struct Entry {
    std::uint32_t failures = 0;
    std::int64_t blocked_until = 0;  // 0: not blocked
  };
  using KnownMap = std::unordered_map<std::string, Entry>;
  using LruList = std::list<std::pair<std::string, Entry>>;  // most recent first

  LockoutStore(FileSystem& fs, std::string path, LockoutPolicy policy, const util::Clock& clock,
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
  // Makes the state of version `version` (or a later one) durable.
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
