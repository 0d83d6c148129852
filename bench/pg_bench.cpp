// The PostgreSQL backend measured, in one run, each figure beside its target:
//   1. TempID issuance per second with 1, 2 and 3 server instances on one database (an
//      instance: its own pool and stores from OpenPgBackend, driven by as many threads
//      calling Issue as a server has store threads, whose concurrent calls the store
//      batches), then with fewer threads (small batches), and the file backend beside them;
//   2. logins per second with a cheap Argon2id (m=8 KiB, t=1) along the service's path
//      (lockout Check twice, UserStore::Verify, RecordSuccess, the audit record);
//   3. the contact check of a 10,000-TempID upload (LookupAll, half known) against 10M
//      stored TempIDs and more, loaded server-side with INSERT ... SELECT generate_series,
//      with the EXPLAIN (ANALYZE, BUFFERS) summary of the lookup (and, as diagnostics, the
//      plan with enable_seqscan off and the lookup written as a join with unnest). When
//      LookupAll fails (its pool's 5 s statement timeout), its statement is timed alone;
//   4. `db import` (store::ImportStateDir) of a 10M-line tempIDs.txt into an empty database.
// For each PostgreSQL run it prints the cores the cluster used, the machine's, and the
// transactions per WAL sync (pg_stat_database, pg_stat_wal).
//
// It starts its own throwaway PostgreSQL 15 cluster under /tmp (initdb, pg_ctl; through
// `runuser -u postgres` as root), tuned for a benchmark but durable (fsync and
// synchronous_commit stay on: durability is part of the figure), and stops and removes it
// at the end, also when a step fails or on SIGINT/SIGTERM. Every timed run is bounded by a
// duration, the loading by a budget.
//
// Usage: pg_bench [seconds per run = 5] [stored TempIDs = 10000000,30000000]
//                 [load budget in seconds = 900] [tempIDs.txt lines to import = 10000000]
// A size is skipped (and said so) when its load would not fit in what is left of the budget
// at the rate measured so far; a load that overruns it stops at the budget, and the check
// runs at the size reached.
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bluetrace/protocol/tempid.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/service/server_config.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/files/file_backend.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "bluetrace/store/postgres/pg_backend.hpp"
#include "bluetrace/store/postgres/pg_connection.hpp"
#include "bluetrace/store/postgres/pg_tempid_store.hpp"
#include "bluetrace/store/postgres/pg_transfer.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"

#ifndef BLUETRACE_SQL_DIR
#error "BLUETRACE_SQL_DIR (packaging/sql) must be defined by the build"
#endif

namespace bluetrace {
namespace {

using Steady = std::chrono::steady_clock;

constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kDatabase = "bench";
constexpr std::int64_t kSecondsPerDay = 86400;
constexpr int kDays = 21;  // the retention: the stored TempIDs expire over 21 days
constexpr std::size_t kUploadIds = 10'000;
// A multiplier coprime to 10^20: i -> i * kSpread mod 10^20 is a bijection, so the loaded
// TempIDs are distinct and the benchmark can compute which ones exist.
constexpr std::uint64_t kSpread = 2'862'933'555'777'941'757ull;
constexpr protocol::TempIdInteger kTempIdRange =
    protocol::TempIdInteger{10'000'000'000ull} * 10'000'000'000ull;

// The settings of the throwaway cluster, appended to its postgresql.conf (and printed).
const std::vector<std::string> kSettings = {
    "listen_addresses = ''",         // Unix socket only
    "max_connections = 200",         // 3 instances x pools of up to 16, and the benchmark
    "shared_buffers = 1GB",          // the index pages of 10M-30M TempIDs stay in memory
    "max_wal_size = 8GB",            // few checkpoints while loading; disk use bounded
    "checkpoint_timeout = 30min",    //
    "maintenance_work_mem = 512MB",  //
    "track_wal_io_timing = on",      // pg_stat_wal's write and sync times
    "track_io_timing = on",          //
    "fsync = on",                    // durable, as in production
    "synchronous_commit = on",       //
    "autovacuum = off",              // no vacuum of the loaded rows during a measurement
};

template <class T>
double Dbl(T v) {
  return static_cast<double>(v);
}

// A non-negative int as an index or count.
std::size_t Idx(int v) { return static_cast<std::size_t>(v); }

double SecondsSince(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

std::string Fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// Runs `command` through the shell; its output goes to `log`. True when it exits 0.
bool Shell(const std::string& command, const std::string& log) {
  const std::string line = "(" + command + ") >>" + log + " 2>&1";
  const int rc = std::system(line.c_str());
  return rc == 0;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The command that stops the cluster and removes its directory, prepared before anything
// can be interrupted, for the signal handler (which may only fork, exec, wait and _exit).
char g_cleanup[512] = "";

extern "C" void OnSignal(int sig) {
  if (g_cleanup[0] != '\0') {
    const pid_t child = fork();
    if (child == 0) {
      execl("/bin/sh", "sh", "-c", g_cleanup, static_cast<char*>(nullptr));
      _exit(127);
    }
    if (child > 0) waitpid(child, nullptr, 0);
  }
  _exit(128 + sig);
}

// A throwaway cluster: initdb into /tmp/bt-pgbench-XXXXXX, start on a Unix socket in that
// directory, and on Stop (or destruction) `pg_ctl -m fast stop` and remove the directory.
class Cluster {
 public:
  Cluster() = default;
  ~Cluster() { Stop(); }
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  bool Start(std::string* error) {
    std::string templ = "/tmp/bt-pgbench-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      *error = "mkdtemp failed";
      return false;
    }
    dir_ = templ;
    log_ = dir_ + "/commands.log";
    if (geteuid() == 0 && !Shell("chown postgres: " + dir_, log_)) {
      *error = "chown postgres: " + ReadAll(log_);
      return false;
    }
    if (!AsOwner(std::string(kBinDir) + "/initdb -D " + dir_ +
                 "/data -A trust -U bt --no-sync --no-locale -E UTF8")) {
      *error = "initdb failed: " + ReadAll(log_);
      return false;
    }
    {
      std::ofstream conf(dir_ + "/data/postgresql.conf", std::ios::app);
      conf << "\n# pg_bench\nunix_socket_directories = '" << dir_ << "'\n";
      for (const std::string& s : kSettings) conf << s << "\n";
      if (!conf) {
        *error = "cannot append to postgresql.conf";
        return false;
      }
    }
    if (!AsOwner(std::string(kBinDir) + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                 "/server.log -w start")) {
      *error = "pg_ctl start failed: " + ReadAll(log_) + ReadAll(dir_ + "/server.log");
      return false;
    }
    running_ = true;
    const std::string as_owner = geteuid() == 0 ? "runuser -u postgres -- " : "";
    std::snprintf(g_cleanup, sizeof g_cleanup,
                  "cd /tmp && %s%s/pg_ctl -D %s/data -m immediate -w stop >/dev/null 2>&1; "
                  "rm -rf %s %s/bt-pgbench-files",
                  as_owner.c_str(), kBinDir, dir_.c_str(), dir_.c_str(),
                  std::filesystem::temp_directory_path().c_str());
    return true;
  }

  void Stop() {
    g_cleanup[0] = '\0';
    if (running_) {
      running_ = false;
      if (!AsOwner(std::string(kBinDir) + "/pg_ctl -D " + dir_ + "/data -m fast -w stop")) {
        std::fprintf(stderr, "pg_ctl stop failed: %s\n", ReadAll(log_).c_str());
      }
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }

  std::string Conninfo(const std::string& dbname) const {
    return "host=" + dir_ + " user=bt dbname=" + dbname + " connect_timeout=10";
  }

  // The postmaster's pid (the first line of postmaster.pid), 0 when unknown.
  int PostmasterPid() const {
    std::ifstream in(dir_ + "/data/postmaster.pid");
    int pid = 0;
    in >> pid;
    return pid;
  }

 private:
  bool AsOwner(const std::string& command) {
    std::string line = "cd " + dir_ + " && ";
    if (geteuid() == 0) line += "runuser -u postgres -- ";
    return Shell(line + command, log_);
  }

  std::string dir_;
  std::string log_;
  bool running_ = false;
};

// CPU time (clock ticks) of the postmaster and its children (the backends, walwriter, ...).
std::uint64_t ClusterCpuTicks(int postmaster) {
  std::uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    const int pid = std::stoi(name);
    if (pid != postmaster && ppid != postmaster) continue;
    std::string skip;
    for (int i = 0; i < 9; ++i) rest >> skip;  // pgrp .. cmajflt
    std::uint64_t utime = 0, stime = 0;
    rest >> utime >> stime;
    total += utime + stime;
  }
  return total;
}

// Busy and total ticks of the whole machine (/proc/stat's first line).
std::pair<std::uint64_t, std::uint64_t> MachineTicks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  std::uint64_t v[8] = {};
  for (auto& x : v) in >> x;
  std::uint64_t total = 0;
  for (auto x : v) total += x;
  return {total - v[3] - v[4], total};  // minus idle and iowait
}

double SelfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return Dbl(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * Dbl(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// What a timed run used: cores of the cluster, of this process, of the whole machine, and
// the WAL syncs and commits of the database.
struct Usage {
  double seconds = 0;
  double cluster_cores = 0;
  double bench_cores = 0;
  double machine_cores = 0;
  std::int64_t commits = 0;
  std::int64_t wal_syncs = 0;
  double wal_sync_ms = 0;
};

class UsageMeter {
 public:
  UsageMeter(Cluster& cluster, store::PgConnection& admin) : cluster_(cluster), admin_(admin) {}
  void Begin() {
    start_ = Steady::now();
    cluster0_ = ClusterCpuTicks(cluster_.PostmasterPid());
    machine0_ = MachineTicks();
    self0_ = SelfCpuSeconds();
    ReadStats(&commits0_, &syncs0_, &sync_ms0_);
  }
  // Call after the run's connections are closed (a backend flushes its statistics when it
  // exits; a live one may hold them back for up to a second).
  Usage End(double run_seconds) {
    Usage u;
    u.seconds = run_seconds;
    const double wall = SecondsSince(start_);
    const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    u.cluster_cores = Dbl(ClusterCpuTicks(cluster_.PostmasterPid()) - cluster0_) / hz / wall;
    const auto machine = MachineTicks();
    const double ncpu = static_cast<double>(std::thread::hardware_concurrency());
    u.machine_cores =
        ncpu * static_cast<double>(machine.first - machine0_.first) /
        static_cast<double>(std::max<std::uint64_t>(1, machine.second - machine0_.second));
    u.bench_cores = (SelfCpuSeconds() - self0_) / wall;
    std::int64_t commits = 0, syncs = 0;
    double sync_ms = 0;
    ReadStats(&commits, &syncs, &sync_ms);
    u.commits = commits - commits0_;
    u.wal_syncs = syncs - syncs0_;
    u.wal_sync_ms = sync_ms - sync_ms0_;
    return u;
  }

 private:
  void ReadStats(std::int64_t* commits, std::int64_t* syncs, double* sync_ms) {
    auto res = admin_.Exec("stats",
                           "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = "
                           "current_database()), wal_sync, wal_sync_time FROM pg_stat_wal");
    if (!res.ok() || res->rows() != 1) return;
    *commits = res->GetInt(0, 0).ok() ? *res->GetInt(0, 0) : 0;
    *syncs = res->GetInt(0, 1).ok() ? *res->GetInt(0, 1) : 0;
    *sync_ms = std::atof(std::string(res->Get(0, 2)).c_str());
  }

  Cluster& cluster_;
  store::PgConnection& admin_;
  Steady::time_point start_;
  std::uint64_t cluster0_ = 0;
  std::pair<std::uint64_t, std::uint64_t> machine0_;
  double self0_ = 0;
  std::int64_t commits0_ = 0, syncs0_ = 0;
  double sync_ms0_ = 0;
};

std::string UsageText(const Usage& u) {
  std::string s = "cores: db " + Fmt("%.2f", u.cluster_cores) + ", bench " +
                  Fmt("%.2f", u.bench_cores) + ", machine " + Fmt("%.2f", u.machine_cores);
  if (u.commits > 0) {
    s += "; " + std::to_string(u.commits) + " transactions, " + std::to_string(u.wal_syncs) +
         " WAL syncs (" + Fmt("%.2f", u.wal_syncs > 0 ? Dbl(u.commits) / Dbl(u.wal_syncs) : 0) +
         " per WAL sync, mean sync " +
         Fmt("%.2f", u.wal_syncs > 0 ? u.wal_sync_ms / Dbl(u.wal_syncs) : 0) + " ms)";
  }
  return s;
}

std::string User(std::uint64_t i) { return "+614" + std::to_string(10'000'000 + i % 100'000); }

// Un-counted warm-up of every run: the pools open their connections, and each new backend
// loads its catalog caches and compiles the plpgsql functions (tens of ms of CPU each, so 36
// new backends take seconds on 2 cores). It lasts until every thread has done
// kWarmupOps operations, at least kWarmupSeconds and at most kMaxWarmupSeconds.
constexpr double kWarmupSeconds = 1.0;
constexpr double kMaxWarmupSeconds = 8.0;
constexpr std::uint64_t kWarmupOps = 20;

// Runs `op` on `threads` threads (thread t gets its index): a warm-up un-counted, then
// `on_start`, then `seconds` counted. Returns the operations that succeeded in the counted
// window and counts its failures in `*failures`.
std::uint64_t RunFor(int threads, double seconds, const std::function<bool(int, std::uint64_t)>& op,
                     std::uint64_t* failures, const std::function<void()>& on_start) {
  std::atomic<bool> stop{false};
  std::atomic<bool> counting{false};
  std::atomic<int> warm{0};  // threads done with kWarmupOps
  std::atomic<std::uint64_t> ok{0}, failed{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const bool success = op(t, n++);
        if (n == kWarmupOps) warm.fetch_add(1);
        if (!counting.load(std::memory_order_relaxed)) continue;
        (success ? ok : failed).fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  const auto begin = Steady::now();
  while (SecondsSince(begin) < kMaxWarmupSeconds &&
         (SecondsSince(begin) < kWarmupSeconds || warm.load() < threads)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  on_start();
  counting = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  counting = false;
  stop = true;
  for (auto& th : pool) th.join();
  *failures = failed.load();
  return ok.load();
}

struct Row {
  std::string figure;
  std::string measured;
  std::string target;
};

class Bench {
 public:
  Bench(Cluster& cluster, store::PgConnection& admin, double seconds)
      : cluster_(cluster), admin_(admin), seconds_(seconds), meter_(cluster, admin) {}

  std::vector<Row> rows;

  store::PgBackendOptions PgOptions(std::size_t pool_size) const {
    store::PgBackendOptions o;
    o.pool.connection.conninfo = cluster_.Conninfo(kDatabase);
    o.pool.size = pool_size;
    o.pool.acquire_timeout = std::chrono::milliseconds(10'000);
    o.argon2 = {.memory_kib = 8, .iterations = 1, .parallelism = 1};
    return o;
  }

  // Opens `n` instances; empty on failure (printed).
  std::vector<store::Stores> OpenInstances(int n, std::size_t pool_size) {
    std::vector<store::Stores> out;
    for (int i = 0; i < n; ++i) {
      auto stores = store::OpenPgBackend(util::SystemClock::Instance(),
                                         util::OpenSslRandom::Instance(), PgOptions(pool_size));
      if (!stores.ok()) {
        std::printf("  open instance: %s\n", stores.status().ToString().c_str());
        return {};
      }
      out.push_back(std::move(stores).value());
    }
    return out;
  }

  std::string first_error;
  std::atomic<bool> have_error{false};
  void NoteError(const util::Status& st) {
    bool expected = false;
    if (have_error.compare_exchange_strong(expected, true)) first_error = st.ToString();
  }

  // Issue() on `instances` PostgreSQL instances, `threads` threads each.
  double PgIssue(const std::string& label, int instances, int threads, std::size_t pool_size) {
    auto inst = OpenInstances(instances, pool_size);
    if (inst.empty()) return 0;
    util::Clock& clock = util::SystemClock::Instance();
    std::uint64_t failures = 0;
    const std::uint64_t n = RunFor(
        instances * threads, seconds_,
        [&](int t, std::uint64_t i) {
          const std::int64_t now = clock.NowUnixSeconds();
          auto r = inst[Idx(t % instances)].tempids->Issue(User(Idx(t) * 7919 + i), now, now + 899,
                                                           util::OpenSslRandom::Instance());
          if (!r.ok()) NoteError(r.status());
          return r.ok();
        },
        &failures, [&] { meter_.Begin(); });
    std::uint64_t records = 0, batches = 0, largest = 0;
    for (auto& i : inst) {
      const auto st = i.tempids->stats();
      records += st.records_appended;
      batches += st.syncs;
      largest = std::max(largest, st.largest_batch);
    }
    inst.clear();  // closes the connections: their statistics are flushed
    const Usage u = meter_.End(seconds_);
    const double rate = Dbl(n) / seconds_;
    std::printf(
        "  %-44s %9.0f TempIDs/s (%llu failed), %.1f TempIDs per batch (largest %llu)\n    %s\n",
        label.c_str(), rate, static_cast<unsigned long long>(failures),
        batches > 0 ? Dbl(records) / Dbl(batches) : 0.0, static_cast<unsigned long long>(largest),
        UsageText(u).c_str());
    PrintFirstError();
    return rate;
  }

  // The file backend in `state_dir`, with the benchmark's cheap Argon2 parameters.
  static util::Result<store::Stores> OpenFiles(const std::string& state_dir) {
    store::FileBackendOptions o;
    o.state_dir = state_dir;
    o.argon2 = {.memory_kib = 8, .iterations = 1, .parallelism = 1};
    return store::OpenFileBackend(store::PosixFileSystem::Instance(), util::SystemClock::Instance(),
                                  util::OpenSslRandom::Instance(), o);
  }

  double FileIssue(const std::string& state_dir, int threads) {
    auto stores = OpenFiles(state_dir);
    if (!stores.ok()) {
      std::printf("  open file backend: %s\n", stores.status().ToString().c_str());
      return 0;
    }
    util::Clock& clock = util::SystemClock::Instance();
    double self0 = 0;
    std::uint64_t failures = 0;
    const std::uint64_t n = RunFor(
        threads, seconds_,
        [&](int t, std::uint64_t i) {
          const std::int64_t now = clock.NowUnixSeconds();
          auto r = stores->tempids->Issue(User(Idx(t) * 7919 + i), now, now + 899,
                                          util::OpenSslRandom::Instance());
          if (!r.ok()) NoteError(r.status());
          return r.ok();
        },
        &failures, [&] { self0 = SelfCpuSeconds(); });
    const auto stats = stores->tempids->stats();
    const double rate = Dbl(n) / seconds_;
    std::printf("  %-44s %9.0f TempIDs/s (%llu failed), %.2f records/fsync, bench %.2f cores\n",
                ("file backend, " + std::to_string(threads) + " threads").c_str(), rate,
                static_cast<unsigned long long>(failures),
                stats.syncs > 0 ? Dbl(stats.records_appended) / Dbl(stats.syncs) : 0.0,
                (SelfCpuSeconds() - self0) / seconds_);
    PrintFirstError();
    return rate;
  }

  // One login as AuthService does it: Check (on arrival), Check (just before verifying),
  // Verify, RecordSuccess, and the audit record written before the answer.
  // `audit` false leaves the audit record out, to show what it costs.
  bool Login(store::Stores& s, const std::string& user, const std::string& password,
             bool audit = true) {
    if (s.lockouts->Check(user).blocked) return false;
    if (s.lockouts->Check(user).blocked) return false;
    auto v = s.users->Verify(user, password);
    if (!v.ok()) {
      NoteError(v.status());
      return false;
    }
    if (*v != store::VerifyResult::kOk) return false;
    util::Status st = s.lockouts->RecordSuccess(user);
    if (st.ok() && audit) st = s.audit->Record("login_ok", {{"user", user}, {"peer", "127.0.0.1"}});
    if (!st.ok()) NoteError(st);
    return st.ok();
  }

  static constexpr int kLoginUsers = 256;
  static std::string Password(int u) { return "password-" + std::to_string(u); }

  bool AddUsers(store::UserStore& users) {
    for (int u = 0; u < kLoginUsers; ++u) {
      util::Status st = users.AddUser(User(50'000 + Idx(u)), Password(u));
      if (!st.ok() && st.code() != util::StatusCode::kAlreadyExists) {
        std::printf("  add user: %s\n", st.ToString().c_str());
        return false;
      }
    }
    return true;
  }

  double PgLogins(int instances, int threads, bool audit = true) {
    auto inst = OpenInstances(instances, 4);
    if (inst.empty()) return 0;
    std::uint64_t failures = 0;
    const std::uint64_t n = RunFor(
        instances * threads, seconds_,
        [&](int t, std::uint64_t i) {
          const int u = static_cast<int>((Idx(t) * 37 + i) % kLoginUsers);
          return Login(inst[Idx(t % instances)], User(50'000 + Idx(u)), Password(u), audit);
        },
        &failures, [&] { meter_.Begin(); });
    inst.clear();
    const Usage u = meter_.End(seconds_);
    const double rate = Dbl(n) / seconds_;
    std::printf("  %-44s %9.0f logins/s (%llu failed)\n    %s\n",
                ("PostgreSQL, " + std::to_string(instances) + " instance(s) x " +
                 std::to_string(threads) + " threads")
                    .c_str(),
                rate, static_cast<unsigned long long>(failures), UsageText(u).c_str());
    PrintFirstError();
    return rate;
  }

  double FileLogins(const std::string& state_dir, int threads) {
    auto stores = OpenFiles(state_dir);
    if (!stores.ok() || !AddUsers(*stores->users)) {
      std::printf("  file backend for logins failed\n");
      return 0;
    }
    double self0 = 0;
    std::uint64_t failures = 0;
    const std::uint64_t n = RunFor(
        threads, seconds_,
        [&](int t, std::uint64_t i) {
          const int u = static_cast<int>((Idx(t) * 37 + i) % kLoginUsers);
          return Login(*stores, User(50'000 + Idx(u)), Password(u));
        },
        &failures, [&] { self0 = SelfCpuSeconds(); });
    const double rate = Dbl(n) / seconds_;
    std::printf("  %-44s %9.0f logins/s (%llu failed), bench %.2f cores\n",
                ("file backend, " + std::to_string(threads) + " threads").c_str(), rate,
                static_cast<unsigned long long>(failures), (SelfCpuSeconds() - self0) / seconds_);
    PrintFirstError();
    return rate;
  }

  void PrintFirstError() {
    if (have_error) std::printf("    first error: %s\n", first_error.c_str());
    have_error = false;
  }

  bool SetSystem(const std::string& name, const std::string& value) {
    // ALTER SYSTEM takes no parameters; name and value are this program's constants.
    util::Status st = admin_.ExecScript("alter system", "ALTER SYSTEM SET " + name + " = " + value);
    if (st.ok()) st = admin_.Exec("reload", "SELECT pg_reload_conf()").status();
    if (!st.ok()) std::printf("  %s\n", st.ToString().c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the reload reaches backends
    return st.ok();
  }

 private:
  Cluster& cluster_;
  store::PgConnection& admin_;
  double seconds_;
  UsageMeter meter_;
};

// The TempID of loaded row i (as the INSERT ... SELECT computes it).
protocol::TempId LoadedId(std::uint64_t i) {
  return protocol::TempId::FromInteger((protocol::TempIdInteger{i} * kSpread) % kTempIdRange);
}

// Loads rows [from, to) in steps; prints the rate. Returns false on failure.
// Stops early (setting `*to` to the rows loaded) once `deadline` has passed.
bool LoadRows(store::PgConnection& admin, std::int64_t first_day, std::uint64_t from,
              std::uint64_t* to_inout, double* seconds, Steady::time_point deadline) {
  const std::uint64_t to = *to_inout;
  const auto start = Steady::now();
  constexpr std::uint64_t kStep = 2'000'000;
  for (std::uint64_t lo = from; lo < to; lo += kStep) {
    const std::uint64_t hi = std::min(to, lo + kStep);
    auto res = admin.Exec(
        "load tempids",
        "INSERT INTO tempids (tempid, phone, start, expiry, day) "
        "SELECT lpad(((i::numeric * $3::numeric) % 100000000000000000000)::text, 20, '0'), "
        "'+614' || (10000000 + i % 100000), e - 899, e, ($4::bigint + i % 21)::integer "
        "FROM (SELECT i, ($4::bigint + i % 21) * 86400 + (i * 7) % 86400 AS e "
        "FROM generate_series($1::bigint, $2::bigint - 1) AS i) AS s",
        {std::to_string(lo), std::to_string(hi), std::to_string(kSpread),
         std::to_string(first_day)});
    if (!res.ok()) {
      std::printf("  load: %s\n", res.status().ToString().c_str());
      return false;
    }
    std::printf("    loaded %llu rows (%.0f rows/s so far)\n", static_cast<unsigned long long>(hi),
                Dbl(hi - from) / SecondsSince(start));
    std::fflush(stdout);
    if (hi < to && Steady::now() > deadline) {
      std::printf("    load budget spent: stopping at %llu rows\n",
                  static_cast<unsigned long long>(hi));
      *to_inout = hi;
      break;
    }
  }
  *seconds = SecondsSince(start);
  return true;
}

// An upload of kUploadIds TempIDs: half of rows in [0, stored), half never loaded.
std::vector<protocol::TempId> Upload(std::uint64_t stored, std::uint64_t seed) {
  std::vector<protocol::TempId> ids;
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (std::size_t k = 0; k < kUploadIds; ++k) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (k % 2 == 0) {
      ids.push_back(LoadedId(x % stored));
    } else {
      ids.push_back(LoadedId(1'000'000'000'000ull + x % 1'000'000'000'000ull));  // never loaded
    }
  }
  return ids;
}

// Runs EXPLAIN (ANALYZE, BUFFERS) of LookupAll's statement for `array` and prints its
// summary: the count of each scan kind, the first lines, a partition's scan and the end.
// Returns "<n> index scans, <n> seq scans, <execution time>".
// LookupAll's statement (PgTempIdStore's own, so the plan shown is the store's).
constexpr const char* kLookupSql = store::kPgLookupAllSql.data();
// The same lookup as a join with the ids, for comparison: the planner may then probe each
// partition's index once per id (a nested loop).
constexpr const char* kJoinSql =
    "SELECT t.tempid, t.phone, t.start, t.expiry FROM unnest($1::bpchar[]) AS u(id) "
    "JOIN tempids AS t ON t.tempid = u.id";

std::string Explain(store::PgConnection& admin, const std::string& array, int* seq_scans,
                    const char* sql = kLookupSql) {
  auto plan = admin.Exec("explain", std::string("EXPLAIN (ANALYZE, BUFFERS) ") + sql, {array});
  if (!plan.ok()) {
    std::printf("  explain: %s\n", plan.status().ToString().c_str());
    return "explain failed";
  }
  int index_scans = 0, bitmap = 0;
  *seq_scans = 0;
  std::string first_child, execution;
  const auto line_at = [&](int i) {
    std::string line(plan->Get(i, 0));
    if (line.size() > 150) line = line.substr(0, 150) + "...";  // the array of 10,000 ids
    return line;
  };
  for (int i = 0; i < plan->rows(); ++i) {
    const std::string line(plan->Get(i, 0));
    const bool scan = line.find("->") != std::string::npos;
    if (scan && line.find("Bitmap Index Scan") != std::string::npos) {
      ++bitmap;
    } else if (scan && line.find("Index") != std::string::npos &&
               line.find("Scan") != std::string::npos) {
      ++index_scans;
    } else if (scan && line.find("Seq Scan") != std::string::npos) {
      ++*seq_scans;
    }
    if (scan && first_child.empty() && line.find("Scan") != std::string::npos) {
      first_child = line_at(i);
    }
    if (line.rfind("Execution Time:", 0) == 0) execution = line.substr(16);
  }
  std::printf(
      "    EXPLAIN (ANALYZE, BUFFERS): %d index scans, %d bitmap index scans, %d seq "
      "scans\n",
      index_scans, bitmap, *seq_scans);
  const int shown = std::min(plan->rows(), 2);
  for (int i = 0; i < shown; ++i) std::printf("      %s\n", line_at(i).c_str());
  if (!first_child.empty()) std::printf("      ... %s\n", first_child.c_str());
  for (int i = std::max(shown, plan->rows() - 2); i < plan->rows(); ++i) {
    std::printf("      %s\n", line_at(i).c_str());
  }
  return std::to_string(index_scans + bitmap) + " index scans, " + std::to_string(*seq_scans) +
         " seq scans, executed in " + execution;
}

std::string ArrayLiteral(const std::vector<protocol::TempId>& ids) {
  std::string array = "{";
  for (const auto& id : ids) {
    if (array.size() > 1) array += ',';
    array += id.view();
  }
  array += '}';
  return array;
}

// The contact check at `stored` rows: the first (cold) lookup, the median of the next
// runs, and the plan's summary. Through the store's LookupAll (the real path, with the
// pool's 5 s statement timeout); when that fails, the same statement is timed on `admin`
// (no such timeout) instead, fewer times, and `*how` says so. Returns the median in ms.
double ContactCheck(store::PgConnection& admin, store::TempIdStore& tempids, std::uint64_t stored,
                    int runs, std::string* plan_summary, std::string* forced_summary,
                    std::string* join_summary, std::string* how) {
  std::vector<double> ms;
  std::size_t found = 0;
  bool via_store = true;
  *how = "through LookupAll";
  for (int r = 0; r <= runs; ++r) {
    const auto ids = Upload(stored, stored + Idx(r));
    const auto start = Steady::now();
    if (via_store) {
      auto res = tempids.LookupAll(ids);
      if (!res.ok()) {
        std::printf("    LookupAll: %s\n", res.status().ToString().c_str());
        std::printf("    timing the same statement without the timeout instead\n");
        *how =
            "LookupAll fails (" + res.status().message().substr(0, 60) + "); the statement alone";
        via_store = false;
        runs = std::min(runs, 3);
        r = -1;  // start over, cold run first
        continue;
      }
      found = 0;
      for (const auto& rec : *res) found += rec.has_value();
    } else {
      auto res = admin.Exec("look up tempids", kLookupSql, {ArrayLiteral(ids)});
      if (!res.ok()) {
        std::printf("    lookup: %s\n", res.status().ToString().c_str());
        return 0;
      }
      found = static_cast<std::size_t>(res->rows());
    }
    const double t = SecondsSince(start) * 1e3;
    if (r == 0) {
      std::printf("    first lookup (new ids, cold): %.1f ms, %zu of %zu found\n", t, found,
                  ids.size());
    } else {
      ms.push_back(t);
    }
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  std::printf(
      "    %s, %zu ids: median %.1f ms over %d runs (min %.1f, max %.1f), "
      "%zu found in the last\n",
      how->c_str(), kUploadIds, median, runs, ms.front(), ms.back(), found);
  // The plan of the same statement as PgTempIdStore::LookupAll, for another upload.
  const std::string array = ArrayLiteral(Upload(stored, stored + 1000));
  int seq_scans = 0;
  *plan_summary = Explain(admin, array, &seq_scans);
  if (seq_scans > 0) {
    // What the primary keys' indexes would give: the same plan with sequential scans off.
    if (admin.ExecScript("seqscan off", "SET enable_seqscan = off").ok()) {
      std::printf("    the same with enable_seqscan = off (a diagnostic, not the store's plan):\n");
      int ignored = 0;
      *forced_summary = Explain(admin, array, &ignored);
      (void)admin.ExecScript("seqscan on", "RESET enable_seqscan");
    }
  }
  std::printf("    the lookup written as a join with unnest($1) (a diagnostic):\n");
  int ignored = 0;
  *join_summary = Explain(admin, array, &ignored, kJoinSql);
  return median;
}

std::vector<std::uint64_t> ParseSizes(const std::string& text) {
  std::vector<std::uint64_t> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) out.push_back(std::stoull(item));
  std::sort(out.begin(), out.end());
  return out;
}

std::string Millions(std::uint64_t n) {
  return Fmt(n < 10'000'000 ? "%.1fM" : "%.0fM", Dbl(n) / 1e6);
}

// [4] `bluetrace-admin db import`'s work (store::ImportStateDir) on a tempIDs.txt of
// `lines` records (distinct TempIDs, expiries over the 21 days from first_day, written once
// with one buffered stream), into a database of its own that is dropped afterwards.
bool ImportRun(Cluster& cluster, const store::PgOptions& admin_options, std::uint64_t lines,
               std::int64_t first_day, Bench* bench) {
  std::printf("\n[4] db import of %s tempIDs.txt lines into an empty database\n",
              Millions(lines).c_str());
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "bt-pgbench-import";
  struct DirCleanup {
    std::filesystem::path p;
    ~DirCleanup() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } cleanup{dir};
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto write_start = Steady::now();
  {
    std::ofstream out(dir / "tempIDs.txt", std::ios::binary);
    std::vector<char> buffer(1 << 20);
    out.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    for (std::uint64_t i = 0; i < lines; ++i) {
      const std::int64_t expiry =
          (first_day + static_cast<std::int64_t>(i % kDays)) * kSecondsPerDay +
          static_cast<std::int64_t>((i * 7) % (kSecondsPerDay - 1000));
      protocol::TempIdRecord r{User(i % 1000000), LoadedId(i + 1), expiry - 899, expiry};
      out << protocol::FormatTempIdLine(r) << '\n';
    }
    if (!out.flush()) {
      std::fprintf(stderr, "cannot write %s\n", (dir / "tempIDs.txt").c_str());
      return false;
    }
  }
  const auto bytes = std::filesystem::file_size(dir / "tempIDs.txt");
  std::printf("    wrote %.0f MB in %.0f s\n", Dbl(bytes) / 1e6, SecondsSince(write_start));
  {
    auto postgres = store::PgConnection::Open(admin_options);
    if (!postgres.ok() ||
        !(*postgres)->ExecScript("create database", "CREATE DATABASE bench_import").ok()) {
      std::fprintf(stderr, "cannot create the import database\n");
      return false;
    }
  }
  double seconds = 0;
  util::Status status;
  store::TransferStats stats;
  {
    auto conn = store::PgConnection::Open(
        {.conninfo = cluster.Conninfo("bench_import"), .statement_timeout = std::chrono::hours(2)});
    if (!conn.ok()) {
      std::fprintf(stderr, "%s\n", conn.status().ToString().c_str());
      return false;
    }
    auto& fs = store::PosixFileSystem::Instance();
    auto version = store::ApplyMigrations(**conn, fs, BLUETRACE_SQL_DIR);
    if (!version.ok()) {
      std::fprintf(stderr, "migrations: %s\n", version.status().ToString().c_str());
      return false;
    }
    const auto start = Steady::now();
    auto imported = store::ImportStateDir(**conn, fs, dir.string(), {});
    seconds = SecondsSince(start);
    if (imported.ok()) {
      stats = *imported;
    } else {
      status = imported.status();
    }
  }
  {
    auto postgres = store::PgConnection::Open(admin_options);
    if (postgres.ok()) (void)(*postgres)->ExecScript("drop", "DROP DATABASE bench_import");
  }
  if (!status.ok()) {
    std::printf("    import failed after %.0f s: %s\n", seconds, status.ToString().c_str());
    bench->rows.push_back({"db import of " + Millions(lines) + " tempIDs.txt lines",
                           "failed: " + status.ToString(), ""});
    return true;
  }
  std::printf("    imported %llu TempIDs in %.0f s (%.0f lines/s, %.1f MB/s)\n",
              static_cast<unsigned long long>(stats.tempids), seconds, Dbl(stats.tempids) / seconds,
              Dbl(bytes) / 1e6 / seconds);
  bench->rows.push_back(
      {"db import of " + Millions(lines) + " tempIDs.txt lines (" +
           Fmt("%.0f MB", Dbl(bytes) / 1e6) + ")",
       Fmt("%.0f s", seconds) + " (" + Fmt("%.0f", Dbl(stats.tempids) / seconds) + " lines/s)",
       ""});
  return true;
}

int Main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  const auto sizes = ParseSizes(argc > 2 ? argv[2] : "10000000,30000000");
  const double load_budget = argc > 3 ? std::atof(argv[3]) : 900.0;
  const std::uint64_t import_lines = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 10'000'000;
  if (seconds <= 0 || sizes.empty() || sizes.front() == 0 || import_lines == 0) {
    std::fprintf(stderr,
                 "usage: pg_bench [seconds per run] [stored TempIDs, e.g. "
                 "10000000,30000000] [load budget in seconds] [tempIDs.txt lines to import]\n");
    return 2;
  }
  const auto started = Steady::now();
  std::printf("pg_bench: %s, %u cores, %.0f s per run\n", CpuModel().c_str(),
              std::thread::hardware_concurrency(), seconds);
  std::printf("cluster settings:");
  for (const auto& s : kSettings) std::printf(" %s;", s.c_str());
  std::printf("\n");

  Cluster cluster;
  std::string error;
  if (!cluster.Start(&error)) {
    std::fprintf(stderr, "cannot start PostgreSQL: %s\n", error.c_str());
    return 1;
  }
  const store::PgOptions admin_options{.conninfo = cluster.Conninfo("postgres"),
                                       .statement_timeout = std::chrono::hours(1)};
  {
    auto postgres = store::PgConnection::Open(admin_options);
    if (!postgres.ok() ||
        !(*postgres)->ExecScript("create database", "CREATE DATABASE bench").ok()) {
      std::fprintf(stderr, "cannot create the database\n");
      return 1;
    }
  }
  auto admin_or = store::PgConnection::Open(
      {.conninfo = cluster.Conninfo(kDatabase), .statement_timeout = std::chrono::hours(1)});
  if (!admin_or.ok()) {
    std::fprintf(stderr, "%s\n", admin_or.status().ToString().c_str());
    return 1;
  }
  store::PgConnection& admin = **admin_or;
  auto version =
      store::ApplyMigrations(admin, store::PosixFileSystem::Instance(), BLUETRACE_SQL_DIR);
  if (!version.ok()) {
    std::fprintf(stderr, "migrations: %s\n", version.status().ToString().c_str());
    return 1;
  }

  // The partitions of the 21 days of expiry, as in production (today's among them); the
  // rows are loaded first, so that issuing probes populated indexes as it would.
  const std::int64_t today = util::SystemClock::Instance().NowUnixSeconds() / kSecondsPerDay;
  const std::int64_t first_day = today - (kDays - 3);
  for (std::int64_t d = first_day; d < first_day + kDays; ++d) {
    auto r = admin.Exec("partition", "SELECT bluetrace_ensure_tempid_partition($1::integer)",
                        {std::to_string(d)});
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  Bench bench(cluster, admin, seconds);
  std::printf("\n[3a] loading %s TempIDs over %d days of expiry\n", Millions(sizes[0]).c_str(),
              kDays);
  const auto load_deadline = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                                 std::chrono::duration<double>(load_budget));
  double load_seconds = 0;
  std::uint64_t loaded = sizes[0];
  if (!LoadRows(admin, first_day, 0, &loaded, &load_seconds, load_deadline)) return 1;
  double rate = Dbl(loaded) / load_seconds;
  const auto analyze_start = Steady::now();
  // ANALYZE, then a checkpoint, so no checkpoint of the load runs during the measurements.
  if (!(admin.ExecScript("analyze", "ANALYZE tempids").ok() &&
        admin.ExecScript("checkpoint", "CHECKPOINT").ok()))
    return 1;
  std::printf("    %s rows in %.0f s (%.0f rows/s), ANALYZE+CHECKPOINT %.0f s\n",
              Millions(loaded).c_str(), load_seconds, rate, SecondsSince(analyze_start));
  bench.rows.push_back({"load " + Millions(loaded) + " rows (INSERT ... SELECT, server-side)",
                        Fmt("%.0f s", load_seconds) + " (" + Fmt("%.0f", rate) + " rows/s)",
                        "(setup)"});

  // 1. Issuance.
  std::printf(
      "\n[1] TempID issuance (Issue: batched, one autocommitted bluetrace_insert_tempids each)\n");
  std::filesystem::path file_dir = std::filesystem::temp_directory_path() / "bt-pgbench-files";
  std::filesystem::remove_all(file_dir);
  std::filesystem::create_directories(file_dir / "issue");
  std::filesystem::create_directories(file_dir / "login");
  struct FileDirCleanup {
    std::filesystem::path p;
    ~FileDirCleanup() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } file_cleanup{file_dir};
  constexpr int kThreads = 4;
  // As many threads as a server instance has store threads with the default pool of 4,
  // each blocked in Issue while its batch runs.
  service::ServerConfig server_config;
  server_config.storage_backend = "postgres";
  const int kStoreThreads =
      static_cast<int>(service::ReportingService::StoreWorkers(server_config));
  const double file_issue = bench.FileIssue((file_dir / "issue").string(), kStoreThreads);
  double pg_issue[4] = {};
  for (int n = 1; n <= 3; ++n) {
    pg_issue[n] = bench.PgIssue("PostgreSQL, " + std::to_string(n) + " instance(s) x " +
                                    std::to_string(kStoreThreads) + " threads, pool 4",
                                n, kStoreThreads, 4);
  }
  const double pg_issue_narrow =
      bench.PgIssue("PostgreSQL, 3 instances x 4 threads, pool 4", 3, kThreads, 4);
  // Twice the threads: batches twice as large (what more store threads would give).
  const double pg_issue_wide = bench.PgIssue(
      "PostgreSQL, 3 instances x " + std::to_string(2 * kStoreThreads) + " threads, pool 4", 3,
      2 * kStoreThreads, 4);
  for (int n = 1; n <= 3; ++n) {
    bench.rows.push_back({"Issue, PostgreSQL, " + std::to_string(n) + " instance(s) x " +
                              std::to_string(kStoreThreads) + " threads",
                          Fmt("%.0f/s", pg_issue[n]), n == 3 ? ">= 5,000/s" : ""});
  }
  bench.rows.push_back({"Issue, PostgreSQL, 3 instances x 4 threads (small batches)",
                        Fmt("%.0f/s", pg_issue_narrow), ""});
  bench.rows.push_back({"Issue, PostgreSQL, 3 instances x " + std::to_string(2 * kStoreThreads) +
                            " threads (larger batches)",
                        Fmt("%.0f/s", pg_issue_wide), ""});
  bench.rows.push_back(
      {"Issue, file backend, 1 process x " + std::to_string(kStoreThreads) + " threads",
       Fmt("%.0f/s", file_issue), "(reference)"});

  // 2. Logins.
  std::printf("\n[2] Logins, Argon2id m=8 KiB t=1 (Check x2, Verify, RecordSuccess, audit)\n");
  {
    auto setup = bench.OpenInstances(1, 4);
    if (setup.empty() || !bench.AddUsers(*setup[0].users)) return 1;
  }
  const double file_logins = bench.FileLogins((file_dir / "login").string(), kThreads);
  double pg_logins[4] = {};
  for (int n = 1; n <= 3; ++n) pg_logins[n] = bench.PgLogins(n, kThreads);
  std::printf("  the same without the audit record:\n");
  const double pg_logins_no_audit = bench.PgLogins(3, kThreads, false);
  for (int n = 1; n <= 3; ++n) {
    bench.rows.push_back({"Logins, PostgreSQL, " + std::to_string(n) + " instance(s) x 4 threads",
                          Fmt("%.0f/s", pg_logins[n]), "(vs the file backend)"});
  }
  bench.rows.push_back({"  3 instances, without the audit record (not a real login)",
                        Fmt("%.0f/s", pg_logins_no_audit), "(what the audit chain costs)"});
  bench.rows.push_back(
      {"Logins, file backend, 1 process x 4 threads", Fmt("%.0f/s", file_logins), "(reference)"});

  // 3. Contact checks.
  std::printf("\n[3b] Contact check: LookupAll of %zu TempIDs, half stored, half not\n",
              kUploadIds);
  auto lookup_stores = bench.OpenInstances(1, 4);
  if (lookup_stores.empty()) return 1;
  store::TempIdStore& tempids = *lookup_stores[0].tempids;
  constexpr int kRuns = 7;
  double first_median = 0;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    std::uint64_t target = std::max(sizes[k], loaded);
    if (k == 0) target = loaded;  // what the first load reached
    if (target > loaded) {
      const double budget_left =
          std::chrono::duration<double>(load_deadline - Steady::now()).count();
      const double predicted = Dbl(target - loaded) / rate;
      if (predicted > budget_left) {
        std::printf(
            "  %s skipped: loading %s more rows would take ~%.0f s, %.0f s of the "
            "load budget left\n",
            Millions(target).c_str(), Millions(target - loaded).c_str(), predicted, budget_left);
        bench.rows.push_back({"LookupAll 10,000 ids vs " + Millions(target) + " stored",
                              "not measured (load would not fit the time budget)",
                              "<= 2x the 10M figure"});
        continue;
      }
      std::printf("  loading to %s\n", Millions(target).c_str());
      double s = 0;
      if (!LoadRows(admin, first_day, loaded, &target, &s, load_deadline)) return 1;
      rate = Dbl(target - loaded) / s;
      const auto a = Steady::now();
      if (!(admin.ExecScript("analyze", "ANALYZE tempids").ok() &&
            admin.ExecScript("checkpoint", "CHECKPOINT").ok()))
        return 1;
      std::printf("    +%s rows in %.0f s (%.0f rows/s), ANALYZE+CHECKPOINT %.0f s\n",
                  Millions(target - loaded).c_str(), s, rate, SecondsSince(a));
      loaded = target;
    }
    auto size = admin.Exec("size",
                           "SELECT pg_size_pretty(sum(pg_table_size(c.oid))), "
                           "pg_size_pretty(sum(pg_indexes_size(c.oid))) FROM pg_inherits i "
                           "JOIN pg_class c ON c.oid = i.inhrelid "
                           "WHERE i.inhparent = 'tempids'::regclass");
    std::printf("  %s stored TempIDs (tables %s, indexes %s):\n", Millions(target).c_str(),
                size.ok() ? std::string(size->Get(0, 0)).c_str() : "?",
                size.ok() ? std::string(size->Get(0, 1)).c_str() : "?");
    std::string plan, forced, join, how;
    const double median = ContactCheck(admin, tempids, target, kRuns, &plan, &forced, &join, &how);
    if (k == 0) first_median = median;
    bench.rows.push_back({"LookupAll 10,000 ids (half stored) vs " + Millions(target) + " stored",
                          Fmt("%.0f ms", median) + " (median, " + how + ")",
                          k == 0 ? "baseline"
                                 : "<= 2x the first (" + Fmt("%.0f", 2 * first_median) + " ms): " +
                                       (median <= 2 * first_median ? "met" : "NOT met")});
    bench.rows.push_back({"  its plan (EXPLAIN ANALYZE of another upload)", plan, ""});
    if (!forced.empty()) {
      bench.rows.push_back({"  the same with enable_seqscan = off (diagnostic)", forced, ""});
    }
    bench.rows.push_back({"  written as a join with unnest($1) (diagnostic)", join, ""});
  }
  lookup_stores.clear();

  // 4. db import of a tempIDs.txt of import_lines lines into an empty database.
  if (!ImportRun(cluster, admin_options, import_lines, first_day, &bench)) return 1;

  std::printf("\n| figure | measured | target |\n| --- | --- | --- |\n");
  for (const Row& r : bench.rows) {
    std::printf("| %s | %s | %s |\n", r.figure.c_str(), r.measured.c_str(), r.target.c_str());
  }
  std::printf("\nwhole run: %.0f s\n", SecondsSince(started));
  return 0;  // the connection closes before the cluster stops (declared after it)
}

}  // namespace
}  // namespace bluetrace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens, also in a file
  // Interrupted (Ctrl-C, timeout): the cluster is stopped and removed all the same.
  signal(SIGINT, bluetrace::OnSignal);
  signal(SIGTERM, bluetrace::OnSignal);
  // Caught here so that the stack unwinds and the cluster is stopped and removed.
  try {
    return bluetrace::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg_bench: %s\n", e.what());
    return 1;
  }
}
