#include "bluetrace/store/postgres/pg_lockout_store.hpp"

#include <string>

namespace bluetrace::store {
namespace {

// $1 key, $2 now, $3 max_failures, $4 block_seconds, $5 known. On a running block nothing
// changes; a block that ran out (blocked_until <> 0, not in the future) counts from zero.
// Every SET expression reads the row as it was before this statement.
constexpr const char* kRecordFailure = R"sql(
INSERT INTO lockouts AS l (key, failures, blocked_until, known, updated)
VALUES ($1, 1, CASE WHEN 1 >= $3::integer THEN $2::bigint + $4::bigint ELSE 0 END,
        $5::boolean, $2::bigint)
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN l.blocked_until > $2::bigint THEN l.failures
                  ELSE least(CASE WHEN l.blocked_until <> 0 THEN 0 ELSE l.failures END + 1,
                             $3::integer) END,
  blocked_until = CASE
      WHEN l.blocked_until > $2::bigint THEN l.blocked_until
      WHEN least(CASE WHEN l.blocked_until <> 0 THEN 0 ELSE l.failures END + 1, $3::integer)
           >= $3::integer THEN $2::bigint + $4::bigint
      ELSE 0 END,
  known = l.known OR EXCLUDED.known,
  updated = $2::bigint
RETURNING failures, blocked_until
)sql";

// $1 max_unknown_entries: forgets the least recently failed names that are no account
// beyond that many, as the file backend's LRU does.
constexpr const char* kForgetUnknown = R"sql(
DELETE FROM lockouts WHERE key IN (
  SELECT key FROM lockouts WHERE NOT known ORDER BY updated, key
  LIMIT greatest((SELECT count(*) FROM lockouts WHERE NOT known) - $1::bigint, 0))
)sql";

}  // namespace

Result<std::unique_ptr<PgLockoutStore>> PgLockoutStore::Open(PgPool& pool, LockoutPolicy policy,
                                                             const util::Clock& clock,
                                                             std::string_view table) {
  BLUETRACE_RETURN_IF_ERROR(ValidateLockoutPolicy(policy));
  if (table != kLoginTable && table != kUploadCodeTable) {
    return util::InvalidArgument("no lockout table " + std::string(table));
  }
  return std::unique_ptr<PgLockoutStore>(new PgLockoutStore(pool, policy, clock, table));
}

PgLockoutStore::PgLockoutStore(PgPool& pool, LockoutPolicy policy, const util::Clock& clock,
                               std::string_view table)
    : pool_(pool), policy_(policy), clock_(clock), table_(table) {}

// The table name is one of two constants (checked in Open), never a value from outside.
std::string PgLockoutStore::Sql(std::string_view sql) const {
  std::string out;
  constexpr std::string_view kName = "lockouts";
  for (std::size_t pos = 0;;) {
    const std::size_t at = sql.find(kName, pos);
    if (at == std::string_view::npos) {
      out.append(sql.substr(pos));
      return out;
    }
    out.append(sql.substr(pos, at - pos));
    out.append(table_);
    pos = at + kName.size();
  }
}

BlockState PgLockoutStore::Check(std::string_view key) const {
  const std::int64_t now = clock_.NowUnixSeconds();
  auto conn = pool_.Acquire();
  if (!conn.ok()) return BlockState{};
  auto res = (*conn)->Exec("check lockout",
                           Sql("SELECT blocked_until FROM lockouts WHERE key = $1 AND "
                               "blocked_until > $2::bigint"),
                           {std::string(key), std::to_string(now)});
  if (!res.ok() || res->rows() == 0) return BlockState{};
  auto until = res->GetInt(0, 0);
  if (!until.ok()) return BlockState{};
  return BlockState{true, *until - now};
}

Result<FailureResult> PgLockoutStore::RecordFailure(std::string_view key, bool known_user) {
  const std::int64_t now = clock_.NowUnixSeconds();
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res,
      conn->Exec("record login failure", Sql(kRecordFailure),
                 {std::string(key), std::to_string(now), std::to_string(policy_.max_failures),
                  std::to_string(policy_.block_seconds), known_user ? "t" : "f"}));
  BLUETRACE_ASSIGN_OR_RETURN(std::int64_t failures, res.GetInt(0, 0));
  BLUETRACE_ASSIGN_OR_RETURN(std::int64_t blocked_until, res.GetInt(0, 1));
  if (!known_user) {
    // The failure is counted either way; a prune that fails is caught up by the next.
    (void)conn->Exec("forget unknown names", Sql(kForgetUnknown),
                     {std::to_string(policy_.max_unknown_entries)});
  }
  if (blocked_until > now) return FailureResult{true, 0, blocked_until - now};
  const auto left = static_cast<std::int64_t>(policy_.max_failures) - failures;
  return FailureResult{false, static_cast<std::uint32_t>(left > 0 ? left : 0), 0};
}

Status PgLockoutStore::RecordSuccess(std::string_view key) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec("record login success", Sql("DELETE FROM lockouts WHERE key = $1"), {std::string(key)})
      .status();
}

Status PgLockoutStore::Unblock(std::string_view key) {
  const std::int64_t now = clock_.NowUnixSeconds();
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res,
      conn->Exec("unblock",
                 Sql("DELETE FROM lockouts WHERE key = $1 AND blocked_until > $2::bigint"),
                 {std::string(key), std::to_string(now)}));
  if (res.affected_rows() == 0) return util::NotFound(std::string(key) + " is not blocked");
  return Status::Ok();
}

std::vector<BlockedUser> PgLockoutStore::ListBlocked() const {
  const std::int64_t now = clock_.NowUnixSeconds();
  std::vector<BlockedUser> out;
  auto conn = pool_.Acquire();
  if (!conn.ok()) return out;
  // COLLATE "C": byte order, as std::string compares.
  auto res = (*conn)->Exec("list blocked",
                           Sql("SELECT key, blocked_until, known FROM lockouts "
                               "WHERE blocked_until > $1::bigint ORDER BY key COLLATE \"C\""),
                           {std::to_string(now)});
  if (!res.ok()) return out;
  for (int i = 0; i < res->rows(); ++i) {
    auto until = res->GetInt(i, 1);
    if (!until.ok()) continue;
    out.push_back({std::string(res->Get(i, 0)), *until, *until - now, res->Get(i, 2) == "t"});
  }
  return out;
}

}  // namespace bluetrace::store
