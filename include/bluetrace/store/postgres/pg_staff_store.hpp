// PgStaffStore: the StaffStore of the PostgreSQL backend (staff_store.hpp) on the tables
// console_staff and console_sessions (packaging/sql/003_console.sql): accounts, failures
// and sessions are rows, so every server instance shares them. Thread-safe (the pool is).
#pragma once

#include <memory>

#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/store/staff_store.hpp"

namespace bluetrace::store {

class PgStaffStore final : public StaffStore {
 public:
  static std::unique_ptr<PgStaffStore> Open(PgPool& pool) {
    return std::unique_ptr<PgStaffStore>(new PgStaffStore(pool));
  }

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

 private:
  explicit PgStaffStore(PgPool& pool) : pool_(pool) {}
  PgPool& pool_;
};

}  // namespace bluetrace::store
