#include "bluetrace/store/postgres/pg_tempid_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
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

constexpr std::int64_t kSecondsPerDay = 86400;
// Compact() creates the partitions of today and of this many days after.
constexpr std::int64_t kDaysCreatedAhead = 2;

// The UTC day number of unix time `t` (rounded down, also before 1970), as the schema's
// `day` column: floor(t / 86400).
std::int64_t DayOf(std::int64_t t) {
  return t / kSecondsPerDay - ((t % kSecondsPerDay < 0) ? 1 : 0);
}

// Days of the schema's integer column; a clock this far out has no partitions anyway.
std::int64_t ClampToInt32(std::int64_t day) {
  return std::clamp<std::int64_t>(day, std::numeric_limits<std::int32_t>::min(),
                                  std::numeric_limits<std::int32_t>::max());
}

}  // namespace

// One caller of Insert waiting for its batch; lives on that caller's stack.
struct PgTempIdStore::Waiter {
  const TempIdRecord* record = nullptr;
  Status status;
  bool inserted = false;
  bool done = false;  // guarded by mu_
};

Result<std::unique_ptr<PgTempIdStore>> PgTempIdStore::Open(PgPool& pool, const util::Clock& clock,
                                                           PgTempIdStoreOptions options) {
  if (options.retention_seconds < 0) {
    return util::InvalidArgument("TempID store: retention_seconds must be >= 0");
  }
  if (options.max_issue_attempts < 1 || options.max_issue_attempts > 1024) {
    return util::InvalidArgument("TempID store: max_issue_attempts must be 1 to 1024");
  }
  if (options.max_batch < 1 || options.max_batch > 4096) {
    return util::InvalidArgument("TempID store: max_batch must be 1 to 4096");
  }
  if (options.max_batches_in_flight < 1 || options.max_batches_in_flight > 64) {
    return util::InvalidArgument("TempID store: max_batches_in_flight must be 1 to 64");
  }
  if (options.lookup_chunk < 1 || options.lookup_chunk > 100000) {
    return util::InvalidArgument("TempID store: lookup_chunk must be 1 to 100000");
  }
  return std::unique_ptr<PgTempIdStore>(new PgTempIdStore(pool, clock, options));
}

Result<bool> PgTempIdStore::Insert(const TempIdRecord& record) {
  Waiter self;
  self.record = &record;
  mu_.Lock();
  queue_.push_back(&self);
  // Whoever finds queued records and a free slot runs the next batch, its own record in it
  // or not; the others wait for their batch to end.
  while (!self.done) {
    if (queue_.empty() || batches_in_flight_ >= options_.max_batches_in_flight) {
      batch_done_.wait(mu_);  // releases and retakes mu_ through its lock()/unlock()
      continue;
    }
    const std::size_t n = std::min(queue_.size(), static_cast<std::size_t>(options_.max_batch));
    std::vector<Waiter*> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    ++batches_in_flight_;
    mu_.Unlock();
    RunBatch(batch);
    mu_.Lock();
    --batches_in_flight_;
    for (Waiter* w : batch) w->done = true;
    batch_done_.notify_all();
  }
  mu_.Unlock();
  if (!self.status.ok()) return self.status;
  return self.inserted;
}

void PgTempIdStore::RunBatch(const std::vector<Waiter*>& batch) {
  const auto started = clock_.SteadyNow();
  // PostgreSQL array literals: TempIDs and times are digits (and a sign), phone numbers a
  // "+" and digits (CheckStorable), so nothing needs quoting.
  std::string ids = "{", phones = "{", starts = "{", expiries = "{";
  for (const Waiter* w : batch) {
    if (ids.size() > 1) {
      ids += ',';
      phones += ',';
      starts += ',';
      expiries += ',';
    }
    ids += w->record->id.view();
    phones += w->record->user;
    starts += std::to_string(w->record->start);
    expiries += std::to_string(w->record->expiry);
  }
  ids += '}';
  phones += '}';
  starts += '}';
  expiries += '}';
  auto fail = [&](const Status& st) {
    for (Waiter* w : batch) w->status = st;
  };
  auto conn = pool_.Acquire();
  if (!conn.ok()) return fail(conn.status());
  // One autocommitted statement: the function checks every day's partition and inserts
  // under advisory locks on the TempIDs (packaging/sql/003_tempid_batches.sql); it returns
  // the positions (1-based) of the records it inserted.
  auto res = (*conn)->Exec(
      "insert tempids",
      "SELECT bluetrace_insert_tempids($1::bpchar[], $2::text[], $3::bigint[], $4::bigint[])",
      {std::move(ids), std::move(phones), std::move(starts), std::move(expiries)});
  if (!res.ok()) return fail(res.status());
  std::uint64_t inserted = 0;
  for (int i = 0; i < res->rows(); ++i) {
    auto pos = res->GetInt(i, 0);
    if (!pos.ok() || *pos < 1 || static_cast<std::uint64_t>(*pos) > batch.size()) {
      return fail(util::Internal("bluetrace_insert_tempids returned a position out of range"));
    }
    Waiter* w = batch[static_cast<std::size_t>(*pos - 1)];
    if (!w->inserted) ++inserted;
    w->inserted = true;
  }
  const auto elapsed = clock_.SteadyNow() - started;
  util::MutexLock lock(mu_);
  if (inserted == 0) return;  // nothing committed: not a sync, as in the file backend
  stats_.records_appended += inserted;
  ++stats_.syncs;
  stats_.largest_batch = std::max<std::uint64_t>(stats_.largest_batch, batch.size());
  stats_.sync_nanos_total += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
}

Result<TempIdRecord> PgTempIdStore::Issue(std::string_view user, std::int64_t start,
                                          std::int64_t expiry, util::Random& random) {
  TempIdRecord record{std::string(user), TempId::FromInteger(0), start, expiry};
  BLUETRACE_RETURN_IF_ERROR(CheckStorable(record));
  for (int attempt = 0; attempt < options_.max_issue_attempts; ++attempt) {
    BLUETRACE_ASSIGN_OR_RETURN(record.id, TempId::Generate(random));
    BLUETRACE_ASSIGN_OR_RETURN(const bool inserted, Insert(record));
    if (inserted) return record;
  }
  return util::ResourceExhausted("no unused TempID after " +
                                 std::to_string(options_.max_issue_attempts) + " draws");
}

Status PgTempIdStore::Append(const TempIdRecord& record) {
  BLUETRACE_RETURN_IF_ERROR(CheckStorable(record));
  BLUETRACE_ASSIGN_OR_RETURN(const bool inserted, Insert(record));
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
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  std::unordered_map<TempId, TempIdRecord> found;
  const auto chunk = static_cast<std::size_t>(options_.lookup_chunk);
  for (std::size_t first = 0; first < ids.size(); first += chunk) {
    const std::size_t end = std::min(ids.size(), first + chunk);
    // A PostgreSQL array literal: TempIDs are digits only, so nothing needs quoting.
    std::string array = "{";
    for (std::size_t i = first; i < end; ++i) {
      if (i > first) array += ',';
      array += ids[i].view();
    }
    array += '}';
    // Primary-key probes, whatever the table's size (kPgLookupAllSql).
    BLUETRACE_ASSIGN_OR_RETURN(
        auto res, conn->Exec("look up tempids", std::string(kPgLookupAllSql), {std::move(array)}));
    for (int i = 0; i < res.rows(); ++i) {
      // A row that does not read back is an error, never an "unknown" contact.
      BLUETRACE_ASSIGN_OR_RETURN(TempIdRecord record, RecordOf(res, i));
      found.emplace(record.id, std::move(record));
    }
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (auto it = found.find(ids[i]); it != found.end()) out[i] = it->second;
  }
  return out;
}

Result<std::uint64_t> PgTempIdStore::RemoveUser(std::string_view user) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("remove a user's tempids", "DELETE FROM tempids WHERE phone = $1",
                           {std::string(user)}));
  return res.affected_rows();
}

Result<CompactionStats> PgTempIdStore::Compact() {
  const std::int64_t now = clock_.NowUnixSeconds();
  // Days before cutoff_day hold only records that expired more than the retention ago;
  // cutoff_day itself (the boundary day) may hold records within the retention, so it
  // stays whole until the next day's compaction.
  const std::int64_t cutoff_day = DayOf(now - options_.retention_seconds);
  CompactionStats stats;
  stats.cutoff = cutoff_day * kSecondsPerDay;
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // Today's partition and the next ones, so that inserts seldom create one themselves
  // (which locks the whole table for a moment). Each is its own transaction.
  const std::int64_t today = DayOf(now);
  for (std::int64_t day = today; day <= today + kDaysCreatedAhead; ++day) {
    BLUETRACE_RETURN_IF_ERROR(conn->Exec("create tempid partition",
                                         "SELECT bluetrace_ensure_tempid_partition($1::integer)",
                                         {std::to_string(ClampToInt32(day))})
                                  .status());
  }
  BLUETRACE_ASSIGN_OR_RETURN(
      auto dropped,
      conn->Exec("drop tempid partitions", "SELECT bluetrace_drop_tempid_partitions($1::integer)",
                 {std::to_string(ClampToInt32(cutoff_day))}));
  BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t records_dropped, dropped.GetInt(0, 0));
  stats.records_dropped = static_cast<std::uint64_t>(records_dropped);
  // Counting what is left would read every live record: the planner's estimate instead.
  BLUETRACE_ASSIGN_OR_RETURN(auto kept,
                             conn->Exec("estimate tempids",
                                        "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint "
                                        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                        "WHERE i.inhparent = 'tempids'::regclass"));
  BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t records_kept, kept.GetInt(0, 0));
  stats.records_kept = static_cast<std::uint64_t>(records_kept);
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

std::size_t PgTempIdStore::queued() const {
  util::MutexLock lock(mu_);
  return queue_.size();
}

Status PgTempIdStore::health() const {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn->Exec("check database", "SELECT 1").status();
}

}  // namespace bluetrace::store
