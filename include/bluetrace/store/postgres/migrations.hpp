// The PostgreSQL backend's schema migrations: the versioned scripts of packaging/sql/
// ("NNN_name.sql", versions 1, 2, 3, ... without gaps), applied in order, each in its own
// transaction together with its row in schema_version (so a script holds no BEGIN or
// COMMIT of its own, and nothing that cannot run in a transaction).
//
// Several server instances may start at once on one database: ApplyMigrations holds a
// PostgreSQL advisory lock while it reads the version and migrates, so each script runs
// exactly once. Stateless functions; the connection is used by the calling thread only.
#pragma once

#include <string>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/postgres/pg_connection.hpp"

namespace bluetrace::store {

// The schema version this build works with: the number of the newest script in
// packaging/sql/ (a test keeps them equal).
inline constexpr int kSchemaVersion = 7;

// The schema version of the database: the highest applied migration, 0 for an empty
// database (no schema_version table). Errors: the connection's.
Result<int> SchemaVersion(PgConnection& conn);

// OK when the database's schema is kSchemaVersion; otherwise kFailedPrecondition saying
// which version it is and what to do (run `bluetrace-admin db migrate`, or upgrade this
// server when the database is newer). Errors: the connection's.
Status CheckSchemaVersion(PgConnection& conn);

// Applies the migrations of `dir` newer than the database's version and returns the
// version reached. Errors: kInvalidArgument for a misnamed, duplicate or missing-in-sequence
// script; kFailedPrecondition when the database is newer than the newest script (an older
// server on a newer schema); read errors of `fs`; a failing script's error (that script's
// changes are rolled back, earlier ones stay).
Result<int> ApplyMigrations(PgConnection& conn, FileSystem& fs, const std::string& dir);

}  // namespace bluetrace::store
