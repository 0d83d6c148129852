// PgTempIdStore: the TempIdStore on PostgreSQL's `tempids` table, partitioned by UTC day
// of expiry (packaging/sql/002_tempid_partitions.sql), shared by every server instance on
// the database.
//
// Every record goes in through bluetrace_insert_tempids() (packaging/sql/003), one
// autocommitted statement that, under advisory locks on the TempIDs, inserts each unless
// some day's partition already holds it: TempIDs stay unique across instances (the primary
// key, (tempid, day), no longer says so by itself). On a taken TempID Issue draws again.
// Group commit: the records of callers arriving together go in one statement, one
// transaction (at most max_batch records; at most max_batches_in_flight statements at
// once; a caller that finds a free slot takes everything queued), so the per-transaction
// cost is shared. A record is committed when its call returns (as durable as the
// database's synchronous_commit makes it). Lookups read the database, so records of other
// instances are seen at once; LookupAll is one statement per 1,000 TempIDs.
//
// Scale (8 billion records: 21 days of 4,400 TempIDs/s): Compact() drops whole days, a
// DROP TABLE per partition, and never deletes rows; it keeps the boundary day whole, so a
// record outlives the retention by up to a day. Each lookup probes the primary-key index
// of every partition (about retention + 3 days of them). size() is still an exact COUNT,
// as the contract needs: not for a hot path.
//
// Thread-safe. The pool and the clock must outlive the store.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/store/tempid_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

// LookupAll's one statement ($1: the TempIDs as a text array), here so that a test can
// check its plan: a nested loop of primary-key probes, one per partition for each id,
// never a scan whose cost grows with the table. The LATERAL subquery with LIMIT 1 is not
// flattened into a join the planner could turn into a hash join over sequential scans
// (which `tempid = ANY($1)` became for a large upload: seconds at 10 million rows).
inline constexpr std::string_view kPgLookupAllSql =
    "SELECT t.tempid, t.phone, t.start, t.expiry "
    "FROM unnest($1::bpchar[]) AS u(id) CROSS JOIN LATERAL "
    "(SELECT tempid, phone, start, expiry FROM tempids WHERE tempid = u.id LIMIT 1) AS t";

struct PgTempIdStoreOptions {
  // Compact() drops the days whose records all expired more than this ago (21 days, as the
  // file backend). Must be >= 0.
  std::int64_t retention_seconds = 21 * 24 * 3600;
  // Issue() draws at most this many TempIDs before giving up on finding an unused one
  // (1 to 1024). A sound generator collides about never; the bound is for instances whose
  // generators run in step (a cloned VM, a shared seed): one that trails another by k
  // draws needs k + 1 of them once, a round trip each, then they interleave. A longer lag
  // fails that Issue (kResourceExhausted), which moves the stream on by this many draws.
  int max_issue_attempts = 64;
  // Group commit: records per statement (1 to 4096) and statements under way at once (1
  // to 64, each holding one pooled connection for its round trip).
  int max_batch = 128;
  int max_batches_in_flight = 1;
  // LookupAll sends at most this many TempIDs per statement (1 to 100,000), so that one
  // statement stays well inside the statement timeout even with cold indexes (10,000 ids
  // took over 5 s once at 100 million stored TempIDs; docs/BENCHMARKS.md).
  int lookup_chunk = 1000;
};

class PgTempIdStore final : public TempIdStore {
 public:
  // Errors: kInvalidArgument for bad options. Does not touch the database.
  static Result<std::unique_ptr<PgTempIdStore>> Open(PgPool& pool, const util::Clock& clock,
                                                     PgTempIdStoreOptions options);

  PgTempIdStore(const PgTempIdStore&) = delete;
  PgTempIdStore& operator=(const PgTempIdStore&) = delete;

  // Committed before it returns. Errors: kInvalidArgument for a record the file format
  // could not hold either (a user that is no canonical phone number, expiry < start, years
  // outside the format), checked before anything is drawn; kResourceExhausted after
  // max_issue_attempts draws that were all taken; the generator's; the database's.
  Result<protocol::TempIdRecord> Issue(std::string_view user, std::int64_t start,
                                       std::int64_t expiry, util::Random& random) override;
  // kAlreadyExists when the TempID is taken; otherwise Issue's errors.
  Status Append(const protocol::TempIdRecord& record) override;

  // Nullopt also when the database fails (no error channel).
  std::optional<protocol::TempIdRecord> Lookup(const protocol::TempId& id) const override;
  // One statement per lookup_chunk TempIDs (kPgLookupAllSql), on one connection; the
  // database's error when one fails (never "unknown" for what could not be looked up).
  Result<std::vector<std::optional<protocol::TempIdRecord>>> LookupAll(
      std::span<const protocol::TempId> ids) const override;

  // Creates the partitions of today and the next two days, then drops those of the days
  // before the day of now - retention (cutoff: the start of that day; records expiring
  // before it are dropped, all others kept). records_dropped is exact (the dropped
  // partitions are counted first); records_kept is the planner's estimate (pg_class
  // reltuples; 0 for partitions never analyzed); the byte counts stay 0.
  Result<CompactionStats> Compact() override;
  // One DELETE by phone, through the tempids_phone index (003_upload_codes.sql).
  Result<std::uint64_t> RemoveUser(std::string_view user) override;

  // SELECT count(*); 0 when the database fails.
  std::size_t size() const override;
  // One "sync" per committed batch (each is its own transaction).
  TempIdStoreStats stats() const override;
  // Callers waiting for a batch to take their record (for tests and metrics).
  std::size_t queued() const;
  // OK when `SELECT 1` succeeds, else the database's error: the store refuses nothing by
  // itself, every write simply needs the database.
  Status health() const override;

 private:
  struct Waiter;

  PgTempIdStore(PgPool& pool, const util::Clock& clock, PgTempIdStoreOptions options)
      : pool_(pool), clock_(clock), options_(options) {}

  // Inserts `record` unless its TempID is taken (in any day), in a batch with the records
  // of other callers: true when inserted. Blocks until its batch has committed or failed.
  Result<bool> Insert(const protocol::TempIdRecord& record);
  // One statement for `batch`; sets each waiter's outcome (not `done`). Takes no lock.
  void RunBatch(const std::vector<Waiter*>& batch);

  PgPool& pool_;
  const util::Clock& clock_;
  const PgTempIdStoreOptions options_;
  mutable util::Mutex mu_;
  TempIdStoreStats stats_ GUARDED_BY(mu_);
  // The group-commit queue: callers whose records no batch has taken yet, oldest first.
  std::deque<Waiter*> queue_ GUARDED_BY(mu_);
  int batches_in_flight_ GUARDED_BY(mu_) = 0;
  std::condition_variable_any batch_done_;
};

}  // namespace bluetrace::store
