// PgLockoutStore: the LockoutStore on PostgreSQL's `lockouts` table
// (packaging/sql/001_initial.sql), shared by every server instance on the database.
//
// RecordFailure is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING statement: the
// database counts, blocks and answers under the row's lock, so concurrent failures from
// any number of threads and instances add up exactly and only the max_failures-th blocks;
// the process never reads, modifies and writes back. Times come from the injected clock
// and are passed as parameters. Every call reads the database, so changes of other
// instances (an admin's unblock) are seen at once and Reload() has nothing to do.
//
// Differences from the file backend, by design: names that are no account are stored too
// (known = false), so all instances give them the same answers; after each failure of
// such a name the least recently failed ones beyond max_unknown_entries are deleted (the
// file backend's LRU, shared by all instances). When the database fails, RecordFailure
// returns its error and nothing stands in memory; Check and ListBlocked, which have no
// error channel, then answer "not blocked" and an empty list: with the users table in the
// same database, no password is checked meanwhile anyway.
//
// Thread-safe. The pool and the clock must outlive the store.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "bluetrace/store/lockout_store.hpp"
#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/util/clock.hpp"

namespace bluetrace::store {

class PgLockoutStore final : public LockoutStore {
 public:
  // Errors: ValidateLockoutPolicy's. Does not touch the database.
  static Result<std::unique_ptr<PgLockoutStore>> Open(PgPool& pool, LockoutPolicy policy,
                                                      const util::Clock& clock);

  PgLockoutStore(const PgLockoutStore&) = delete;
  PgLockoutStore& operator=(const PgLockoutStore&) = delete;

  BlockState Check(std::string_view key) const override;
  // Errors: the database's (see pg_connection.hpp).
  Result<FailureResult> RecordFailure(std::string_view key, bool known_user) override;
  Status RecordSuccess(std::string_view key) override;
  Status Unblock(std::string_view key) override;
  std::vector<BlockedUser> ListBlocked() const override;
  Status Reload() override { return Status::Ok(); }

 private:
  PgLockoutStore(PgPool& pool, LockoutPolicy policy, const util::Clock& clock)
      : pool_(pool), policy_(policy), clock_(clock) {}

  PgPool& pool_;
  const LockoutPolicy policy_;
  const util::Clock& clock_;
};

}  // namespace bluetrace::store
