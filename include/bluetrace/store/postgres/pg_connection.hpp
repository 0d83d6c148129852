// PgConnection: one libpq connection to the PostgreSQL backend's database, and PgResult,
// the rows a statement returned.
//
// Every statement with values goes through PQexecParams with the values as separate
// parameters ($1, $2, ...): no value is ever spliced into SQL text. ExecScript (PQexec)
// exists only for the trusted, parameter-free migration scripts shipped with the package.
// Each connection gets a statement timeout at start-up (a hung statement fails as
// kUnavailable instead of holding a server thread) and a connect timeout.
//
// A remote database is reached only over TLS that checks the server's certificate and
// name: a host that is neither a Unix socket directory nor loopback (localhost, 127.0.0.1,
// ::1) needs sslmode=verify-full (and the CA in sslrootcert), checked before connecting and
// again on the connection made. The password never travels in the connection string
// (refused): it comes from PgOptions::password or libpq's PGPASSWORD / ~/.pgpass.
//
// Errors are util::Status values naming the statement and the SQL state, e.g.
// "insert user: SQLSTATE 23505: duplicate key ...", with the code mapped by class:
// connection problems, a cancelled (timed-out) statement, serialization failures and
// deadlocks are kUnavailable (retrying later may succeed); 23505 kAlreadyExists; other
// integrity violations and a missing table (42xxx) kFailedPrecondition; 53xxx
// kResourceExhausted; data errors (22xxx) kInvalidArgument; anything else kInternal.
//
// Not thread-safe: one thread uses a connection at a time (PgPool hands them out).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/util/status.hpp"

struct pg_conn;
struct pg_result;

namespace bluetrace::store {

using util::Result;
using util::Status;

struct PgOptions {
  // A libpq connection string, e.g. "host=/run/postgresql dbname=bluetrace user=bluetrace".
  std::string conninfo;
  // The password, e.g. read from a file; empty: libpq's own sources. Not kept in messages.
  std::string password{};
  // Longest a single statement may run before the server cancels it (kUnavailable).
  std::chrono::milliseconds statement_timeout{5000};
  // Longest connecting may take, in whole seconds (libpq's connect_timeout; >= 2).
  int connect_timeout_seconds = 5;
};

// OK, or kInvalidArgument for a malformed connection string, one holding a password, or
// a remote host without sslmode=verify-full (see the top of this file).
Status ValidatePgOptions(const PgOptions& options);

// A parameter value: nullopt is SQL NULL. Values are sent as text.
using PgParam = std::optional<std::string>;

// The result of one statement. Move-only; owns its PGresult.
class PgResult {
 public:
  explicit PgResult(pg_result* res);
  ~PgResult();
  PgResult(PgResult&& other) noexcept;
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  bool IsNull(int row, int col) const;
  // The value as text; empty for NULL. Valid while the result lives.
  std::string_view Get(int row, int col) const;
  // The value as a 64-bit integer; kInternal when it is none.
  Result<std::int64_t> GetInt(int row, int col) const;
  // Rows an INSERT, UPDATE or DELETE touched (PQcmdTuples); 0 for other statements.
  std::uint64_t affected_rows() const;

 private:
  pg_result* res_;
};

class PgConnection {
 public:
  // Connects and sets the statement timeout. Errors: ValidatePgOptions's; kUnavailable when
  // the server cannot be reached or refuses the login (libpq's message).
  static Result<std::unique_ptr<PgConnection>> Open(const PgOptions& options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement with `params` bound to $1.. (PQexecParams). `what` names the
  // statement in error messages. Errors: see the top of this file.
  Result<PgResult> Exec(std::string_view what, const std::string& sql,
                        const std::vector<PgParam>& params = {});
  // Runs a trusted script of several parameter-free statements (PQexec): only for the
  // migrations shipped with the package and fixed statements such as BEGIN or COMMIT.
  Status ExecScript(std::string_view what, const std::string& sql);

  // Sends one piece of COPY data (any size, split anywhere).
  using CopyWriter = std::function<Status(std::string_view data)>;
  // Runs `copy_sql`, a fixed "COPY <table> (...) FROM STDIN" statement, and calls `produce`
  // with a writer that streams its data to the server (PQputCopyData), so the caller holds
  // no more than it chooses to buffer; then ends the COPY (PQputCopyEnd, PQgetResult) and
  // returns the rows copied. An error `produce` returns aborts the COPY (nothing of it is
  // kept) and is returned as it is; otherwise errors as Exec's (a row the server refuses
  // fails the whole COPY).
  Result<std::uint64_t> CopyIn(std::string_view what, const std::string& copy_sql,
                               const std::function<Status(const CopyWriter& write)>& produce);

  // False once the connection is broken or was left inside a transaction (a caller that
  // failed between BEGIN and COMMIT); PgPool then closes it, which rolls that back.
  bool healthy() const;

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  // The Status for a failed `res` (may be null when libpq could not even send).
  Status ErrorOf(std::string_view what, const pg_result* res) const;

  pg_conn* conn_;
};

}  // namespace bluetrace::store
