#include "bluetrace/service/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bluetrace::service {
namespace {

TEST(WorkerPoolTest, RunsEveryAcceptedJob) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(2, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
  }  // the destructor drains the queue
  EXPECT_EQ(ran.load(), 500);
}

TEST(WorkerPoolTest, ShutdownRunsTheQueuedJobsThenRefusesMore) {
  std::atomic<int> ran{0};
  WorkerPool pool(2, 1000);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 100);
  // Still a pool: a job of another pool that submits here now is refused, not lost in
  // freed memory.
  EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));
  pool.Shutdown();  // idempotent, and the destructor after it too
  EXPECT_EQ(ran.load(), 100);
}

TEST(WorkerPoolTest, RefusesWhenTheQueueIsFullAndRecovers) {
  WorkerPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::latch started(1);
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.count_down();
    gate.wait();
  }));
  started.wait();  // the only worker is now busy
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_FALSE(pool.TrySubmit([] {}));  // queue depth 2 reached
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_EQ(pool.rejected(), 1u);
  release.set_value();
  // Once drained, work is accepted again.
  std::promise<void> done;
  while (!pool.TrySubmit([&] { done.set_value(); })) std::this_thread::yield();
  done.get_future().wait();
}

TEST(WorkerPoolTest, RecordsHowLongEachJobWaited) {
  {
    WorkerPool pool(1, 10);
    EXPECT_EQ(pool.wait_histogram().Read().count, 0u);
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    ASSERT_TRUE(pool.TrySubmit([gate] { gate.wait(); }));
    ASSERT_TRUE(pool.TrySubmit([] {}));
    ASSERT_TRUE(pool.TrySubmit([] {}));
    release.set_value();
    std::promise<void> done;
    ASSERT_TRUE(pool.TrySubmit([&] { done.set_value(); }));
    done.get_future().wait();
    // Every started job is recorded once, even one that waited ~0 s.
    const auto wait = pool.wait_histogram().Read();
    EXPECT_EQ(wait.count, 4u);
  }
}

TEST(LatencyHistogramTest, CountsIntoCumulativeBuckets) {
  util::LatencyHistogram h{0.001, 0.01, 0.1};
  h.Record(std::chrono::microseconds(500));  // <= 1 ms
  h.Record(std::chrono::milliseconds(1));    // exactly on the bound: <= 1 ms
  h.Record(std::chrono::milliseconds(50));   // <= 100 ms
  h.Record(std::chrono::seconds(3));         // only +Inf
  h.Record(std::chrono::nanoseconds(-5));    // a clock step back counts as 0
  const auto s = h.Read();
  EXPECT_EQ(s.bounds, (std::vector<double>{0.001, 0.01, 0.1}));
  EXPECT_EQ(s.buckets, (std::vector<std::uint64_t>{3, 3, 4}));
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.sum_nanos, 500'000u + 1'000'000u + 50'000'000u + 3'000'000'000u);
}

// Holds the pool's only worker until released, so that the order of the queue shows. The
// job owns what it waits on, so the Gate may go before the pool's destructor joins.
class Gate {
 public:
  explicit Gate(WorkerPool& pool) {
    auto started = std::make_shared<std::latch>(1);
    std::shared_future<void> gate = release_.get_future().share();
    EXPECT_TRUE(pool.TrySubmit([started, gate] {
      started->count_down();
      gate.wait();
    }));
    started->wait();
  }
  void Open() { release_.set_value(); }

 private:
  std::promise<void> release_;
};

// A job that appends `what` to `order` when it runs.
std::function<void()> Recording(std::mutex& mu, std::vector<std::string>& order, std::string what) {
  return [&mu, &order, what = std::move(what)] {
    std::lock_guard lock(mu);
    order.push_back(what);
  };
}

TEST(WorkerPoolTest, SourcesTakeTurnsSoAFloodDoesNotDelayOthers) {
  std::vector<std::string> order;
  std::mutex mu;
  auto record = [&](std::string what) { return Recording(mu, order, std::move(what)); };
  {
    WorkerPool pool(1, 100);
    Gate gate(pool);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.TrySubmit(record("flood"), Lane{"A", false}));
    ASSERT_TRUE(pool.TrySubmit(record("user"), Lane{"B", false}));
    gate.Open();
  }
  ASSERT_EQ(order.size(), 6u);
  EXPECT_EQ(order[1], "user");  // after one of the flood, not after all five
}

TEST(WorkerPoolTest, PriorityJobsGoFirstButDoNotStarveTheOthers) {
  std::vector<std::string> order;
  std::mutex mu;
  auto record = [&](std::string what) { return Recording(mu, order, std::move(what)); };
  {
    WorkerPool pool(1, 100);
    Gate gate(pool);
    ASSERT_TRUE(pool.TrySubmit(record("ordinary"), Lane{"A", false}));
    for (int i = 0; i < WorkerPool::kPriorityBurst + 2; ++i) {
      ASSERT_TRUE(pool.TrySubmit(record("priority"), Lane{"B", true}));
    }
    gate.Open();
  }
  constexpr auto kBurst = static_cast<std::size_t>(WorkerPool::kPriorityBurst);
  ASSERT_EQ(order.size(), kBurst + 3);
  for (std::size_t i = 0; i < kBurst; ++i) EXPECT_EQ(order[i], "priority");
  EXPECT_EQ(order[kBurst], "ordinary");
}

TEST(WorkerPoolTest, OneSourceCannotFillTheWholeQueue) {
  WorkerPool pool(1, 10, 3);
  Gate gate(pool);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pool.TrySubmit([] {}, Lane{"A", false}));
  EXPECT_FALSE(pool.TrySubmit([] {}, Lane{"A", false}));
  EXPECT_FALSE(pool.TrySubmit([] {}, Lane{"A", true}));  // its priority jobs count too
  EXPECT_TRUE(pool.TrySubmit([] {}, Lane{"B", false}));
  EXPECT_EQ(pool.queued(), 4u);
  gate.Open();
}

}  // namespace
}  // namespace bluetrace::service
