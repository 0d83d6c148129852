// WorkerPool: a fixed set of threads running CPU-heavy jobs (Argon2 hashing) off the
// network threads, with a bounded queue.
//
// TrySubmit never blocks: when `queue_depth` jobs are already waiting it refuses, and the
// caller answers "busy" instead of letting logins pile up without bound. Jobs must not
// throw. The destructor stops accepting work, runs every job already queued, and joins.
// The time each job waited in the queue (steady clock, submit to start) goes into a
// histogram for metrics: a measurement of the machine, not a rule, so no injected Clock.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "bluetrace/util/latency_histogram.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::service {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, std::size_t queue_depth);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`; false (and `job` is dropped) when the queue is full or the pool stops.
  bool TrySubmit(std::function<void()> job) EXCLUDES(mu_);

  // Jobs waiting (not yet running), for metrics.
  std::size_t queued() const EXCLUDES(mu_);
  // Jobs refused because the queue was full, since start.
  std::uint64_t rejected() const EXCLUDES(mu_);
  // Seconds each started job waited in the queue (buckets from 1 ms to 10 s).
  const util::LatencyHistogram& wait_histogram() const { return wait_; }

 private:
  void Run();

  const std::size_t queue_depth_;
  mutable util::Mutex mu_;
  std::condition_variable_any cv_;
  struct Queued {
    std::function<void()> job;
    std::chrono::steady_clock::time_point submitted;
  };
  std::deque<Queued> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::uint64_t rejected_ GUARDED_BY(mu_) = 0;
  util::LatencyHistogram wait_{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};
  std::vector<std::thread> threads_;
};

}  // namespace bluetrace::service
