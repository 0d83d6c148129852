#include "bluetrace/store/postgres/pg_staff_store.hpp"

#include <string>

namespace bluetrace::store {
namespace {

// $1 name, $2 now, $3 max_failures, $4 block_seconds. A running block changes nothing; a
// block that ran out counts from zero. SET expressions read the row as it was.
constexpr const char* kRecordFailure = R"sql(
UPDATE console_staff AS s SET
  failures = CASE WHEN s.blocked_until > $2::bigint THEN s.failures
                  ELSE least(CASE WHEN s.blocked_until <> 0 THEN 0 ELSE s.failures END + 1,
                             $3::integer) END,
  blocked_until = CASE
      WHEN s.blocked_until > $2::bigint THEN s.blocked_until
      WHEN CASE WHEN s.blocked_until <> 0 THEN 0 ELSE s.failures END + 1 >= $3::integer
        THEN $2::bigint + $4::bigint
      ELSE 0 END
WHERE name = $1
RETURNING blocked_until
)sql";

util::Result<StaffMember> MemberOf(const PgResult& res, int row) {
  BLUETRACE_ASSIGN_OR_RETURN(StaffRole role, ParseStaffRole(res.Get(row, 1)));
  return StaffMember{std::string(res.Get(row, 0)), role, std::string(res.Get(row, 2))};
}

}  // namespace

util::Status PgStaffStore::Add(const StaffMember& m) {
  BLUETRACE_RETURN_IF_ERROR(ValidateStaffName(m.name));
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res,
      conn->Exec("add staff",
                 "INSERT INTO console_staff (name, role, password_hash) VALUES ($1, $2, $3) "
                 "ON CONFLICT (name) DO NOTHING",
                 {m.name, std::string(StaffRoleName(m.role)), m.password_hash}));
  if (res.affected_rows() == 0) {
    return util::AlreadyExists("staff member " + m.name + " exists already");
  }
  return util::Status::Ok();
}

util::Status PgStaffStore::Remove(std::string_view name) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // The sessions go with the row (ON DELETE CASCADE).
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res,
      conn->Exec("remove staff", "DELETE FROM console_staff WHERE name = $1", {std::string(name)}));
  if (res.affected_rows() == 0) return util::NotFound("no staff member " + std::string(name));
  return util::Status::Ok();
}

util::Status PgStaffStore::SetPasswordHash(std::string_view name, std::string_view hash) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("set staff password",
                           "WITH s AS (UPDATE console_staff SET password_hash = $2, failures = 0, "
                           "blocked_until = 0 WHERE name = $1 RETURNING name), "
                           "d AS (DELETE FROM console_sessions WHERE staff IN (SELECT name FROM "
                           "s)) SELECT count(*) FROM s",
                           {std::string(name), std::string(hash)}));
  BLUETRACE_ASSIGN_OR_RETURN(std::int64_t n, res.GetInt(0, 0));
  if (n == 0) return util::NotFound("no staff member " + std::string(name));
  return util::Status::Ok();
}

util::Result<std::optional<StaffMember>> PgStaffStore::Find(std::string_view name) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("find staff",
                           "SELECT name, role, password_hash FROM console_staff WHERE name = $1",
                           {std::string(name)}));
  if (res.rows() == 0) return std::optional<StaffMember>();
  BLUETRACE_ASSIGN_OR_RETURN(StaffMember m, MemberOf(res, 0));
  return std::optional<StaffMember>(std::move(m));
}

util::Result<std::vector<StaffMember>> PgStaffStore::List() {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(auto res,
                             conn->Exec("list staff",
                                        "SELECT name, role, password_hash FROM console_staff "
                                        "ORDER BY name COLLATE \"C\""));
  std::vector<StaffMember> out;
  for (int i = 0; i < res.rows(); ++i) {
    BLUETRACE_ASSIGN_OR_RETURN(StaffMember m, MemberOf(res, i));
    out.push_back(std::move(m));
  }
  return out;
}

util::Result<std::int64_t> PgStaffStore::BlockedUntil(std::string_view name, std::int64_t now) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("staff block",
                           "SELECT blocked_until FROM console_staff WHERE name = $1 AND "
                           "blocked_until > $2::bigint",
                           {std::string(name), std::to_string(now)}));
  if (res.rows() == 0) return std::int64_t{0};
  return res.GetInt(0, 0);
}

util::Result<std::int64_t> PgStaffStore::RecordFailure(std::string_view name, std::int64_t now,
                                                       std::uint32_t max_failures,
                                                       std::int64_t block_seconds) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("record staff login failure", kRecordFailure,
                           {std::string(name), std::to_string(now), std::to_string(max_failures),
                            std::to_string(block_seconds)}));
  if (res.rows() == 0) return util::NotFound("no staff member " + std::string(name));
  return res.GetInt(0, 0);
}

util::Status PgStaffStore::RecordSuccess(std::string_view name) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec("record staff login success",
             "UPDATE console_staff SET failures = 0, blocked_until = 0 WHERE name = $1 AND "
             "(failures <> 0 OR blocked_until <> 0)",
             {std::string(name)})
      .status();
}

util::Status PgStaffStore::CreateSession(const ConsoleSession& s) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec("create console session",
             "INSERT INTO console_sessions (token_hash, staff, csrf_token, created_at, "
             "last_seen) VALUES ($1, $2, $3, $4::bigint, $5::bigint)",
             {s.token_hash, s.staff, s.csrf_token, std::to_string(s.created_at),
              std::to_string(s.last_seen)})
      .status();
}

util::Result<std::optional<ConsoleSession>> PgStaffStore::FindSession(std::string_view token_hash) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(auto res,
                             conn->Exec("find console session",
                                        "SELECT staff, csrf_token, created_at, last_seen FROM "
                                        "console_sessions WHERE token_hash = $1",
                                        {std::string(token_hash)}));
  if (res.rows() == 0) return std::optional<ConsoleSession>();
  ConsoleSession s;
  s.token_hash = std::string(token_hash);
  s.staff = std::string(res.Get(0, 0));
  s.csrf_token = std::string(res.Get(0, 1));
  BLUETRACE_ASSIGN_OR_RETURN(s.created_at, res.GetInt(0, 2));
  BLUETRACE_ASSIGN_OR_RETURN(s.last_seen, res.GetInt(0, 3));
  return std::optional<ConsoleSession>(std::move(s));
}

util::Status PgStaffStore::TouchSession(std::string_view token_hash, std::int64_t now) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("touch console session",
                           "UPDATE console_sessions SET last_seen = greatest(last_seen, "
                           "$2::bigint) WHERE token_hash = $1",
                           {std::string(token_hash), std::to_string(now)}));
  if (res.affected_rows() == 0) return util::NotFound("no such console session");
  return util::Status::Ok();
}

util::Status PgStaffStore::DeleteSession(std::string_view token_hash) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec("end console session", "DELETE FROM console_sessions WHERE token_hash = $1",
             {std::string(token_hash)})
      .status();
}

util::Status PgStaffStore::DeleteExpiredSessions(std::int64_t idle_before,
                                                 std::int64_t created_before) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec("end expired console sessions",
             "DELETE FROM console_sessions WHERE last_seen < $1::bigint OR created_at < "
             "$2::bigint",
             {std::to_string(idle_before), std::to_string(created_before)})
      .status();
}

}  // namespace bluetrace::store
