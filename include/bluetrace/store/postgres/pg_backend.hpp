// The PostgreSQL backend: every store on one database shared by any number of server
// instances, opened as one set (stores.hpp). The stores share one connection pool, owned
// by the set. Opening checks that the database is reachable and carries this build's
// schema version; it never migrates (that is `bluetrace-admin db migrate`'s job, run by
// the operator with the owner's rights).
#pragma once

#include <cstdint>

#include "bluetrace/store/lockout_store.hpp"
#include "bluetrace/store/password_hash.hpp"
#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/store/stores.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

struct PgBackendOptions {
  PgPoolOptions pool;
  Argon2Params argon2;
  LockoutPolicy lockout;
  LockoutPolicy code_lockout;                 // wrong upload codes per user
  std::int64_t tempid_retention_seconds = 0;  // 0: keep every TempID
};

// Opens the pool (one connection at once, so a wrong address or login fails here) and
// every store. Errors: PgPool::Open's (kInvalidArgument for bad options, kUnavailable when
// the database cannot be reached); CheckSchemaVersion's kFailedPrecondition; a store's
// kInvalidArgument for bad options. The Clock and Random must outlive the stores.
Result<Stores> OpenPgBackend(util::Clock& clock, util::Random& random,
                             const PgBackendOptions& options);

}  // namespace bluetrace::store
