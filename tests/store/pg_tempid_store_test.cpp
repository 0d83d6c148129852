// PgTempIdStore beyond the shared contract: the bound on draws, the counters, many ids in
// one LookupAll, records stored as the file format would write them, and the partitions by
// day of expiry (packaging/sql/002_tempid_partitions.sql): where records land, which days
// Compact() drops, TempIDs unique across days and connections, the migration from version
// 1, and the privileges the server's role needs.
#include "bluetrace/store/postgres/pg_tempid_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "support/fake_random.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using protocol::TempId;
using protocol::TempIdRecord;

class PgTempIdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& server = test::SharedPostgresServerForTest();
    ASSERT_TRUE(server.ok()) << server.error();
    const std::string db = server.CreateFreshDatabase();
    ASSERT_FALSE(db.empty());
    conninfo_ = server.ConnectionString(db);
    if (!MigrateInSetUp()) return;
    Migrate(test::SourcePath("packaging/sql"), kSchemaVersion);
    OpenPool();
  }

  // False for tests that migrate by themselves (then they call OpenPool()).
  virtual bool MigrateInSetUp() const { return true; }

  void OpenPool() {
    PgPoolOptions options;
    options.connection.conninfo = conninfo_;
    auto pool = PgPool::Open(options);
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    pool_ = std::move(pool).value();
  }

  // A connection of its own, as another server instance would have; `extra` is appended to
  // the connection string (a later keyword wins: " user=x").
  std::unique_ptr<PgConnection> Connect(const std::string& extra = "") {
    auto conn = PgConnection::Open({.conninfo = conninfo_ + extra});
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(conn).value() : nullptr;
  }

  void Migrate(const std::string& dir, int expect_version) {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    auto v = ApplyMigrations(*conn, PosixFileSystem::Instance(), dir);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(*v, expect_version);
  }

  // "<partition> <tempid>" for every record, sorted.
  std::vector<std::string> RecordsByPartition() {
    auto conn = Connect();
    if (!conn) return {};
    auto res = conn->Exec("list",
                          "SELECT tableoid::regclass::text || ' ' || tempid FROM tempids "
                          "ORDER BY 1");
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    std::vector<std::string> out;
    for (int i = 0; res.ok() && i < res->rows(); ++i) out.emplace_back(res->Get(i, 0));
    return out;
  }

  // The names of the partitions of `tempids`, sorted.
  std::vector<std::string> Partitions() {
    auto conn = Connect();
    if (!conn) return {};
    auto res = conn->Exec("partitions",
                          "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON "
                          "c.oid = i.inhrelid WHERE i.inhparent = 'tempids'::regclass ORDER BY 1");
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    std::vector<std::string> out;
    for (int i = 0; res.ok() && i < res->rows(); ++i) out.emplace_back(res->Get(i, 0));
    return out;
  }

  std::unique_ptr<PgTempIdStore> Open(PgTempIdStoreOptions options = {}) {
    auto store = PgTempIdStore::Open(*pool_, clock_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  util::ManualClock clock_{1'600'000'000};
  std::string conninfo_;
  std::unique_ptr<PgPool> pool_;
};

constexpr std::int64_t kDay = 86400;

std::string Partition(std::int64_t day) { return "tempids_d" + std::to_string(day); }

TempId IdOf(int n) { return TempId::FromInteger(static_cast<protocol::TempIdInteger>(n)); }

TEST_F(PgTempIdStoreTest, BadOptionsAreRefused) {
  EXPECT_EQ(PgTempIdStore::Open(*pool_, clock_, {.retention_seconds = -1}).status().code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(PgTempIdStore::Open(*pool_, clock_, {.max_issue_attempts = 0}).status().code(),
            util::StatusCode::kInvalidArgument);
}

TEST_F(PgTempIdStoreTest, GivesUpAfterMaxIssueAttemptsTakenDraws) {
  auto store = Open({.max_issue_attempts = 3});
  ASSERT_TRUE(store);
  const std::int64_t now = clock_.NowUnixSeconds();
  test::ScriptedRandom same(std::vector<std::uint8_t>(20 * 4, 5));  // always "5555..."
  ASSERT_TRUE(store->Issue("+61410000001", now, now + 10, same).ok());
  auto again = store->Issue("+61410000002", now, now + 10, same);
  EXPECT_EQ(again.status().code(), util::StatusCode::kResourceExhausted);
  EXPECT_EQ(same.consumed(), 20u * 4);
  EXPECT_EQ(store->size(), 1u);
  const TempIdStoreStats stats = store->stats();
  EXPECT_EQ(stats.records_appended, 1u);
  EXPECT_EQ(stats.syncs, 1u);
}

// The lookup of a large upload stays a nested loop of primary-key probes on a table large
// enough for the planner to weigh scans: `tempid = ANY($1)` was planned as a sequential
// scan of every partition (seconds at 10 million rows; docs/BENCHMARKS.md).
TEST_F(PgTempIdStoreTest, TheLookupOfALargeUploadProbesTheIndexNeverScans) {
  auto store = Open();
  ASSERT_TRUE(store);
  auto conn = Connect();
  ASSERT_TRUE(conn);
  // 300,000 records over three days of expiry, straight into the table (fast), analysed.
  const std::int64_t day = 20000;
  for (std::int64_t d = day; d < day + 3; ++d) {
    ASSERT_TRUE(conn->Exec("partition", "SELECT bluetrace_ensure_tempid_partition($1::integer)",
                           {std::to_string(d)})
                    .ok());
  }
  auto loaded = conn->Exec(
      "load",
      "INSERT INTO tempids (tempid, phone, start, expiry, day) "
      "SELECT lpad(i::text, 20, '0'), '+61410000001', $1::bigint + i % 3 * 86400, "
      "$1::bigint + i % 3 * 86400, $2::integer + i % 3 FROM generate_series(1, 300000) i",
      {std::to_string(day * 86400), std::to_string(day)});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE(conn->Exec("analyze", "ANALYZE tempids").ok());

  std::string array = "{";
  for (int i = 0; i < 10000; ++i) {
    if (i > 0) array += ',';
    array += TempId::FromInteger(static_cast<protocol::TempIdInteger>(i * 61 + 1)).ToString();
  }
  array += '}';
  auto plan = conn->Exec("explain", "EXPLAIN " + std::string(kPgLookupAllSql), {array});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string text;
  for (int i = 0; i < plan->rows(); ++i) text += std::string(plan->Get(i, 0)) + "\n";
  EXPECT_EQ(text.find("Seq Scan on tempids"), std::string::npos) << text;
  EXPECT_EQ(text.find("Hash"), std::string::npos) << text;
  EXPECT_NE(text.find("Index"), std::string::npos) << text;

  // And the answer is right: ids 1, 62, 123, ... up to 300,000 are known, in order.
  std::vector<TempId> ids;
  for (int i = 0; i < 10000; ++i) {
    ids.push_back(TempId::FromInteger(static_cast<protocol::TempIdInteger>(i * 61 + 1)));
  }
  auto found = store->LookupAll(ids);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  for (int i = 0; i < 10000; ++i) {
    EXPECT_EQ((*found)[static_cast<std::size_t>(i)].has_value(), i * 61 + 1 <= 300000) << i;
  }
}

TEST_F(PgTempIdStoreTest, LookupAllOfManyIdsAnswersInOrder) {
  auto store = Open();
  ASSERT_TRUE(store);
  const std::int64_t now = clock_.NowUnixSeconds();
  test::SeededRandom random(3);
  std::vector<TempId> ids;
  std::vector<std::string> users;
  for (int i = 0; i < 300; ++i) {
    users.push_back("+614100" + std::to_string(10000 + i));
    auto r = store->Issue(users.back(), now, now + 10, random);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ids.push_back(r->id);
    ids.push_back(TempId::FromInteger(static_cast<protocol::TempIdInteger>(i)));  // unknown
  }
  auto found = store->LookupAll(ids);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  const auto& records = *found;
  ASSERT_EQ(records.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); i += 2) {
    ASSERT_TRUE(records[i].has_value()) << i;
    EXPECT_EQ(records[i]->user, users[i / 2]);
    EXPECT_FALSE(records[i + 1].has_value()) << i + 1;
  }
  EXPECT_TRUE(store->LookupAll({})->empty());
}

TEST_F(PgTempIdStoreTest, RecordsTheFileFormatCannotHoldAreRefused) {
  auto store = Open();
  ASSERT_TRUE(store);
  const TempId id = *TempId::Parse("12345678901234567890");
  // Not canonical, and a year beyond the format's four digits.
  EXPECT_EQ(store->Append({"61410000001", id, 0, 10}).code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Append({"+61410000001", id, 0, 400'000'000'000}).code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_TRUE(store->health().ok());
}

TEST_F(PgTempIdStoreTest, RecordsLandInTheirDaysPartitions) {
  auto store = Open();
  ASSERT_TRUE(store);
  // The last second of day 18519, the first of 18520, and one in 18523.
  const TempIdRecord a{"+61410000001", IdOf(1), 18520 * kDay - 10, 18520 * kDay - 1};
  const TempIdRecord b{"+61410000002", IdOf(2), 18520 * kDay - 10, 18520 * kDay};
  const TempIdRecord c{"+61410000003", IdOf(3), 18520 * kDay, 18523 * kDay + 5};
  for (const auto& r : {a, b, c}) ASSERT_TRUE(store->Append(r).ok()) << r.id.ToString();
  EXPECT_EQ(RecordsByPartition(), (std::vector<std::string>{"tempids_d18519 " + a.id.ToString(),
                                                            "tempids_d18520 " + b.id.ToString(),
                                                            "tempids_d18523 " + c.id.ToString()}));
  const std::vector<TempId> ids = {c.id, a.id, b.id};
  auto found = store->LookupAll(ids);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  const auto& records = *found;
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], c);
  EXPECT_EQ(records[1], a);
  EXPECT_EQ(records[2], b);
  EXPECT_EQ(store->size(), 3u);
}

TEST_F(PgTempIdStoreTest, ANewDaysPartitionIsCreatedByTheInsertItself) {
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(Partitions().empty());  // no Compact() has created any ahead
  const std::int64_t now = clock_.NowUnixSeconds();
  test::SeededRandom random(5);
  auto r = store->Issue("+61410000001", now, now + 40 * kDay, random);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Partitions(), std::vector<std::string>{Partition((now + 40 * kDay) / kDay)});
  EXPECT_EQ(store->Lookup(r->id), *r);
}

TEST_F(PgTempIdStoreTest, CompactDropsTheWholeDaysPastTheRetentionAndKeepsTheBoundaryDay) {
  // now is 44,800 s into day 18518; now - retention is 43,800 s into day 18515.
  const std::int64_t retention = 3 * kDay + 1000;
  auto store = Open({.retention_seconds = retention});
  ASSERT_TRUE(store);
  const std::int64_t now = clock_.NowUnixSeconds();
  const std::int64_t cutoff = now - retention;
  ASSERT_EQ(cutoff / kDay, 18515);
  const TempIdRecord day12{"+61410000001", IdOf(1), 18512 * kDay, 18512 * kDay + 100};
  const TempIdRecord day14_last{"+61410000001", IdOf(2), 18514 * kDay, 18515 * kDay - 1};
  // Expired more than the retention ago, yet kept: its day is the boundary day.
  const TempIdRecord day15_first{"+61410000001", IdOf(3), 18514 * kDay, 18515 * kDay};
  const TempIdRecord day15_cutoff{"+61410000001", IdOf(4), 18514 * kDay, cutoff};
  for (const auto& r : {day12, day14_last, day15_first, day15_cutoff}) {
    ASSERT_TRUE(store->Append(r).ok()) << r.id.ToString();
  }
  test::SeededRandom random(9);
  auto live = store->Issue("+61410000002", now, now + 900, random);
  ASSERT_TRUE(live.ok()) << live.status().ToString();

  auto stats = store->Compact();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->records_dropped, 2u);
  EXPECT_EQ(stats->cutoff, 18515 * kDay);
  EXPECT_FALSE(store->Lookup(day12.id).has_value());
  EXPECT_FALSE(store->Lookup(day14_last.id).has_value());
  EXPECT_TRUE(store->Lookup(day15_first.id).has_value());
  EXPECT_TRUE(store->Lookup(day15_cutoff.id).has_value());
  EXPECT_TRUE(store->Lookup(live->id).has_value());
  // The boundary day stays; today and the next two days exist now.
  EXPECT_EQ(Partitions(), (std::vector<std::string>{Partition(18515), Partition(18518),
                                                    Partition(18519), Partition(18520)}));
  EXPECT_EQ(store->size(), 3u);

  // Nothing more to drop until a day passes; then the boundary day goes as a whole.
  stats = store->Compact();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->records_dropped, 0u);
  clock_.AdvanceSeconds(kDay);
  stats = store->Compact();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->records_dropped, 2u);
  EXPECT_EQ(stats->cutoff, 18516 * kDay);
  EXPECT_EQ(Partitions(), (std::vector<std::string>{Partition(18518), Partition(18519),
                                                    Partition(18520), Partition(18521)}));
  EXPECT_EQ(store->size(), 1u);
  EXPECT_EQ(store->stats().compactions, 3u);
}

TEST_F(PgTempIdStoreTest, ATempIdHeldInAnotherDaysPartitionIsRefused) {
  auto store = Open();
  ASSERT_TRUE(store);
  const std::int64_t now = clock_.NowUnixSeconds();
  const TempIdRecord today{"+61410000001", IdOf(77), now, now + 10};
  ASSERT_TRUE(store->Append(today).ok());
  TempIdRecord later = today;
  later.user = "+61410000002";
  later.expiry = now + 5 * kDay;
  EXPECT_EQ(store->Append(later).code(), util::StatusCode::kAlreadyExists);

  // Issue draws again when the TempID it drew is held by a record of another day.
  std::vector<std::uint8_t> bytes(40, 7);  // the same TempID twice, then another
  bytes.insert(bytes.end(), 20, 9);
  test::ScriptedRandom scripted(bytes);
  auto first = store->Issue("+61410000003", now, now + 10, scripted);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = store->Issue("+61410000004", now, now + 5 * kDay, scripted);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(first->id, second->id);
  EXPECT_EQ(scripted.consumed(), bytes.size());
  EXPECT_EQ(store->Lookup(today.id)->user, "+61410000001");
  EXPECT_EQ(store->Lookup(first->id)->user, "+61410000003");
  EXPECT_EQ(store->size(), 3u);
}

// bluetrace_insert_tempids with one record on `conn`: "t" inserted, "f" taken, "error: ..."
// otherwise.
std::string InsertTempId(PgConnection& conn, const TempId& id, std::int64_t expiry) {
  auto res = conn.Exec("insert",
                       "SELECT count(*) = 1 FROM bluetrace_insert_tempids(ARRAY[$1]::bpchar[], "
                       "ARRAY['+61410000001'], ARRAY[$2::bigint], ARRAY[$2::bigint])",
                       {id.ToString(), std::to_string(expiry)});
  if (!res.ok()) return "error: " + res.status().ToString();
  return std::string(res->Get(0, 0));
}

TEST_F(PgTempIdStoreTest, ALookupInChunksAnswersEveryIdInItsPlace) {
  auto store = PgTempIdStore::Open(*pool_, clock_, {.lookup_chunk = 3});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(PgTempIdStore::Open(*pool_, clock_, {.lookup_chunk = 0}).status().code(),
            util::StatusCode::kInvalidArgument);
  const std::int64_t now = clock_.NowUnixSeconds();
  for (int i : {2, 5, 6, 9}) {
    ASSERT_TRUE((*store)->Append({"+6141000000" + std::to_string(i), IdOf(i), now, now + 9}).ok());
  }
  // 10 ids in chunks of 3, 3, 3, 1; 5 asked twice, in two chunks.
  const std::vector<TempId> ids = {IdOf(1), IdOf(2), IdOf(3), IdOf(5), IdOf(4),
                                   IdOf(6), IdOf(7), IdOf(8), IdOf(5), IdOf(9)};
  auto found = (*store)->LookupAll(ids);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::uint64_t n = std::stoull(ids[i].ToString());
    const bool stored = n == 2 || n == 5 || n == 6 || n == 9;
    ASSERT_EQ((*found)[i].has_value(), stored) << "position " << i;
    if (stored) {
      EXPECT_EQ((*found)[i]->user, "+6141000000" + std::to_string(n));
    }
  }
}

TEST_F(PgTempIdStoreTest, ABatchRecordsTheFirstOfATempIdItHoldsTwiceAndNoneTheDatabaseHas) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  const std::int64_t now = clock_.NowUnixSeconds();
  ASSERT_EQ(InsertTempId(*conn, IdOf(7), now), "t");
  // Positions 1 (new), 2 (known, another day), 3 (new), 4 (repeats 1, another day).
  auto res = conn->Exec(
      "batch",
      "SELECT * FROM bluetrace_insert_tempids($1::bpchar[], "
      "'{+61410000001,+61410000002,+61410000003,+61410000004}', $2::bigint[], $3::bigint[])",
      {"{" + IdOf(8).ToString() + "," + IdOf(7).ToString() + "," + IdOf(9).ToString() + "," +
           IdOf(8).ToString() + "}",
       "{" + std::to_string(now) + "," + std::to_string(now) + "," + std::to_string(now) + "," +
           std::to_string(now) + "}",
       "{" + std::to_string(now) + "," + std::to_string(now + 2 * kDay) + "," +
           std::to_string(now) + "," + std::to_string(now + 2 * kDay) + "}"});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->rows(), 2);
  EXPECT_EQ(*res->GetInt(0, 0), 1);
  EXPECT_EQ(*res->GetInt(1, 0), 3);
  auto store = PgTempIdStore::Open(*pool_, clock_, {});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Lookup(IdOf(8))->user, "+61410000001");
  EXPECT_EQ((*store)->Lookup(IdOf(7))->user, "+61410000001");
  EXPECT_EQ((*store)->size(), 3u);
  auto uneven = conn->Exec("uneven",
                           "SELECT * FROM bluetrace_insert_tempids(ARRAY[$1]::bpchar[], "
                           "'{}', ARRAY[1::bigint], ARRAY[1::bigint])",
                           {IdOf(10).ToString()});
  EXPECT_FALSE(uneven.ok());
}

// Polls (bounded) until some connection waits for a table lock.
bool AWriterWaitsForATable(PgConnection& conn) {
  for (int i = 0; i < 1000; ++i) {
    auto res = conn.Exec(
        "waiters", "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND NOT granted");
    if (res.ok() && *res->GetInt(0, 0) > 0) return true;
    (void)conn.Exec("pause", "SELECT pg_sleep(0.01)");
  }
  return false;
}

TEST_F(PgTempIdStoreTest, CallersArrivingWhileABatchIsUnderWayGoInTheNextBatchTogether) {
  auto store = PgTempIdStore::Open(*pool_, clock_, {.max_batches_in_flight = 1});
  ASSERT_TRUE(store.ok());
  auto holder = Connect();
  ASSERT_TRUE(holder);
  // Inserts wait while another transaction holds the table.
  ASSERT_TRUE(holder->ExecScript("lock", "BEGIN; LOCK TABLE tempids IN EXCLUSIVE MODE").ok());
  const std::int64_t now = clock_.NowUnixSeconds();
  constexpr int kCallers = 12;
  std::vector<std::thread> callers;
  std::vector<Status> results(kCallers);
  callers.emplace_back([&] {
    results[0] = (*store)->Append({"+61410000000", IdOf(100), now, now + 899});
  });
  // The first caller's batch is under way (waiting for the table) before the others come.
  ASSERT_TRUE(AWriterWaitsForATable(*Connect()));
  for (int i = 1; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      results[static_cast<std::size_t>(i)] =
          (*store)->Append({"+61410000000", IdOf(100 + i), now, now + 899});
    });
  }
  for (int i = 0; i < 2000 && (*store)->queued() < kCallers - 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ((*store)->queued(), static_cast<std::size_t>(kCallers - 1));
  ASSERT_TRUE(holder->ExecScript("unlock", "COMMIT").ok());
  for (auto& t : callers) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  const TempIdStoreStats stats = (*store)->stats();
  EXPECT_EQ(stats.records_appended, static_cast<std::uint64_t>(kCallers));
  EXPECT_EQ(stats.syncs, 2u);
  EXPECT_EQ(stats.largest_batch, static_cast<std::uint64_t>(kCallers - 1));
  EXPECT_EQ((*store)->size(), static_cast<std::size_t>(kCallers));
}

TEST_F(PgTempIdStoreTest, EveryCallerOfAFailedBatchGetsTheError) {
  // Statements end after 300 ms, and the table stays locked throughout.
  PgPoolOptions options;
  options.connection.conninfo = conninfo_;
  options.connection.statement_timeout = std::chrono::milliseconds(300);
  auto pool = PgPool::Open(options);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  auto store = PgTempIdStore::Open(**pool, clock_, {.max_batches_in_flight = 1});
  ASSERT_TRUE(store.ok());
  auto holder = Connect();
  ASSERT_TRUE(holder);
  ASSERT_TRUE(holder->ExecScript("lock", "BEGIN; LOCK TABLE tempids IN EXCLUSIVE MODE").ok());
  const std::int64_t now = clock_.NowUnixSeconds();
  constexpr int kCallers = 4;
  std::vector<Status> results(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      results[static_cast<std::size_t>(i)] =
          (*store)->Append({"+61410000000", IdOf(1 + i), now, now + 899});
    });
  }
  for (auto& t : callers) t.join();
  for (const Status& st : results) {
    EXPECT_EQ(st.code(), util::StatusCode::kUnavailable) << st.ToString();
  }
  EXPECT_EQ((*store)->stats().records_appended, 0u);
  ASSERT_TRUE(holder->ExecScript("unlock", "COMMIT").ok());
  EXPECT_EQ((*store)->size(), 0u);
}

// Polls (bounded) until some connection waits for an advisory lock.
bool AWriterWaits(PgConnection& conn) {
  for (int i = 0; i < 1000; ++i) {
    auto res = conn.Exec(
        "waiters", "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
    if (res.ok() && *res->GetInt(0, 0) > 0) return true;
    (void)conn.Exec("pause", "SELECT pg_sleep(0.01)");
  }
  return false;
}

TEST_F(PgTempIdStoreTest, AWriterWaitsForTheTempIdsHolderAndSeesWhatItCommitted) {
  auto holder = Connect();
  auto writer = Connect();
  auto observer = Connect();
  ASSERT_TRUE(holder && writer && observer);
  const std::int64_t now = clock_.NowUnixSeconds();
  for (const bool commit : {true, false}) {
    const TempId id = IdOf(commit ? 1 : 2);
    ASSERT_TRUE(holder->ExecScript("begin", "BEGIN").ok());
    ASSERT_EQ(InsertTempId(*holder, id, now), "t");
    std::string from_writer;
    // Another day's partition: only the function's check can refuse it.
    std::thread tw([&] { from_writer = InsertTempId(*writer, id, now + 4 * kDay); });
    const bool waited = AWriterWaits(*observer);
    ASSERT_TRUE(holder->ExecScript("end", commit ? "COMMIT" : "ROLLBACK").ok());
    tw.join();
    EXPECT_TRUE(waited);
    // The new snapshot of the statement after the lock sees the holder's commit.
    EXPECT_EQ(from_writer, commit ? "f" : "t") << (commit ? "after COMMIT" : "after ROLLBACK");
  }
}

TEST_F(PgTempIdStoreTest, InsertingUnderRepeatableReadIsRefused) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->ExecScript("begin", "BEGIN ISOLATION LEVEL REPEATABLE READ").ok());
  EXPECT_EQ(InsertTempId(*conn, IdOf(1), clock_.NowUnixSeconds()).rfind("error: ", 0), 0u);
  ASSERT_TRUE(conn->ExecScript("rollback", "ROLLBACK").ok());
  EXPECT_EQ(InsertTempId(*conn, IdOf(1), clock_.NowUnixSeconds()), "t");
}

TEST_F(PgTempIdStoreTest, TheServersRoleNeedsOnlyTheDocumentedGrants) {
  auto admin = Connect();
  ASSERT_TRUE(admin);
  auto db = admin->Exec("db", "SELECT current_database()");
  ASSERT_TRUE(db.ok());
  const std::string role = "srv_" + std::string(db->Get(0, 0));
  const std::string idle = "idle_" + std::string(db->Get(0, 0));
  ASSERT_TRUE(
      admin
          ->ExecScript("grant",
                       "CREATE ROLE " + role + " LOGIN; CREATE ROLE " + idle +
                           " LOGIN; GRANT SELECT, INSERT ON tempids TO " + role + ", " + idle +
                           "; GRANT EXECUTE ON FUNCTION "
                           "bluetrace_insert_tempids(bpchar[], text[], bigint[], bigint[]), "
                           "bluetrace_ensure_tempid_partition(integer), "
                           "bluetrace_drop_tempid_partitions(integer) TO " +
                           role)
          .ok());
  PgPoolOptions options;
  options.connection.conninfo = conninfo_ + " user=" + role;
  auto pool = PgPool::Open(options);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  auto store = PgTempIdStore::Open(**pool, clock_, {.retention_seconds = kDay});
  ASSERT_TRUE(store.ok());
  const std::int64_t now = clock_.NowUnixSeconds();
  ASSERT_TRUE((*store)->Append({"+61410000001", IdOf(1), now - 5 * kDay, now - 4 * kDay}).ok());
  test::SeededRandom random(1);
  auto r = (*store)->Issue("+61410000002", now, now + 10 * kDay, random);  // a new partition
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*store)->Lookup(r->id), *r);
  auto stats = (*store)->Compact();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->records_dropped, 1u);
  EXPECT_EQ((*store)->size(), 1u);

  // It cannot drop a partition by itself, and a role without EXECUTE cannot drop any.
  auto as_role = Connect(" user=" + role);
  auto as_idle = Connect(" user=" + idle);
  ASSERT_TRUE(as_role && as_idle);
  EXPECT_FALSE(
      as_role->ExecScript("drop", "DROP TABLE " + Partition((now + 10 * kDay) / kDay)).ok());
  EXPECT_FALSE(as_idle->Exec("drop", "SELECT bluetrace_drop_tempid_partitions(2000000000)").ok());
  EXPECT_FALSE(as_idle->Exec("ensure", "SELECT bluetrace_ensure_tempid_partition(1)").ok());
  EXPECT_EQ((*store)->size(), 1u);
}

// Starts at version 1 and migrates in the test.
class PgTempIdMigrationTest : public PgTempIdStoreTest {
 protected:
  bool MigrateInSetUp() const override { return false; }
};

TEST_F(PgTempIdMigrationTest, TheRecordsOfVersion1MoveIntoTheirPartitions) {
  test::TempDir v1;
  test::WriteFileForTest(v1.File("001_initial.sql"),
                         test::ReadFileForTest(test::SourcePath("packaging/sql/001_initial.sql")));
  Migrate(v1.path(), 1);
  const std::vector<TempIdRecord> records = {
      {"+61410000001", IdOf(1), 18500 * kDay, 18500 * kDay + 9},
      {"+61410000002", IdOf(2), 18500 * kDay, 18501 * kDay - 1},
      {"+61410000003", IdOf(3), 18500 * kDay, 18519 * kDay}};
  {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    for (const auto& r : records) {
      ASSERT_TRUE(
          conn->Exec("insert v1",
                     "INSERT INTO tempids (tempid, phone, start, expiry) "
                     "VALUES ($1, $2, $3::bigint, $4::bigint)",
                     {r.id.ToString(), r.user, std::to_string(r.start), std::to_string(r.expiry)})
              .ok());
    }
  }
  Migrate(test::SourcePath("packaging/sql"), kSchemaVersion);
  OpenPool();
  auto store = Open();
  ASSERT_TRUE(store);
  for (const auto& r : records) EXPECT_EQ(store->Lookup(r.id), r) << r.id.ToString();
  EXPECT_EQ(RecordsByPartition(),
            (std::vector<std::string>{"tempids_d18500 " + records[0].id.ToString(),
                                      "tempids_d18500 " + records[1].id.ToString(),
                                      "tempids_d18519 " + records[2].id.ToString()}));
  EXPECT_EQ(store->size(), 3u);
  TempIdRecord again = records[0];
  again.expiry = clock_.NowUnixSeconds() + 10;
  EXPECT_EQ(store->Append(again).code(), util::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace bluetrace::store
