// FileStaffStore: the StaffStore of the file backend (staff_store.hpp). Accounts and their
// login failures live in <state_dir>/staff.txt, one "<name> <role> <hash> <failures>
// <blocked_until>" line each, rewritten atomically and fsynced under .lock-staff on every
// change; every call re-reads the file, so bluetrace-admin's changes count at once.
// Sessions live in this handle's memory only (one server per state directory; a restart
// ends them). Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/staff_store.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

class FileStaffStore final : public StaffStore {
 public:
  // Checks that the file, when present, parses (kCorruption naming the line otherwise).
  // `fs` must outlive the store.
  static util::Result<std::unique_ptr<FileStaffStore>> Open(FileSystem& fs, std::string path,
                                                            InterProcessLock lock);

  util::Status Add(const StaffMember& member) override;
  util::Status Remove(std::string_view name) override;
  util::Status SetPasswordHash(std::string_view name, std::string_view hash) override;
  util::Result<std::optional<StaffMember>> Find(std::string_view name) override;
  util::Result<std::vector<StaffMember>> List() override;
  util::Result<std::int64_t> BlockedUntil(std::string_view name, std::int64_t now) override;
  util::Result<std::int64_t> RecordFailure(std::string_view name, std::int64_t now,
                                           std::uint32_t max_failures,
                                           std::int64_t block_seconds) override;
  util::Status RecordSuccess(std::string_view name) override;
  util::Status CreateSession(const ConsoleSession& session) override;
  util::Result<std::optional<ConsoleSession>> FindSession(std::string_view token_hash) override;
  util::Status TouchSession(std::string_view token_hash, std::int64_t now) override;
  util::Status DeleteSession(std::string_view token_hash) override;
  util::Status DeleteExpiredSessions(std::int64_t idle_before,
                                     std::int64_t created_before) override;

  struct Entry {
    StaffMember member;
    std::uint32_t failures = 0;
    std::int64_t blocked_until = 0;
  };
  using Entries = std::map<std::string, Entry, std::less<>>;

 private:
  FileStaffStore(FileSystem& fs, std::string path, InterProcessLock lock)
      : fs_(fs), path_(std::move(path)), lock_(std::move(lock)) {}

  util::Result<Entries> Load() const;
  // Re-reads the file under the inter-process lock, applies `change` and writes it back
  // when `change` returns OK.
  template <typename F>
  util::Status Modify(F change);
  void EndSessionsOf(std::string_view name);

  FileSystem& fs_;
  const std::string path_;
  const InterProcessLock lock_;
  util::Mutex write_mu_;  // one rewrite at a time within the process
  util::Mutex mu_;
  std::map<std::string, ConsoleSession, std::less<>> sessions_ GUARDED_BY(mu_);
};

// The one parser of staff.txt: kCorruption "<path>:<line>: <why>" for a malformed line (no
// final newline, a bad name, role, hash or number) or a name given twice. bluetrace-admin's
// verify and db import read the file through it.
util::Result<FileStaffStore::Entries> ParseStaffFile(std::string_view content,
                                                     const std::string& path);
// The whole file for `entries`: one line each, in the map's (byte) order, each ending in '\n'.
std::string FormatStaffFile(const FileStaffStore::Entries& entries);

}  // namespace bluetrace::store
