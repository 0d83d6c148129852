#include "bluetrace/store/postgres/pg_tempid_store.hpp"

#include <chrono>
#include <string>
#include <unordered_map>
#include <utility>

namespace bluetrace::store {
namespace {

using protocol::TempId;
using protocol::TempIdRecord;

// The file backend's rule (FileTempIdStore::FormatChecked): a record is storable when its
// tempIDs.txt line reads back as the same record, so every record can also be exported.
Status CheckStorable(const TempIdRecord& record) {
  auto parsed = protocol::ParseTempIdLine(protocol::FormatTempIdLine(record));
  if (!parsed.ok()) {
    return util::InvalidArgument("TempID record cannot be stored: " + parsed.status().message());
  }
  if (*parsed != record) {
    return util::InvalidArgument("TempID record would not read back identically (user '" +
                                 record.user + "' not canonical, or times out of range)");
  }
  return Status::Ok();
}

// Row `i` of (tempid, phone, start, expiry).
Result<TempIdRecord> RecordOf(const PgResult& res, int i) {
  TempIdRecord r;
  BLUETRACE_ASSIGN_OR_RETURN(r.id, TempId::Parse(res.Get(i, 0)));
  r.user = std::string(res.Get(i, 1));
  BLUETRACE_ASSIGN_OR_RETURN(r.start, res.GetInt(i, 2));
  BLUETRACE_ASSIGN_OR_RETURN(r.expiry, res.GetInt(i, 3));
  return r;
}

}  // namespace

Result<std::unique_ptr<PgTempIdStore>> PgTempIdStore::Open(PgPool& pool, const util::Clock& clock,
                                                           PgTempIdStoreOptions options) {
  if (options.retention_seconds < 0) {
    return util::InvalidArgument("TempID store: retention_seconds must be >= 0");
  }
  if (options.max_issue_attempts < 1 || options.max_issue_attempts > 1024) {
    return util::InvalidArgument("TempID store: max_issue_attempts must be 1 to 1024");
  }
  return std::unique_ptr<PgTempIdStore>(new PgTempIdStore(pool, clock, options));
}

Result<bool> PgTempIdStore::Insert(PgConnection& conn, const TempIdRecord& record) {
  const auto started = clock_.SteadyNow();
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn.Exec("insert tempid",
                          "INSERT INTO tempids (tempid, phone, start, expiry) "
                          "VALUES ($1, $2, $3::bigint, $4::bigint) ON CONFLICT (tempid) DO NOTHING",
                          {record.id.ToString(), record.user, std::to_string(record.start),
                           std::to_string(record.expiry)}));
  const auto elapsed = clock_.SteadyNow() - started;
  const bool inserted = res.affected_rows() == 1;
  util::MutexLock lock(mu_);
  if (inserted) {
    ++stats_.records_appended;
    ++stats_.syncs;
    stats_.largest_batch = 1;
    stats_.sync_nanos_total += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
  }
  return inserted;
}

Result<TempIdRecord> PgTempIdStore::Issue(std::string_view user, std::int64_t start,
                                          std::int64_t expiry, util::Random& random) {
  TempIdRecord record{std::string(user), TempId::FromInteger(0), start, expiry};
  BLUETRACE_RETURN_IF_ERROR(CheckStorable(record));
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  for (int attempt = 0; attempt < options_.max_issue_attempts; ++attempt) {
    BLUETRACE_ASSIGN_OR_RETURN(record.id, TempId::Generate(random));
    BLUETRACE_ASSIGN_OR_RETURN(const bool inserted, Insert(*conn, record));
    if (inserted) return record;
  }
  return util::ResourceExhausted("no unused TempID after " +
                                 std::to_string(options_.max_issue_attempts) + " draws");
}

Status PgTempIdStore::Append(const TempIdRecord& record) {
  BLUETRACE_RETURN_IF_ERROR(CheckStorable(record));
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(const bool inserted, Insert(*conn, record));
  if (!inserted) return util::AlreadyExists("TempID " + record.id.ToString() + " is known");
  return Status::Ok();
}

std::optional<TempIdRecord> PgTempIdStore::Lookup(const TempId& id) const {
  auto conn = pool_.Acquire();
  if (!conn.ok()) return std::nullopt;
  auto res = (*conn)->Exec("look up tempid",
                           "SELECT tempid, phone, start, expiry FROM tempids WHERE tempid = $1",
                           {id.ToString()});
  if (!res.ok() || res->rows() == 0) return std::nullopt;
  auto record = RecordOf(*res, 0);
  if (!record.ok()) return std::nullopt;
  return std::move(record).value();
}

Result<std::vector<std::optional<TempIdRecord>>> PgTempIdStore::LookupAll(
    std::span<const TempId> ids) const {
  std::vector<std::optional<TempIdRecord>> out(ids.size());
  if (ids.empty()) return out;
  // A PostgreSQL array literal: TempIDs are digits only, so nothing needs quoting.
  std::string array = "{";
  for (const TempId& id : ids) {
    if (array.size() > 1) array += ',';
    array += id.view();
  }
  array += '}';
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // bpchar[], the column's type, so that the primary key's index serves the lookup.
  BLUETRACE_ASSIGN_OR_RETURN(auto res,
                             conn->Exec("look up tempids",
                                        "SELECT tempid, phone, start, expiry FROM tempids "
                                        "WHERE tempid = ANY($1::bpchar[])",
                                        {std::move(array)}));
  std::unordered_map<TempId, TempIdRecord> found;
  for (int i = 0; i < res.rows(); ++i) {
    // A row that does not read back is an error, never an "unknown" contact.
    BLUETRACE_ASSIGN_OR_RETURN(TempIdRecord record, RecordOf(res, i));
    found.emplace(record.id, std::move(record));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (auto it = found.find(ids[i]); it != found.end()) out[i] = it->second;
  }
  return out;
}

Result<CompactionStats> PgTempIdStore::Compact() {
  CompactionStats stats;
  stats.cutoff = clock_.NowUnixSeconds() - options_.retention_seconds;
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // The count in the same statement sees the table as it was before the delete.
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("compact tempids",
                           "WITH d AS (DELETE FROM tempids WHERE expiry < $1::bigint RETURNING 1) "
                           "SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM tempids)",
                           {std::to_string(stats.cutoff)}));
  BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t dropped, res.GetInt(0, 0));
  BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t before, res.GetInt(0, 1));
  stats.records_dropped = static_cast<std::uint64_t>(dropped);
  stats.records_kept = static_cast<std::uint64_t>(before - dropped);
  util::MutexLock lock(mu_);
  ++stats_.compactions;
  return stats;
}

std::size_t PgTempIdStore::size() const {
  auto conn = pool_.Acquire();
  if (!conn.ok()) return 0;
  auto res = (*conn)->Exec("count tempids", "SELECT count(*) FROM tempids");
  if (!res.ok()) return 0;
  auto n = res->GetInt(0, 0);
  return n.ok() ? static_cast<std::size_t>(*n) : 0;
}

TempIdStoreStats PgTempIdStore::stats() const {
  util::MutexLock lock(mu_);
  return stats_;
}

Status PgTempIdStore::health() const {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn->Exec("check database", "SELECT 1").status();
}

}  // namespace bluetrace::store
