#include "bluetrace/store/postgres/pg_audit_trail.hpp"

#include <string>

#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/util/digest.hpp"

namespace bluetrace::store {
namespace {

// The advisory lock key of the audit chain ("btaudt" in ASCII), the same for every writer.
constexpr const char* kAuditLockKey = "108251990811764";  // 0x627461756474
const std::string kGenesis(64, '0');

// The record after a prune's anchor carries the anchor's prev hash (audit_log.hpp); an
// anchor is the lowest row, so it is the last only when it is alone.
constexpr const char* kReadTail =
    "SELECT seq, encode(CASE WHEN event = 'audit_pruned' THEN prev_hash ELSE hash END, 'hex') "
    "FROM audit ORDER BY seq DESC LIMIT 1";

}  // namespace

std::unique_ptr<PgAuditTrail> PgAuditTrail::Open(PgPool& pool, const util::Clock& clock) {
  return std::unique_ptr<PgAuditTrail>(new PgAuditTrail(pool, clock));
}

Status PgAuditTrail::Append(const std::string& text) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // On an error below the connection is left in the transaction: the pool closes it,
  // which rolls the transaction back.
  BLUETRACE_RETURN_IF_ERROR(conn->ExecScript("begin audit record", "BEGIN"));
  BLUETRACE_RETURN_IF_ERROR(
      conn->Exec("lock audit chain",
                 std::string("SELECT pg_advisory_xact_lock(") + kAuditLockKey + ")")
          .status());
  BLUETRACE_ASSIGN_OR_RETURN(auto tail, conn->Exec("read audit tail", kReadTail));
  std::int64_t seq = 1;
  std::string prev = kGenesis;
  if (tail.rows() > 0) {
    BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t last, tail.GetInt(0, 0));
    seq = last + 1;
    prev = std::string(tail.Get(0, 1));
  }
  const std::int64_t now = clock_.NowUnixSeconds();
  const std::string body = std::to_string(seq) + " " + std::to_string(now) + " " + text;
  const std::string hash = util::Sha256Hex(prev + " " + body);
  const auto space = text.find(' ');
  const std::string event = text.substr(0, space);
  const std::string fields = space == std::string::npos ? "" : text.substr(space + 1);
  BLUETRACE_RETURN_IF_ERROR(
      conn->Exec("insert audit record",
                 "INSERT INTO audit (seq, time, event, fields, prev_hash, hash) "
                 "VALUES ($1::bigint, $2::bigint, $3, $4, decode($5, 'hex'), decode($6, 'hex'))",
                 {std::to_string(seq), std::to_string(now), event, fields, prev, hash})
          .status());
  return conn->ExecScript("commit audit record", "COMMIT");
}

Status PgAuditTrail::Record(std::string_view event, const AuditFields& fields) {
  BLUETRACE_ASSIGN_OR_RETURN(const std::string text, AuditLog::FormatEventText(event, fields));
  const Status st = Append(text);
  util::MutexLock lock(mu_);
  healthy_ = st.ok();
  if (!st.ok()) next_probe_ = clock_.NowUnixSeconds() + kRetryInterval;
  return st;
}

Result<AuditPruneResult> PgAuditTrail::Prune(std::int64_t cutoff_unix, const AuditFields& fields) {
  // The function writes "audit_pruned before=<cutoff> records=<n>" itself: it is given the
  // fields after those, encoded as the record will hold them.
  BLUETRACE_ASSIGN_OR_RETURN(const std::string head,
                             AuditLog::FormatAnchorText(cutoff_unix, 0, {}));
  BLUETRACE_ASSIGN_OR_RETURN(const std::string text,
                             AuditLog::FormatAnchorText(cutoff_unix, 0, fields));
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto result,
      conn->Exec(
          "prune audit chain",
          "SELECT dropped, anchor_seq FROM bluetrace_prune_audit($1::bigint, $2::bigint, $3)",
          {std::to_string(cutoff_unix), std::to_string(clock_.NowUnixSeconds()),
           text.substr(head.size())}));
  BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t dropped, result.GetInt(0, 0));
  BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t anchor_seq, result.GetInt(0, 1));
  return AuditPruneResult{static_cast<std::uint64_t>(dropped),
                          static_cast<std::uint64_t>(anchor_seq)};
}

bool PgAuditTrail::healthy() {
  util::MutexLock lock(mu_);
  if (healthy_) return true;
  const std::int64_t now = clock_.NowUnixSeconds();
  if (now < next_probe_) return false;
  next_probe_ = now + kRetryInterval;
  // Reading the tail checks the connection and the table, as a Record would need them.
  auto conn = pool_.Acquire();
  healthy_ = conn.ok() && (*conn)->Exec("probe audit trail", kReadTail).ok();
  return healthy_;
}

}  // namespace bluetrace::store
