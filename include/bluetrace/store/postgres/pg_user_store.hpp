// PgUserStore: the UserStore on PostgreSQL's `users` table (packaging/sql/001_initial.sql).
//
// Every call reads or writes the database, so changes made by other server instances or
// bluetrace-admin are seen at once and Reload() has nothing to do. The primary key on the
// canonical phone number makes registration unique across instances (INSERT ... ON
// CONFLICT DO NOTHING: the affected row count tells who won); SetPassword and RemoveUser
// are one UPDATE / DELETE whose affected row count tells whether the user existed. Each
// change is one autocommitted statement, durable when it returns OK (as durable as the
// database's synchronous_commit makes it).
//
// Only Argon2id encodings are stored: there are no plaintext rows to upgrade. Every Verify
// costs one Argon2id verification: an unknown user is checked against a dummy hash made
// at Open with the same parameters.
//
// Thread-safe: Argon2 runs without a database connection held; each statement takes a
// connection from the pool for its duration. The pool and the Random must outlive the
// store. Passwords passed in are not kept.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "bluetrace/store/password_hash.hpp"
#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/store/user_store.hpp"
#include "bluetrace/util/random.hpp"

namespace bluetrace::store {

class PgUserStore final : public UserStore {
 public:
  // Errors: kInvalidArgument for bad `params`; the random generator's error (the dummy
  // hash needs a salt). Does not touch the database (the schema is ApplyMigrations' job).
  static Result<std::unique_ptr<PgUserStore>> Open(PgPool& pool, Argon2Params params,
                                                   util::Random& random);

  PgUserStore(const PgUserStore&) = delete;
  PgUserStore& operator=(const PgUserStore&) = delete;

  // Errors: a stored secret that is no valid Argon2id encoding (kInvalidArgument naming the
  // user), libargon2 failing (kInternal), the database's (see pg_connection.hpp).
  // `*upgrade_status` is always OK: nothing is ever upgraded.
  Result<VerifyResult> Verify(std::string_view user, std::string_view password,
                              Status* upgrade_status = nullptr) override;
  // Errors: kInvalidArgument for a bad phone number or password, kAlreadyExists, the
  // database's (kUnavailable when it is busy or away).
  Status AddUser(std::string_view user, std::string_view password) override;
  // kNotFound for an absent user, the database's errors.
  Status SetPassword(std::string_view user, std::string_view password) override;
  Status RemoveUser(std::string_view user) override;
  // Nothing to reload: always OK.
  Status Reload() override { return Status::Ok(); }

  // These two have no error channel: when the database fails they answer false and 0.
  bool Contains(std::string_view user) const override;
  std::size_t size() const override;

 private:
  PgUserStore(PgPool& pool, Argon2Params params, util::Random& random)
      : pool_(pool), params_(params), random_(random) {}

  // The stored secret of `canonical`, or nullopt when there is no such user.
  Result<std::optional<std::string>> SecretOf(const std::string& canonical) const;

  PgPool& pool_;
  const Argon2Params params_;
  util::Random& random_;
  std::string dummy_hash_;  // set once in Open, read-only afterwards
};

}  // namespace bluetrace::store
