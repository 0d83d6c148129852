// LatencyHistogram: counts durations into a few fixed buckets (upper bounds in seconds,
// chosen at construction) plus their sum, for Prometheus histograms such as the fsync
// latency of the stores and the wait of a login in the Argon2 queue.
//
// Record() is a handful of relaxed atomic adds, cheap enough for every fsync. Snapshot()
// may run at the same time as Record(): it then sees some recent records in the buckets
// but not yet in the sum (or the reverse), which a scrape tolerates. The count it reports
// is the sum of its own bucket reads, so the +Inf bucket always equals the count.
// Thread-safe; not copyable.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace bluetrace::util {

class LatencyHistogram {
 public:
  static constexpr std::size_t kMaxBounds = 15;

  struct Snapshot {
    std::vector<double> bounds;          // upper bounds in seconds, ascending
    std::vector<std::uint64_t> buckets;  // cumulative counts, one per bound
    std::uint64_t count = 0;             // all records (the +Inf bucket)
    std::uint64_t sum_nanos = 0;
  };

  // `bounds_seconds` ascending; at most kMaxBounds are used.
  explicit LatencyHistogram(std::initializer_list<double> bounds_seconds)
      : bounds_(bounds_seconds.begin(),
                bounds_seconds.begin() + std::min(bounds_seconds.size(), kMaxBounds)) {
    for (double b : bounds_) bound_nanos_.push_back(static_cast<std::uint64_t>(b * 1e9));
  }
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void Record(std::chrono::nanoseconds elapsed) {
    const std::uint64_t nanos =
        elapsed.count() < 0 ? 0 : static_cast<std::uint64_t>(elapsed.count());
    std::size_t i = 0;
    while (i < bound_nanos_.size() && nanos > bound_nanos_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);  // i == size(): the overflow slot
    sum_nanos_.fetch_add(nanos, std::memory_order_relaxed);
  }

  Snapshot Read() const {
    Snapshot s;
    s.bounds = bounds_;
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
      running += counts_[i].load(std::memory_order_relaxed);
      s.buckets.push_back(running);
    }
    s.count = running + counts_[bounds_.size()].load(std::memory_order_relaxed);
    s.sum_nanos = sum_nanos_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  const std::vector<double> bounds_;
  std::vector<std::uint64_t> bound_nanos_;
  std::array<std::atomic<std::uint64_t>, kMaxBounds + 1> counts_{};
  std::atomic<std::uint64_t> sum_nanos_{0};
};

}  // namespace bluetrace::util
