// WorkerPool: a fixed set of threads running CPU-heavy jobs (Argon2 hashing) off the
// network threads, with a bounded queue shared fairly between the sources of the work.
//
// Every job is submitted in a Lane: the source it comes from (a client address prefix,
// say) and whether it is a priority job (a login from a device the server already
// trusts). Waiting jobs are served round-robin between sources, one job per source per
// turn, so one source's flood cannot take the workers from everyone else; priority jobs
// go first (with one ordinary job let through after every kPriorityBurst priority ones,
// so the ordinary lane is never starved). Jobs of one source run in the order submitted.
//
// TrySubmit never blocks: it refuses when `queue_depth` jobs are already waiting in all,
// or `per_source_depth` from the job's source, and the caller answers "busy" instead of
// letting logins pile up without bound. Jobs must not throw. Shutdown (and the destructor)
// stops accepting work, runs every job already queued, and joins. The time each job waited
// (steady clock, submit to start) goes into a histogram for metrics: a measurement of the
// machine, not a rule, so no injected Clock. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bluetrace/util/latency_histogram.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::service {

struct Lane {
  std::string source;     // jobs of one source share its part of the queue
  bool priority = false;  // served ahead of ordinary jobs
};

class WorkerPool {
 public:
  // Priority jobs served in a row, while ordinary ones wait, before one ordinary job.
  static constexpr int kPriorityBurst = 4;

  // `per_source_depth` 0 means `queue_depth` (no per-source bound).
  WorkerPool(std::size_t threads, std::size_t queue_depth, std::size_t per_source_depth = 0);
  ~WorkerPool();  // Shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job` in `lane`; false (and `job` is dropped) when the queue or the source's
  // part of it is full, or the pool stops.
  bool TrySubmit(std::function<void()> job, const Lane& lane = {}) EXCLUDES(mu_);

  // Stops accepting jobs (TrySubmit refuses from now on), runs every job already queued and
  // joins the threads. The pool stays valid, so that jobs of another pool that still
  // submit here get a refusal rather than a dangling pool. Idempotent; call it from one
  // thread at a time, never from a job of this pool.
  void Shutdown() EXCLUDES(mu_);

  // Jobs waiting (not yet running), for metrics.
  std::size_t queued() const EXCLUDES(mu_);
  // Jobs refused because the queue was full, since start.
  std::uint64_t rejected() const EXCLUDES(mu_);
  // Seconds each started job waited in the queue (buckets from 1 ms to 10 s).
  const util::LatencyHistogram& wait_histogram() const { return wait_; }

 private:
  struct Queued {
    std::function<void()> job;
    std::chrono::steady_clock::time_point submitted;
  };
  // One class of jobs (priority or ordinary): a queue per source and the round-robin
  // order of the sources that have jobs waiting.
  struct Tier {
    std::unordered_map<std::string, std::deque<Queued>> by_source;
    std::deque<std::string> turns;
    bool empty() const { return turns.empty(); }
    Queued Pop();
  };

  void Run();
  std::size_t SourceLoad(const std::string& source) const REQUIRES(mu_);

  const std::size_t queue_depth_;
  const std::size_t per_source_depth_;
  mutable util::Mutex mu_;
  std::condition_variable_any cv_;
  Tier priority_ GUARDED_BY(mu_);
  Tier ordinary_ GUARDED_BY(mu_);
  std::size_t size_ GUARDED_BY(mu_) = 0;
  int priority_run_ GUARDED_BY(mu_) = 0;  // priority jobs started since the last ordinary one
  bool stopping_ GUARDED_BY(mu_) = false;
  std::uint64_t rejected_ GUARDED_BY(mu_) = 0;
  util::LatencyHistogram wait_{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};
  std::vector<std::thread> threads_;
};

}  // namespace bluetrace::service
