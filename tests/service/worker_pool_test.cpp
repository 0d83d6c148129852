#include "bluetrace/service/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>

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

}  // namespace
}  // namespace bluetrace::service
