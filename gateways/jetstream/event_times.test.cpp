#include "gateways/jetstream/event_times.hpp"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <vector>

namespace {

// Distinct fake message handles (never dereferenced), spaced like heap allocations.
const void* handle(std::size_t i) { return reinterpret_cast<const void*>(0x10000 + i * 96); }

} // namespace

TEST_CASE("event times: each message's time comes back once, in ack order or not, an unknown one is 0") {
  mi::gw::event_times t(16);
  for (std::size_t i = 0; i < 16; ++i)
    t.put(handle(i), 1000 + static_cast<std::int64_t>(i));
  CHECK(t.size() == 16);
  CHECK(t.take(handle(5)) == 1005);
  CHECK(t.take(handle(5)) == 0); // forgotten
  CHECK(t.take(handle(99)) == 0);
  for (std::size_t i : {15, 0, 7, 1, 14, 2, 13, 3, 12, 4, 11, 6, 10, 8, 9})
    CHECK(t.take(handle(i)) == 1000 + static_cast<std::int64_t>(i));
  CHECK(t.size() == 0);
  t.put(handle(3), 7);
  t.put(handle(3), 8); // the same handle again (nats.c reuses freed memory): the newer record
  CHECK(t.size() == 1);
  CHECK(t.take(handle(3)) == 8);
}

TEST_CASE("event times: a publish window's worth never grows the slot array, beyond it it doubles and keeps all") {
  mi::gw::event_times t(1000);
  const std::size_t slots = t.capacity();
  CHECK(slots == 2048);
  // A steady window of 1000 in flight, 200,000 publishes: put one, take the oldest (a run of the hot path).
  for (std::size_t i = 0; i < 200'000; ++i) {
    t.put(handle(i), static_cast<std::int64_t>(i) + 1);
    if (i >= 999)
      REQUIRE(t.take(handle(i - 999)) == static_cast<std::int64_t>(i - 999) + 1);
  }
  CHECK(t.size() == 999);
  CHECK(t.capacity() == slots);
  // Retries waiting beside a full window: more than the window in flight.
  for (std::size_t i = 200'000; i < 203'000; ++i)
    t.put(handle(i), static_cast<std::int64_t>(i) + 1);
  CHECK(t.capacity() > slots);
  for (std::size_t i = 200'000 - 999; i < 203'000; ++i)
    REQUIRE(t.take(handle(i)) == static_cast<std::int64_t>(i) + 1);
  CHECK(t.size() == 0);
}

TEST_CASE("event times: random puts and takes agree with a std::map (colliding runs, wrap-around, deletion)") {
  mi::gw::event_times t(64);
  std::map<const void*, std::int64_t> want;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 100'000; ++step) {
    const void* k = handle(rng() % 300);
    if (rng() % 2 == 0) {
      const auto ts = static_cast<std::int64_t>(rng() % 1'000'000) + 1;
      t.put(k, ts);
      want[k] = ts;
    } else {
      auto it = want.find(k);
      const std::int64_t expected = it == want.end() ? 0 : it->second;
      if (it != want.end())
        want.erase(it);
      REQUIRE(t.take(k) == expected);
    }
    REQUIRE(t.size() == want.size());
  }
}
