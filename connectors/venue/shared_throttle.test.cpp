// One REST budget per venue per process: two users (the trade backfill, the Alpaca daily job) share the minimum
// interval and a 429's Retry-After; check-and-count is one step, so two threads never both get a slot at once.
#include "connectors/venue/shared_throttle.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

mi::venue::rest_limits every_300ms() {
  mi::venue::rest_limits l;
  l.min_interval_ns = 300'000'000; // Alpaca's 200 requests a minute
  l.default_retry_after_ns = 60'000'000'000;
  return l;
}

} // namespace

TEST_CASE("shared REST throttle: one per venue, the interval and a 429 shared by every user") {
  auto a = mi::venue::shared_rest_throttle::of("test-venue-a", every_300ms());
  auto b = mi::venue::shared_rest_throttle::of("test-venue-a", mi::venue::rest_limits{}); // the first call's limits
  auto other = mi::venue::shared_rest_throttle::of("test-venue-b", every_300ms());
  CHECK(a == b);
  CHECK(a != other);
  CHECK(b->limits().min_interval_ns == 300'000'000);
  const std::int64_t t0 = 1'000'000'000'000;
  CHECK(a->acquire(t0) == 0);                         // the backfill's request
  CHECK(b->acquire(t0 + 100'000'000) == 200'000'000); // the daily job waits for the rest of the interval
  CHECK(b->acquire(t0 + 300'000'000) == 0);           // then goes
  CHECK(other->acquire(t0 + 300'000'000) == 0);       // another venue has its own budget
  // A 429 seen by one user holds the other until its Retry-After (5 s).
  CHECK(b->on_answer(t0 + 400'000'000, 429, "5", "") == mi::venue::rest_throttle::outcome::throttled);
  CHECK(a->wait_ns(t0 + 1'400'000'000) == 4'000'000'000);
  CHECK(a->acquire(t0 + 5'400'000'000) == 0);
}

TEST_CASE("shared REST throttle: from two threads, never two slots within one interval") {
  auto t = mi::venue::shared_rest_throttle::of("test-venue-threads", every_300ms());
  std::atomic<int> granted{0};
  std::vector<std::thread> users;
  for (int u = 0; u < 2; ++u)
    users.emplace_back([&] {
      for (int i = 0; i < 10000; ++i)
        if (t->acquire(2'000'000'000'000) == 0) // the same instant for everyone
          ++granted;
    });
  for (auto& u : users)
    u.join();
  CHECK(granted == 1);
}
