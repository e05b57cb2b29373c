#include "gateways/push/push_batch.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

using mi::gw::push_batch;

TEST_CASE("push batch: one run is scheduled for everything added until it takes, items come out in order") {
  push_batch<int> b;
  std::vector<int> out{99}; // take() clears what was there
  CHECK(b.add(1));          // nothing pending: schedule a run
  CHECK_FALSE(b.add(2));    // a run is scheduled already
  CHECK_FALSE(b.add(3));
  CHECK(b.pending() == 3);
  b.take(out);
  CHECK(out == std::vector<int>{1, 2, 3});
  CHECK(b.pending() == 0);
  CHECK(b.add(4)); // the run took: the next add schedules another one
  b.take(out);
  CHECK(out == std::vector<int>{4});
  b.take(out); // a run with nothing added since
  CHECK(out.empty());
  CHECK(b.add(5));
}

TEST_CASE("push batch: a writer and a running thread at once - every item exactly once, in order, each run asked for") {
  // The server's pattern: a writer adds 200,000 items; whenever add() says so, it "posts" a run (here: a counter the
  // consumer thread waits on); the consumer takes whatever is there per run. Nothing may be lost, duplicated or
  // reordered, and no item may be left without a run scheduled for it.
  push_batch<int> b;
  constexpr int n = 200000;
  std::atomic<int> runs_asked{0};
  std::vector<int> got;
  got.reserve(n);
  int runs_done = 0;
  std::thread consumer([&] {
    std::vector<int> batch;
    while (static_cast<int>(got.size()) < n) {
      if (runs_done == runs_asked.load(std::memory_order_acquire)) {
        std::this_thread::yield(); // no run posted: nothing to do
        continue;
      }
      ++runs_done;
      b.take(batch);
      got.insert(got.end(), batch.begin(), batch.end());
    }
  });
  for (int i = 0; i < n; ++i)
    if (b.add(int{i}))
      runs_asked.fetch_add(1, std::memory_order_release);
  consumer.join();
  REQUIRE(got.size() == static_cast<std::size_t>(n));
  bool in_order = true;
  for (int i = 0; i < n; ++i)
    in_order = in_order && got[static_cast<std::size_t>(i)] == i;
  CHECK(in_order);
  CHECK(b.pending() == 0);
  CHECK(runs_asked.load() >= 1);
  CHECK(runs_asked.load() < n); // batched: far fewer runs than items
}
