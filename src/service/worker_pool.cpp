#include "bluetrace/service/worker_pool.hpp"

#include <algorithm>
#include <utility>

namespace bluetrace::service {

WorkerPool::WorkerPool(std::size_t threads, std::size_t queue_depth)
    : queue_depth_(std::max<std::size_t>(queue_depth, 1)) {
  threads = std::max<std::size_t>(threads, 1);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() {
  {
    util::MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool WorkerPool::TrySubmit(std::function<void()> job) {
  {
    util::MutexLock lock(mu_);
    if (stopping_ || queue_.size() >= queue_depth_) {
      ++rejected_;
      return false;
    }
    queue_.push_back(Queued{std::move(job), std::chrono::steady_clock::now()});
  }
  cv_.notify_one();
  return true;
}

std::size_t WorkerPool::queued() const {
  util::MutexLock lock(mu_);
  return queue_.size();
}

std::uint64_t WorkerPool::rejected() const {
  util::MutexLock lock(mu_);
  return rejected_;
}

void WorkerPool::Run() {
  for (;;) {
    std::function<void()> job;
    std::chrono::steady_clock::time_point submitted;
    {
      util::MutexLock lock(mu_);
      // condition_variable_any releases and retakes mu_ through its lock()/unlock().
      while (!stopping_ && queue_.empty()) cv_.wait(mu_);
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front().job);
      submitted = queue_.front().submitted;
      queue_.pop_front();
    }
    wait_.Record(std::chrono::steady_clock::now() - submitted);
    job();
  }
}

}  // namespace bluetrace::service
