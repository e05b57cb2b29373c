#include "actors/restart_policy.hpp"

#include <doctest/doctest.h>
#include <vector>

using namespace std::chrono_literals;
using mi::actors::restart_limits;
using mi::actors::restart_policy;

namespace {
const restart_policy::time_point t0{std::chrono::hours(1)};
}

TEST_CASE("restart policy: delays double from initial_backoff up to max_backoff") {
  restart_policy p({100ms, 1000ms, 60s, 100, 3600s});
  std::vector<long> delays;
  auto now = t0;
  for (int i = 0; i < 7; ++i) {
    p.started(now);
    auto d = p.failed(now + 1ms);
    REQUIRE_FALSE(d.give_up);
    delays.push_back(static_cast<long>(d.delay.count()));
    now += d.delay + 1ms;
  }
  CHECK(delays == std::vector<long>{100, 200, 400, 800, 1000, 1000, 1000});
}

TEST_CASE("restart policy: a run longer than reset_after starts the backoff again from initial_backoff") {
  restart_policy p({100ms, 10s, 5s, 100, 3600s});
  auto now = t0;
  for (int i = 0; i < 4; ++i) {
    p.started(now);
    now += p.failed(now).delay;
  }
  CHECK(p.next_backoff() == 1600ms);
  p.started(now);
  now += 4999ms; // not yet healthy
  CHECK(p.failed(now).delay == 1600ms);
  p.started(now);
  now += 5s; // healthy
  CHECK(p.failed(now).delay == 100ms);
  CHECK(p.next_backoff() == 200ms);
}

TEST_CASE("restart policy: max_restarts failures in the window restart, the next one gives up") {
  restart_policy p({200ms, 10s, 30s, 3, 60s});
  auto now = t0;
  for (std::size_t i = 1; i <= 3; ++i) {
    p.started(now);
    auto d = p.failed(now);
    REQUIRE_FALSE(d.give_up);
    CHECK(d.restarts == i);
    now += d.delay;
  }
  p.started(now);
  auto d = p.failed(now);
  CHECK(d.give_up);
  CHECK(d.restarts == 3);
}

TEST_CASE("restart policy: restarts older than the window no longer count") {
  restart_policy p({100ms, 100ms, 3600s, 2, 10s});
  p.started(t0);
  CHECK_FALSE(p.failed(t0).give_up);
  p.started(t0 + 1s);
  CHECK_FALSE(p.failed(t0 + 1s).give_up);
  // Both restarts in the window: the third failure gives up...
  restart_policy q = p;
  CHECK(q.failed(t0 + 9s).give_up);
  // ...but once the first one is older than the window there is room again.
  p.started(t0 + 11s);
  CHECK_FALSE(p.failed(t0 + 11s).give_up);
}

TEST_CASE("restart policy: max_restarts 0 gives up on the first failure (the root's policy for roles)") {
  restart_policy p({100ms, 100ms, 1s, 0, 1s});
  p.started(t0);
  CHECK(p.failed(t0 + 1h).give_up);
}

TEST_CASE("restart policy: the default limits can trigger for a child that fails at once") {
  restart_limits l;
  CHECK(restart_policy::min_window(l) == 52600ms); // 0.2+0.4+0.8+1.6+3.2+6.4+4x10 s
  CHECK_FALSE(restart_policy::check(l).has_value());
  restart_policy p(l);
  auto now = t0;
  int restarts = 0;
  for (;;) {
    p.started(now);
    auto d = p.failed(now + 1ms); // dies 1 ms after each start
    if (d.give_up)
      break;
    ++restarts;
    now += 1ms + d.delay;
    REQUIRE(restarts <= l.max_restarts);
  }
  CHECK(restarts == l.max_restarts);
  CHECK(now - t0 < l.window);
}

TEST_CASE("restart policy: limits whose backoff cannot fit in the window are refused (the old 20 in 60 s)") {
  restart_limits old{200ms, 10s, 30s, 20, 60s};
  CHECK(restart_policy::min_window(old) == 152600ms);
  auto why = restart_policy::check(old);
  REQUIRE(why.has_value());
  CHECK(why->find("could never trigger") != std::string::npos);
  // And it really never triggers: a child failing at once is restarted forever.
  restart_policy p(old);
  auto now = t0;
  for (int i = 0; i < 200; ++i) {
    p.started(now);
    auto d = p.failed(now);
    REQUIRE_FALSE(d.give_up);
    now += d.delay;
  }
  CHECK(restart_policy::check({0ms, 1s, 1s, 1, 1s}).has_value());
  CHECK(restart_policy::check({2s, 1s, 1s, 1, 10s}).has_value());
}
