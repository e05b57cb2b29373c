// The retry rule of the synchronous publish path (pure: no server). The publish itself against a real
// nats-server is in jetstream.test.cpp.
#include "gateways/jetstream/sync_publish.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace std::chrono_literals;
using mi::gw::retry_policy;

TEST_CASE("retry_policy: waits double from the initial delay and stop at the maximum") {
  retry_policy p{50ms, 400ms, 0};
  CHECK(p.delay_after(1) == 50ms);
  CHECK(p.delay_after(2) == 100ms);
  CHECK(p.delay_after(3) == 200ms);
  CHECK(p.delay_after(4) == 400ms);
  CHECK(p.delay_after(5) == 400ms);
  CHECK(p.delay_after(60) == 400ms);
  CHECK(mi::gw::until_stored.delay_after(1) == 50ms);
  CHECK(mi::gw::until_stored.delay_after(20) == 5000ms);
}

TEST_CASE("with_retries: until it succeeds, telling each failure and its wait") {
  int calls = 0;
  std::vector<std::string> errors;
  std::vector<std::chrono::milliseconds> waits;
  auto r = mi::gw::with_retries(
    retry_policy{1ms, 4ms, 0},
    [&]() -> mi::result<int> {
      if (++calls < 5)
        return mi::error{"refused " + std::to_string(calls)};
      return 42;
    },
    [&](const mi::error& e, std::chrono::milliseconds wait) {
      errors.push_back(e.message);
      waits.push_back(wait);
    });
  REQUIRE(r.has_value());
  CHECK(*r == 42);
  CHECK(calls == 5);
  CHECK(errors == std::vector<std::string>{"refused 1", "refused 2", "refused 3", "refused 4"});
  CHECK(waits == std::vector<std::chrono::milliseconds>{1ms, 2ms, 4ms, 4ms});
}

TEST_CASE("with_retries: a bounded policy gives up after its attempts with the last error") {
  int calls = 0;
  int told = 0;
  auto r = mi::gw::with_retries(
    retry_policy{1ms, 1ms, 3}, [&]() -> mi::result<int> { return mi::error{"down " + std::to_string(++calls)}; },
    [&](const mi::error&, std::chrono::milliseconds) { ++told; });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.err().message == "down 3");
  CHECK(calls == 3);
  CHECK(told == 2); // no wait after the last attempt
}

TEST_CASE("with_retries: one_attempt calls once and never waits") {
  int calls = 0;
  int told = 0;
  auto r = mi::gw::with_retries(
    mi::gw::one_attempt, [&]() -> mi::result<int> { return ++calls, mi::error{"no"}; },
    [&](const mi::error&, std::chrono::milliseconds) { ++told; });
  CHECK_FALSE(r.has_value());
  CHECK(calls == 1);
  CHECK(told == 0);
}
