// TempID store at scale: writes a tempIDs.txt of N lines (10 million by default) into a
// temporary directory, then prints how long FileTempIdStore::Open takes, what the index costs
// per record, how fast lookups are, how fast Issue() is from 1, 4 and 16 threads (and how
// many fsyncs each record costs thanks to group commit), and how long a compaction takes.
// The temporary directory is removed at the end.
//
// Usage: tempid_store_bench [records] [directory]
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
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

int Run(std::uint64_t records, const std::string& dir) {
  const std::string path = store::JoinPath(dir, "tempIDs.txt");
  std::printf("machine: %u cores, %s\n", std::thread::hardware_concurrency(), CpuModel().c_str());

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

  // The real clock, so the store's sync latencies are measured. The retention puts the
  // cutoff in the middle of the generated window: compaction drops about half the file.
  util::Clock& clock = util::SystemClock::Instance();
  store::TempIdStoreOptions options;
  options.path = path;
  options.retention_seconds = clock.NowUnixSeconds() - (kWindowStart + kWindow / 2);
  const std::uint64_t rss_before = ProcStatusKb("VmRSS");
  started = Steady::now();
  store::RecoveryReport report;
  auto opened =
      store::FileTempIdStore::Open(store::PosixFileSystem::Instance(), clock, options, &report);
  const double open_s = SecondsSince(started);
  if (!opened.ok()) {
    std::fprintf(stderr, "open failed: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  store::FileTempIdStore& store = **opened;
  const std::uint64_t rss_after = ProcStatusKb("VmRSS");
  const auto n = static_cast<double>(store.size());
  std::printf("open: %llu records in %.2f s = %.2f M lines/s, %.0f MB/s (file in page cache)\n",
              static_cast<unsigned long long>(report.records), open_s,
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

  started = Steady::now();
  auto compacted = store.Compact();
  if (!compacted.ok()) {
    std::fprintf(stderr, "compaction failed: %s\n", compacted.status().ToString().c_str());
    return 1;
  }
  std::printf("compact: dropped %llu, kept %llu records, %.1f -> %.1f MB in %.2f s\n",
              static_cast<unsigned long long>(compacted->records_dropped),
              static_cast<unsigned long long>(compacted->records_kept),
              static_cast<double>(compacted->bytes_before) / 1e6,
              static_cast<double>(compacted->bytes_after) / 1e6, SecondsSince(started));
  std::printf("peak RSS: %.1f MB\n", static_cast<double>(ProcStatusKb("VmHWM")) / 1024.0);
  return 0;
}

}  // namespace
}  // namespace bluetrace

int main(int argc, char** argv) {
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
