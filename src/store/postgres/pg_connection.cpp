#include "bluetrace/store/postgres/pg_connection.hpp"

#include <libpq-fe.h>

#include <stdlib.h>

#include <charconv>
#include <utility>

namespace bluetrace::store {
namespace {

bool IsLoopbackHost(std::string_view host) {
  return host.empty() || host.front() == '/' || host == "localhost" || host == "127.0.0.1" ||
         host == "::1";
}

// Every comma-separated entry of a libpq host list is loopback or a socket directory.
bool AllLoopback(const char* list) {
  if (list == nullptr) return true;
  std::string_view rest(list);
  while (true) {
    const std::size_t comma = rest.find(',');
    if (!IsLoopbackHost(rest.substr(0, comma))) return false;
    if (comma == std::string_view::npos) return true;
    rest.remove_prefix(comma + 1);
  }
}

util::StatusCode CodeOfSqlState(std::string_view state) {
  const std::string_view cls = state.substr(0, 2);
  if (cls == "08" || state == "57014" || cls == "57" || state == "40001" || state == "40P01") {
    return util::StatusCode::kUnavailable;
  }
  if (state == "23505") return util::StatusCode::kAlreadyExists;
  if (cls == "23" || cls == "42") return util::StatusCode::kFailedPrecondition;
  if (cls == "53") return util::StatusCode::kResourceExhausted;
  if (cls == "22") return util::StatusCode::kInvalidArgument;
  return util::StatusCode::kInternal;
}

Status NotLoopback(std::string_view what, std::string_view host) {
  return util::InvalidArgument("PostgreSQL " + std::string(what) + " " + std::string(host) +
                               " is neither loopback nor a Unix socket: a remote database is "
                               "reached only with sslmode=verify-full (and sslrootcert)");
}

// The connection runs over TLS with the server's certificate and name checked.
bool VerifiedTls(pg_conn* conn) {
  if (PQsslInUse(conn) == 0) return false;
  PQconninfoOption* used = PQconninfo(conn);
  if (used == nullptr) return false;
  bool verify_full = false;
  for (PQconninfoOption* o = used; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "sslmode" && o->val != nullptr) {
      verify_full = std::string_view(o->val) == "verify-full";
    }
  }
  PQconninfoFree(used);
  return verify_full;
}

std::string Trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Status ValidatePgOptions(const PgOptions& options) {
  if (options.connect_timeout_seconds < 2) {
    return util::InvalidArgument("connect timeout must be at least 2 seconds");
  }
  if (options.statement_timeout.count() <= 0) {
    return util::InvalidArgument("statement timeout must be positive");
  }
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.conninfo.c_str(), &error);
  if (parsed == nullptr) {
    Status st = util::InvalidArgument("malformed PostgreSQL connection string: " + Trimmed(error));
    PQfreemem(error);
    return st;
  }
  Status st;
  // Not in the string: libpq falls back to the environment (PGHOST, PGSSLMODE, ...).
  auto value_of = [](const PQconninfoOption* o) -> const char* {
    return o->val != nullptr ? o->val : (o->envvar != nullptr ? getenv(o->envvar) : nullptr);
  };
  bool verify_full = false;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    const char* value = value_of(o);
    if (std::string_view(o->keyword) == "sslmode") {
      verify_full = value != nullptr && std::string_view(value) == "verify-full";
    }
  }
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    const std::string_view key = o->keyword;
    if (key == "password" && o->val != nullptr) {
      st = util::InvalidArgument(
          "the PostgreSQL connection string must not hold the password: use a password file "
          "(postgres.password_file), PGPASSWORD or ~/.pgpass");
      break;
    }
    if (key != "host" && key != "hostaddr") continue;
    const char* value = value_of(o);
    if (!verify_full && !AllLoopback(value)) st = NotLoopback(o->keyword, value);
  }
  PQconninfoFree(parsed);
  return st;
}

PgResult::PgResult(pg_result* res) : res_(res) {}
PgResult::~PgResult() { PQclear(res_); }
PgResult::PgResult(PgResult&& other) noexcept : res_(std::exchange(other.res_, nullptr)) {}
PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    PQclear(res_);
    res_ = std::exchange(other.res_, nullptr);
  }
  return *this;
}

int PgResult::rows() const { return PQntuples(res_); }

bool PgResult::IsNull(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }

std::string_view PgResult::Get(int row, int col) const {
  return {PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col))};
}

Result<std::int64_t> PgResult::GetInt(int row, int col) const {
  const std::string_view text = Get(row, col);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return util::Internal("PostgreSQL returned '" + std::string(text) + "' for an integer");
  }
  return value;
}

std::uint64_t PgResult::affected_rows() const {
  const std::string_view text = PQcmdTuples(res_);
  std::uint64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const PgOptions& options) {
  BLUETRACE_RETURN_IF_ERROR(ValidatePgOptions(options));
  const std::string connect_timeout = std::to_string(options.connect_timeout_seconds);
  // No JIT: the service runs short statements, which JIT compilation only slows down.
  const std::string server_options =
      "-c statement_timeout=" + std::to_string(options.statement_timeout.count()) + " -c jit=off";
  // Later keywords win over the connection string (expand_dbname=1 reads it first).
  // An empty password must not override libpq's own sources: leave the keyword out.
  const char* keys[] = {"dbname",           "connect_timeout", "options",
                        "application_name", "password",        nullptr};
  const char* values[] = {options.conninfo.c_str(), connect_timeout.c_str(),
                          server_options.c_str(),   "bluetrace",
                          options.password.c_str(), nullptr};
  if (options.password.empty()) keys[4] = nullptr;
  pg_conn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return util::ResourceExhausted("libpq could not allocate a connection");
  std::unique_ptr<PgConnection> out(new PgConnection(conn));
  if (PQstatus(conn) != CONNECTION_OK) {
    return util::Unavailable("connecting to PostgreSQL: " + Trimmed(PQerrorMessage(conn)));
  }
  // A service file (pg_service.conf) can still name a host: check where we ended up.
  if (const char* host = PQhost(conn); !AllLoopback(host) && !VerifiedTls(conn)) {
    return NotLoopback("host", host);
  }
  // Notices ("relation ... already exists, skipping") are no errors; libpq would print
  // them on stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return out;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::healthy() const {
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

Status PgConnection::ErrorOf(std::string_view what, const pg_result* res) const {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (state == nullptr) {
    // No SQL state: libpq itself failed (connection lost, out of memory).
    return util::Unavailable(std::string(what) + ": " + Trimmed(PQerrorMessage(conn_)));
  }
  return Status(CodeOfSqlState(state),
                std::string(what) + ": SQLSTATE " + state + ": " +
                    Trimmed(primary != nullptr ? primary : PQerrorMessage(conn_)));
}

Result<PgResult> PgConnection::Exec(std::string_view what, const std::string& sql,
                                    const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& p : params) values.push_back(p ? p->c_str() : nullptr);
  pg_result* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()),
                                /*paramTypes=*/nullptr, values.data(), /*paramLengths=*/nullptr,
                                /*paramFormats=*/nullptr, /*resultFormat=*/0);
  PgResult owned(res);  // cleared on every path
  const ExecStatusType status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return ErrorOf(what, res);
  return owned;
}

Status PgConnection::ExecScript(std::string_view what, const std::string& sql) {
  // PQexec returns the last statement's result; an error stops the script there.
  pg_result* res = PQexec(conn_, sql.c_str());
  PgResult owned(res);
  const ExecStatusType status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return ErrorOf(what, res);
  return Status::Ok();
}

Result<std::uint64_t> PgConnection::CopyIn(
    std::string_view what, const std::string& copy_sql,
    const std::function<Status(const CopyWriter& write)>& produce) {
  {
    pg_result* start = PQexec(conn_, copy_sql.c_str());
    PgResult owned(start);
    if (PQresultStatus(start) != PGRES_COPY_IN) return ErrorOf(what, start);
  }
  const CopyWriter write = [&](std::string_view data) -> Status {
    if (data.empty()) return Status::Ok();
    // A blocking connection: 1 is sent (or queued), -1 an error.
    if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1) {
      return util::Unavailable(std::string(what) + ": " + Trimmed(PQerrorMessage(conn_)));
    }
    return Status::Ok();
  };
  const Status produced = produce(write);
  // With an error message the server aborts the COPY: nothing of it is kept.
  if (PQputCopyEnd(conn_, produced.ok() ? nullptr : "aborted by the client") != 1) {
    return util::Unavailable(std::string(what) + ": " + Trimmed(PQerrorMessage(conn_)));
  }
  // The COPY's own result, then the null that ends the command.
  Result<std::uint64_t> out = std::uint64_t{0};
  while (pg_result* res = PQgetResult(conn_)) {
    PgResult owned(res);
    if (!out.ok()) continue;
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
      out = owned.affected_rows();
    } else {
      out = ErrorOf(what, res);
    }
  }
  if (!produced.ok()) return produced;
  return out;
}

}  // namespace bluetrace::store
