// TempID store at scale: writes a tempIDs.txt of N lines (10 million by default) into a
// temporary directory, then prints
//  - the server's start-up on it (Open, then the start-up Compact, with nothing expired),
//    run in a child process so its peak RSS (VmHWM) is the start-up's own, against the RSS
//    it settles at (issue 14 §1: <= 5 s, peak within 1.2x of the steady state);
//  - what the index costs per record, how fast lookups are, how fast Issue() is from 1, 4
//    and 16 threads (and how many fsyncs each record costs thanks to group commit);
//  - Issue() latency p50/p99 from 4 threads without a compaction and during one that drops
//    about half of the file (issue 14 §2: p99 during within 2x of p99 without).
// The temporary directory is removed at the end. Figures go to docs/BENCHMARKS.md.
//
// Usage: tempid_store_bench [records] [directory]
//        tempid_store_bench --start-up <tempIDs.txt>   (the child's part; prints one line)
//        tempid_store_bench --generate <tempIDs.txt> <records>   (the file alone, for perf)
// TEMPID_BENCH_DUMP=<file>: also writes each issue's start and latency (ns) during the
// compaction, after a "# <start> <phase 1 end> <phase 2 end> <end>" line, to see when the
// slow ones happen.
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "bluetrace/protocol/tempid.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/files/file_tempid_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"

namespace bluetrace {
namespace {

using Steady = std::chrono::steady_clock;

constexpr std::int64_t kWindowStart = 1'589'328'000;  // 13/05/2020 00:00:00 UTC
constexpr std::int64_t kWindow = 21 * 24 * 3600;      // the records span the retention
constexpr std::uint64_t kUsers = 100'000;

double SecondsSince(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

// A field of /proc/self/status in KiB (VmRSS: resident now, VmHWM: peak).
std::uint64_t ProcStatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  }
  return 0;
}

// CPU seconds (user + system) this process has used: on a shared machine the wall time
// of a step says as much about the other processes as about the step.
double CpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// splitmix64: fast, good enough to spread TempIDs; not for anything secret.
struct FastRandom {
  std::uint64_t state;
  std::uint64_t Next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  protocol::TempId NextId() {
    const protocol::TempIdInteger value =
        (static_cast<protocol::TempIdInteger>(Next()) << 64) | Next();
    return protocol::TempId::FromInteger(
        value % (protocol::TempIdInteger{10'000'000'000ull} * 10'000'000'000ull));
  }
};

std::string User(std::uint64_t i) { return "+614" + std::to_string(10'000'000 + i % kUsers); }

// Writes `n` LF-terminated lines directly (not through the store) and keeps every 10th
// TempID in `sample` for the lookup benchmark.
bool Generate(const std::string& path, std::uint64_t n, std::vector<protocol::TempId>& sample) {
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) return false;
  std::vector<char> buffer(8 << 20);
  std::setvbuf(out, buffer.data(), _IOFBF, buffer.size());
  std::vector<std::string> users;
  for (std::uint64_t u = 0; u < kUsers; ++u) users.push_back(User(u));
  FastRandom random{42};
  std::int64_t last_start = -1;
  std::string times;
  std::string line;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::int64_t start =
        kWindowStart + static_cast<std::int64_t>(i * static_cast<std::uint64_t>(kWindow) / n);
    if (start != last_start) {
      times = protocol::FormatTimestamp(start) + ' ' + protocol::FormatTimestamp(start + 899);
      last_start = start;
    }
    const protocol::TempId id = random.NextId();
    if (i % 10 == 0) sample.push_back(id);
    line.assign(users[i % kUsers]);
    line += ' ';
    line += id.view();
    line += ' ';
    line += times;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), out);
  }
  return std::fclose(out) == 0;
}

void BenchLookups(const store::FileTempIdStore& store, const std::vector<protocol::TempId>& sample,
                  int threads) {
  std::atomic<std::uint64_t> hits{0};
  const auto started = Steady::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::uint64_t local = 0;
      for (std::size_t i = static_cast<std::size_t>(t); i < sample.size();
           i += static_cast<std::size_t>(threads)) {
        if (store.Lookup(sample[i])) ++local;
      }
      hits += local;
    });
  }
  for (auto& w : workers) w.join();
  const double s = SecondsSince(started);
  std::printf("lookup, %2d thread(s): %zu lookups (%llu found) in %.3f s = %.2f M/s\n", threads,
              sample.size(), static_cast<unsigned long long>(hits.load()), s,
              static_cast<double>(sample.size()) / s / 1e6);
}

void BenchIssues(store::FileTempIdStore& store, util::Clock& clock, int threads, int total) {
  const store::TempIdStoreStats before = store.stats();
  std::atomic<int> failures{0};
  const int per_thread = total / threads;
  const auto started = Steady::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string user = User(static_cast<std::uint64_t>(t));
      for (int i = 0; i < per_thread; ++i) {
        const std::int64_t now = clock.NowUnixSeconds();
        if (!store.Issue(user, now, now + 899, util::OpenSslRandom::Instance()).ok()) ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  const double s = SecondsSince(started);
  const store::TempIdStoreStats after = store.stats();
  const auto records = static_cast<double>(after.records_appended - before.records_appended);
  const auto syncs = static_cast<double>(after.syncs - before.syncs);
  std::printf(
      "issue,  %2d thread(s): %.0f records in %.3f s = %.0f records/s, %.3f syncs/record, "
      "mean sync %.3f ms, failures %d\n",
      threads, records, s, records / s, syncs / records,
      static_cast<double>(after.sync_nanos_total - before.sync_nanos_total) / syncs / 1e6,
      failures.load());
}

// The child's part: opens `path` as the server's start-up does (Open, then Compact, which
// finds nothing to drop: the retention is longer than the file's age) and prints the times
// and this process's RSS figures on one line for the parent.
int StartUp(const std::string& path) {
  util::Clock& clock = util::SystemClock::Instance();
  store::TempIdStoreOptions options;
  options.path = path;
  options.retention_seconds = clock.NowUnixSeconds() - kWindowStart + 24 * 3600;
  const double cpu_before = CpuSeconds();
  auto started = Steady::now();
  auto opened = store::FileTempIdStore::Open(store::PosixFileSystem::Instance(), clock, options);
  const double open_s = SecondsSince(started);
  if (!opened.ok()) {
    std::fprintf(stderr, "open failed: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  started = Steady::now();
  auto compacted = (*opened)->Compact();
  const double compact_s = SecondsSince(started);
  if (!compacted.ok()) {
    std::fprintf(stderr, "compaction failed: %s\n", compacted.status().ToString().c_str());
    return 1;
  }
  std::printf("%.3f %.3f %.3f %llu %llu %llu %llu\n", open_s, compact_s, CpuSeconds() - cpu_before,
              static_cast<unsigned long long>((*opened)->size()),
              static_cast<unsigned long long>(compacted->records_dropped),
              static_cast<unsigned long long>(ProcStatusKb("VmHWM")),
              static_cast<unsigned long long>(ProcStatusKb("VmRSS")));
  return 0;
}

// Runs StartUp in a fresh process (this program, re-executed) and prints its figures.
bool BenchStartUp(const std::string& path) {
  std::string self(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", self.data(), self.size());
  if (n <= 0) return false;
  self.resize(static_cast<std::size_t>(n));
  const std::string command = "'" + self + "' --start-up '" + path + "'";
  std::FILE* child = ::popen(command.c_str(), "r");
  if (child == nullptr) return false;
  double open_s = 0;
  double compact_s = 0;
  double cpu_s = 0;
  unsigned long long records = 0, dropped = 0, peak_kb = 0, steady_kb = 0;
  const int fields = std::fscanf(child, "%lf %lf %lf %llu %llu %llu %llu", &open_s, &compact_s,
                                 &cpu_s, &records, &dropped, &peak_kb, &steady_kb);
  if (::pclose(child) != 0 || fields != 7) return false;
  const double total = open_s + compact_s;
  const double ratio = static_cast<double>(peak_kb) / static_cast<double>(steady_kb);
  std::printf(
      "start-up (child process, nothing expired): open %.2f s + start-up compaction %.3f s "
      "(dropped %llu) = %.2f s for %llu records, %.2f s of CPU [target <= 5 s: %s]\n",
      open_s, compact_s, dropped, total, records, cpu_s, total <= 5.0 ? "met" : "NOT met");
  std::printf(
      "start-up memory: peak RSS %.1f MB (VmHWM) vs steady %.1f MB (VmRSS once started) = "
      "%.2fx [target <= 1.2x: %s]\n",
      static_cast<double>(peak_kb) / 1024.0, static_cast<double>(steady_kb) / 1024.0, ratio,
      ratio <= 1.2 ? "met" : "NOT met");
  return true;
}

// Forwards to the real filesystem and notes when the compaction's phases end, by the
// operations that end them: the fsync of the copied bulk (phase 1) and the rename (phase 2);
// phase 3 ends when Compact returns. Times are steady-clock nanoseconds; 0 = not yet.
class PhaseWatchingFileSystem final : public store::FileSystem {
 public:
  std::atomic<std::int64_t> bulk_synced{0};
  std::atomic<std::int64_t> renamed{0};

  static std::int64_t Now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch())
        .count();
  }

  util::Result<std::string> ReadFile(const std::string& path, std::uint64_t max_bytes) override {
    return real_.ReadFile(path, max_bytes);
  }
  util::Result<std::unique_ptr<store::ReadableFile>> OpenForRead(const std::string& path) override {
    return real_.OpenForRead(path);
  }
  util::Result<std::unique_ptr<store::AppendFile>> OpenForAppend(const std::string& path,
                                                                 mode_t mode) override {
    auto file = real_.OpenForAppend(path, mode);
    if (!file.ok() || path.find(".tmp.") == std::string::npos) return file;
    return std::unique_ptr<store::AppendFile>(new TempFile(*this, std::move(*file)));
  }
  util::Status ReplaceFileAtomically(const std::string& path, std::string_view contents,
                                     mode_t mode) override {
    return real_.ReplaceFileAtomically(path, contents, mode);
  }
  util::Status Rename(const std::string& from, const std::string& to) override {
    util::Status st = real_.Rename(from, to);
    renamed = Now();
    return st;
  }
  util::Status Truncate(const std::string& path, std::uint64_t size) override {
    return real_.Truncate(path, size);
  }
  util::Result<bool> Exists(const std::string& path) override { return real_.Exists(path); }
  util::Result<std::uint64_t> FileSize(const std::string& path) override {
    return real_.FileSize(path);
  }
  util::Result<mode_t> FileMode(const std::string& path) override { return real_.FileMode(path); }
  util::Result<store::FileInfo> Stat(const std::string& path) override { return real_.Stat(path); }
  util::Status CreateDirs(const std::string& path, mode_t mode) override {
    return real_.CreateDirs(path, mode);
  }
  util::Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return real_.ListDir(path);
  }
  util::Status RemoveFile(const std::string& path) override { return real_.RemoveFile(path); }
  util::Result<std::unique_ptr<store::FileLock>> LockFile(const std::string& path,
                                                          bool wait) override {
    return real_.LockFile(path, wait);
  }

 private:
  class TempFile final : public store::AppendFile {
   public:
    TempFile(PhaseWatchingFileSystem& fs, std::unique_ptr<store::AppendFile> base)
        : fs_(fs), base_(std::move(base)) {}
    util::Status Append(std::string_view data) override { return base_->Append(data); }
    util::Status Sync() override {
      util::Status st = base_->Sync();
      if (fs_.bulk_synced.load() == 0) fs_.bulk_synced = Now();  // the first: phase 1's
      return st;
    }
    util::Status WriteBehind() override { return base_->WriteBehind(); }
    std::uint64_t Size() const override { return base_->Size(); }
    util::Status Close() override { return base_->Close(); }

   private:
    PhaseWatchingFileSystem& fs_;
    std::unique_ptr<store::AppendFile> base_;
  };

  store::FileSystem& real_ = store::PosixFileSystem::Instance();
};

struct Latencies {
  std::vector<std::uint64_t> nanos;
  std::vector<std::int64_t> starts;  // steady-clock nanoseconds, same order as `nanos`
  // The latencies of the issues that started in [from, to).
  Latencies Between(std::int64_t from, std::int64_t to) const {
    Latencies out;
    for (std::size_t i = 0; i < nanos.size(); ++i) {
      if (starts[i] >= from && starts[i] < to) out.nanos.push_back(nanos[i]);
    }
    return out;
  }
  double Percentile(double p) {
    if (nanos.empty()) return 0;
    std::sort(nanos.begin(), nanos.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(nanos.size() - 1));
    return static_cast<double>(nanos[i]) / 1e6;
  }
};

// Issues from `threads` threads until `stop` is set, recording each Issue's latency.
Latencies IssueUntil(store::FileTempIdStore& store, util::Clock& clock, int threads,
                     const std::atomic<bool>& stop) {
  std::vector<Latencies> per_thread(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string user = User(static_cast<std::uint64_t>(t) + 7);
      Latencies& mine = per_thread[static_cast<std::size_t>(t)];
      while (!stop.load()) {
        const std::int64_t now = clock.NowUnixSeconds();
        const auto started = Steady::now();
        mine.starts.push_back(PhaseWatchingFileSystem::Now());
        if (!store.Issue(user, now, now + 899, util::OpenSslRandom::Instance()).ok()) {
          std::fprintf(stderr, "issue failed\n");
          return;
        }
        mine.nanos.push_back(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - started).count()));
      }
    });
  }
  for (auto& w : workers) w.join();
  Latencies all;
  for (const Latencies& l : per_thread) {
    all.nanos.insert(all.nanos.end(), l.nanos.begin(), l.nanos.end());
    all.starts.insert(all.starts.end(), l.starts.begin(),
                      l.starts.begin() + static_cast<std::ptrdiff_t>(l.nanos.size()));
  }
  return all;
}

// Issue latency from 4 threads for a few seconds without a compaction, then while one runs.
bool BenchIssueLatency(store::FileTempIdStore& store, util::Clock& clock,
                       PhaseWatchingFileSystem& phases) {
  constexpr int kThreads = 4;
  std::atomic<bool> stop{false};
  std::thread timer([&] {
    std::this_thread::sleep_for(std::chrono::seconds(4));
    stop = true;
  });
  Latencies quiet = IssueUntil(store, clock, kThreads, stop);
  timer.join();

  stop = false;
  const std::size_t lines = store.size();
  util::Result<store::CompactionStats> compacted = store::CompactionStats{};
  double compact_s = 0;
  std::int64_t compaction_start = 0;
  std::int64_t compaction_end = 0;
  std::thread compactor([&] {
    const auto started = Steady::now();
    compaction_start = PhaseWatchingFileSystem::Now();
    compacted = store.Compact();
    compaction_end = PhaseWatchingFileSystem::Now();
    compact_s = SecondsSince(started);
    stop = true;
  });
  Latencies busy = IssueUntil(store, clock, kThreads, stop);
  compactor.join();
  if (!compacted.ok()) {
    std::fprintf(stderr, "compaction failed: %s\n", compacted.status().ToString().c_str());
    return false;
  }
  std::printf(
      "compact (concurrent with issues): %zu records: dropped %llu, kept %llu, "
      "%.1f -> %.1f MB in %.2f s\n",
      lines, static_cast<unsigned long long>(compacted->records_dropped),
      static_cast<unsigned long long>(compacted->records_kept),
      static_cast<double>(compacted->bytes_before) / 1e6,
      static_cast<double>(compacted->bytes_after) / 1e6, compact_s);
  const std::int64_t bulk = phases.bulk_synced.load();
  const std::int64_t renamed = phases.renamed.load();
  const struct {
    const char* name;
    std::int64_t from, to;
  } parts[] = {{"1 copy + fsync", compaction_start, bulk},
               {"2 tail + rename (writes held)", bulk, renamed},
               {"3 index erase", renamed, compaction_end + 1}};
  for (const auto& part : parts) {
    Latencies in = busy.Between(part.from, part.to);
    const std::size_t count = in.nanos.size();
    std::printf("  phase %s: %.3f s, %zu issues started, p50 %.3f ms, p99 %.3f ms\n", part.name,
                static_cast<double>(part.to - part.from) / 1e9, count, in.Percentile(0.5),
                in.Percentile(0.99));
  }
  if (const char* dump = std::getenv("TEMPID_BENCH_DUMP"); dump != nullptr) {
    std::FILE* f = std::fopen(dump, "w");
    std::fprintf(f, "# %lld %lld %lld %lld\n", static_cast<long long>(compaction_start),
                 static_cast<long long>(bulk), static_cast<long long>(renamed),
                 static_cast<long long>(compaction_end));
    for (std::size_t i = 0; i < busy.nanos.size(); ++i) {
      std::fprintf(f, "%lld %llu\n", static_cast<long long>(busy.starts[i]),
                   static_cast<unsigned long long>(busy.nanos[i]));
    }
    std::fclose(f);
  }
  const std::size_t quiet_n = quiet.nanos.size();
  const std::size_t busy_n = busy.nanos.size();
  const double quiet_p50 = quiet.Percentile(0.5), quiet_p99 = quiet.Percentile(0.99);
  const double busy_p50 = busy.Percentile(0.5), busy_p99 = busy.Percentile(0.99);
  const double busy_max = busy.Percentile(1.0);
  std::printf("issue latency, %d threads, no compaction: %zu issues, p50 %.3f ms, p99 %.3f ms\n",
              kThreads, quiet_n, quiet_p50, quiet_p99);
  std::printf(
      "issue latency, %d threads, during the compaction: %zu issues, p50 %.3f ms, p99 %.3f ms, "
      "max %.3f ms; p99 ratio %.2fx [target <= 2x: %s]\n",
      kThreads, busy_n, busy_p50, busy_p99, busy_max, busy_p99 / quiet_p99,
      busy_p99 <= 2 * quiet_p99 ? "met" : "NOT met");
  return true;
}

int Run(std::uint64_t records, const std::string& dir) {
  const std::string path = store::JoinPath(dir, "tempIDs.txt");
  std::string load;
  std::getline(std::ifstream("/proc/loadavg"), load);
  std::printf("machine: %u cores, %s; load average %s\n", std::thread::hardware_concurrency(),
              CpuModel().c_str(), load.c_str());

  std::vector<protocol::TempId> sample;
  sample.reserve(records / 10 + 1);
  auto started = Steady::now();
  if (!Generate(path, records, sample)) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return 1;
  }
  const auto file_bytes = std::filesystem::file_size(path);
  std::printf("generate: %llu lines, %.1f MB in %.2f s (plain writes, not through the store)\n",
              static_cast<unsigned long long>(records), static_cast<double>(file_bytes) / 1e6,
              SecondsSince(started));
  if (!BenchStartUp(path)) {
    std::fprintf(stderr, "the start-up child failed\n");
    return 1;
  }

  // The real clock, so the store's sync latencies are measured. The retention puts the
  // cutoff in the middle of the generated window: compaction drops about half the file.
  util::Clock& clock = util::SystemClock::Instance();
  store::TempIdStoreOptions options;
  options.path = path;
  options.retention_seconds = clock.NowUnixSeconds() - (kWindowStart + kWindow / 2);
  const std::uint64_t rss_before = ProcStatusKb("VmRSS");
  const double cpu_before = CpuSeconds();
  started = Steady::now();
  store::RecoveryReport report;
  PhaseWatchingFileSystem fs;
  auto opened = store::FileTempIdStore::Open(fs, clock, options, &report);
  const double open_s = SecondsSince(started);
  if (!opened.ok()) {
    std::fprintf(stderr, "open failed: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  store::FileTempIdStore& store = **opened;
  const std::uint64_t rss_after = ProcStatusKb("VmRSS");
  const auto n = static_cast<double>(store.size());
  std::printf(
      "open: %llu records in %.2f s (%.2f s of CPU) = %.2f M lines/s, %.0f MB/s (file in page "
      "cache)\n",
      static_cast<unsigned long long>(report.records), open_s, CpuSeconds() - cpu_before,
      static_cast<double>(report.lines) / open_s / 1e6,
      static_cast<double>(file_bytes) / open_s / 1e6);
  std::printf("memory: index %.1f MB = %.1f bytes/record; RSS growth %.1f MB = %.1f bytes/record\n",
              static_cast<double>(store.MemoryBytes()) / 1e6,
              static_cast<double>(store.MemoryBytes()) / n,
              static_cast<double>(rss_after - rss_before) / 1024.0,
              static_cast<double>(rss_after - rss_before) * 1024.0 / n);

  BenchLookups(store, sample, 1);
  BenchLookups(store, sample, 2);

  BenchIssues(store, clock, 1, 2000);
  BenchIssues(store, clock, 4, 4000);
  BenchIssues(store, clock, 16, 8000);

  if (!BenchIssueLatency(store, clock, fs)) return 1;
  std::printf("peak RSS: %.1f MB\n", static_cast<double>(ProcStatusKb("VmHWM")) / 1024.0);
  return 0;
}

}  // namespace
}  // namespace bluetrace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--start-up") return bluetrace::StartUp(argv[2]);
  if (argc == 4 && std::string(argv[1]) == "--generate") {
    std::vector<bluetrace::protocol::TempId> sample;
    return bluetrace::Generate(argv[2], std::stoull(argv[3]), sample) ? 0 : 1;
  }
  const std::uint64_t records = argc > 1 ? std::stoull(argv[1]) : 10'000'000;
  std::string base = argc > 2 ? argv[2] : "";
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string dir_template = base + "/tempid-bench-XXXXXX";
  if (mkdtemp(dir_template.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const int rc = bluetrace::Run(records, dir_template);
  std::error_code ec;
  std::filesystem::remove_all(dir_template, ec);
  return rc;
}
