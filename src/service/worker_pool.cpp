#include "bluetrace/service/worker_pool.hpp"

#include <algorithm>
#include <utility>

namespace bluetrace::service {

WorkerPool::WorkerPool(std::size_t threads, std::size_t queue_depth, std::size_t per_source_depth)
    : queue_depth_(std::max<std::size_t>(queue_depth, 1)),
      per_source_depth_(per_source_depth == 0 ? queue_depth_
                                              : std::min(per_source_depth, queue_depth_)) {
  threads = std::max<std::size_t>(threads, 1);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() { Shutdown(); }

void WorkerPool::Shutdown() {
  {
    util::MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

WorkerPool::Queued WorkerPool::Tier::Pop() {
  std::string source = std::move(turns.front());
  turns.pop_front();
  auto it = by_source.find(source);
  Queued q = std::move(it->second.front());
  it->second.pop_front();
  if (it->second.empty()) {
    by_source.erase(it);
  } else {
    turns.push_back(std::move(source));  // its next job waits for the other sources' turns
  }
  return q;
}

std::size_t WorkerPool::SourceLoad(const std::string& source) const {
  std::size_t n = 0;
  for (const Tier* tier : {&priority_, &ordinary_}) {
    auto it = tier->by_source.find(source);
    if (it != tier->by_source.end()) n += it->second.size();
  }
  return n;
}

bool WorkerPool::TrySubmit(std::function<void()> job, const Lane& lane) {
  {
    util::MutexLock lock(mu_);
    if (stopping_ || size_ >= queue_depth_ || SourceLoad(lane.source) >= per_source_depth_) {
      ++rejected_;
      return false;
    }
    Tier& tier = lane.priority ? priority_ : ordinary_;
    auto& queue = tier.by_source[lane.source];
    if (queue.empty()) tier.turns.push_back(lane.source);
    queue.push_back(Queued{std::move(job), std::chrono::steady_clock::now()});
    ++size_;
  }
  cv_.notify_one();
  return true;
}

std::size_t WorkerPool::queued() const {
  util::MutexLock lock(mu_);
  return size_;
}

std::uint64_t WorkerPool::rejected() const {
  util::MutexLock lock(mu_);
  return rejected_;
}

void WorkerPool::Run() {
  for (;;) {
    Queued next;
    {
      util::MutexLock lock(mu_);
      // condition_variable_any releases and retakes mu_ through its lock()/unlock().
      while (!stopping_ && size_ == 0) cv_.wait(mu_);
      if (size_ == 0) return;  // stopping and drained
      const bool take_priority =
          !priority_.empty() && (ordinary_.empty() || priority_run_ < kPriorityBurst);
      if (take_priority) {
        next = priority_.Pop();
        ++priority_run_;
      } else {
        next = ordinary_.Pop();
        priority_run_ = 0;
      }
      --size_;
    }
    wait_.Record(std::chrono::steady_clock::now() - next.submitted);
    next.job();
  }
}

}  // namespace bluetrace::service
