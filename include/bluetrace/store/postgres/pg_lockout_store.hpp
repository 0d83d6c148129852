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
// The same statements serve a second table of the same shape, `upload_code_failures`
// (packaging/sql/003_upload_codes.sql): the wrong upload codes per user, counted and
// blocked by the same rules under their own policy.
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
  static constexpr char kLoginTable[] = "lockouts";
  static constexpr char kUploadCodeTable[] = "upload_code_failures";

  // Errors: ValidateLockoutPolicy's; kInvalidArgument for a `table` other than the two
  // above. Does not touch the database.
  static Result<std::unique_ptr<PgLockoutStore>> Open(PgPool& pool, LockoutPolicy policy,
                                                      const util::Clock& clock,
                                                      std::string_view table = kLoginTable);

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
  PgLockoutStore(PgPool& pool, LockoutPolicy policy, const util::Clock& clock,
                 std::string_view table);
  // `sql` with every "lockouts" replaced by this store's table.
  std::string Sql(std::string_view sql) const;

  PgPool& pool_;
  const LockoutPolicy policy_;
  const util::Clock& clock_;
  const std::string table_;
};

}  // namespace bluetrace::store
