#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "connectors/transport/backoff.hpp"

using namespace std::chrono_literals;
using mi::net::backoff;

namespace {
constexpr std::int64_t sec_ns = 1'000'000'000;
}

TEST_CASE("backoff: the cap doubles from initial and stops at max") {
  backoff b{1s, 60s, 30s, 7};
  std::vector<std::int64_t> caps;
  for (int i = 0; i < 9; ++i) {
    caps.push_back(b.current_cap().count());
    (void)b.next_delay();
  }
  CHECK(caps == std::vector<std::int64_t>{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000});
}

TEST_CASE("backoff: full jitter stays within [0, cap] and is not constant") {
  backoff b{1s, 60s, 30s, 42};
  std::int64_t min_seen = 1'000'000, max_seen = -1;
  for (int i = 0; i < 1000; ++i) {
    const auto cap = b.current_cap();
    const auto d = b.next_delay();
    CHECK(d >= 0ms);
    CHECK(d <= cap);
    CHECK(d <= 60s);
    if (i > 10) {
      min_seen = std::min<std::int64_t>(min_seen, d.count());
      max_seen = std::max<std::int64_t>(max_seen, d.count());
    }
  }
  // at the cap of 60 s, a thousand uniform draws spread over most of the range
  CHECK(min_seen < 10'000);
  CHECK(max_seen > 50'000);
}

TEST_CASE("backoff: the same seed gives the same delays") {
  backoff a{1s, 60s, 30s, 99}, b{1s, 60s, 30s, 99};
  for (int i = 0; i < 20; ++i)
    CHECK(a.next_delay() == b.next_delay());
}

TEST_CASE("backoff: a connection that stayed healthy resets the exponent, a short one does not") {
  backoff b{1s, 60s, 30s, 1};
  for (int i = 0; i < 5; ++i)
    (void)b.next_delay();
  CHECK(b.current_cap() == 32s);

  b.on_connected(100 * sec_ns);
  b.on_disconnected(110 * sec_ns); // lived 10 s < 30 s
  CHECK(b.current_cap() == 32s);
  (void)b.next_delay();
  CHECK(b.current_cap() == 60s);

  b.on_connected(200 * sec_ns);
  b.on_disconnected(230 * sec_ns); // lived exactly 30 s
  CHECK(b.current_cap() == 1s);
  CHECK(b.attempts() == 0);
  CHECK(b.next_delay() <= 1s);
}

TEST_CASE("backoff: a disconnect without a connect does not reset") {
  backoff b{1s, 60s, 30s, 1};
  (void)b.next_delay();
  (void)b.next_delay();
  b.on_disconnected(1000 * sec_ns);
  CHECK(b.current_cap() == 4s);
}
