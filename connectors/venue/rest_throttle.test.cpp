#include <doctest/doctest.h>

#include "connectors/venue/rest_throttle.hpp"
#include "connectors/venue/test_support.hpp"

using mi::venue::rest_throttle;

namespace {
constexpr std::int64_t s = 1'000'000'000;
constexpr std::int64_t m0 = 1'700'000'040 * s; // a calendar minute starts
constexpr std::int64_t t0 = m0 + 40 * s;       // 40 s into it
} // namespace

TEST_CASE("rest_throttle: at most one request per min_interval") {
  mi::venue::rest_limits l;
  l.min_interval_ns = s / 5;
  rest_throttle th(l);
  CHECK(th.wait_ns(t0) == 0);
  th.on_request(t0);
  CHECK(th.wait_ns(t0) == s / 5);
  CHECK(th.wait_ns(t0 + s / 10) == s / 10);
  CHECK(th.wait_ns(t0 + s / 5) == 0);
}

TEST_CASE("rest_throttle: 429 with Retry-After holds every request until it has passed") {
  mi::venue::rest_limits l;
  l.min_interval_ns = s / 10;
  rest_throttle th(l);
  th.on_request(t0);
  CHECK(th.on_answer(t0 + s / 100, 429, "3", "") == rest_throttle::outcome::throttled);
  CHECK(th.wait_ns(t0 + s / 100) == 3 * s);
  CHECK(th.wait_ns(t0 + 2 * s) == s / 100 + s);
  CHECK(th.wait_ns(t0 + 3 * s + s / 100) == 0);
  // Another status is not a rate limit.
  CHECK(th.on_answer(t0 + 4 * s, 500, "30", "") == rest_throttle::outcome::ok);
  CHECK(th.wait_ns(t0 + 4 * s) == 0);
}

TEST_CASE("rest_throttle: a 429 without a usable Retry-After waits the venue's default") {
  mi::venue::rest_limits l;
  l.default_retry_after_ns = 60 * s;
  rest_throttle th(l);
  CHECK(th.on_answer(t0, 429, "Wed, 21 Oct 2015 07:28:00 GMT", "") == rest_throttle::outcome::throttled);
  CHECK(th.wait_ns(t0) == 60 * s);
  CHECK(mi::venue::retry_after_seconds(" 120 ") == 120);
  CHECK_FALSE(mi::venue::retry_after_seconds("").has_value());
  CHECK_FALSE(mi::venue::retry_after_seconds("-1").has_value());
  CHECK_FALSE(mi::venue::retry_after_seconds("1.5").has_value());
  CHECK(mi::venue::retry_after_seconds("99999999999") == 7 * 24 * 3600); // capped, never overflows
}

TEST_CASE("rest_throttle: Binance 418 is a ban with Retry-After, Bybit 403 a ban of 10 minutes") {
  auto binance = mi::venue::test::must_make("binance")->limits();
  rest_throttle b(binance);
  CHECK(b.on_answer(t0, 418, "120", "") == rest_throttle::outcome::throttled);
  CHECK(b.wait_ns(t0) == 120 * s);
  auto bybit = mi::venue::test::must_make("bybit")->limits();
  rest_throttle y(bybit);
  CHECK(y.on_answer(t0, 403, "", "") == rest_throttle::outcome::throttled);
  CHECK(y.wait_ns(t0) == 600 * s);
  // Elsewhere 403 is just an error.
  rest_throttle o(mi::venue::test::must_make("okx")->limits());
  CHECK(o.on_answer(t0, 403, "", "") == rest_throttle::outcome::ok);
}

TEST_CASE("rest_throttle: Binance's weight budget stops at 90 % of 6000 a minute and resumes next minute") {
  auto l = mi::venue::test::must_make("binance")->limits();
  REQUIRE(l.weight_per_minute == 6000);
  REQUIRE(l.request_weight == 25);
  REQUIRE(l.used_weight_header == "x-mbx-used-weight-1m");
  rest_throttle th(l);
  std::int64_t now = m0;
  int sent = 0;
  while (th.wait_ns(now) == 0) {
    th.on_request(now);
    ++sent;
    now += l.min_interval_ns;
  }
  CHECK(sent == 5400 / 25);                    // 216 requests fill this minute's 90 %
  CHECK(now + th.wait_ns(now) == m0 + 60 * s); // the next one waits for the next minute
  // The exchange's own count (other clients behind the IP) wins over ours.
  rest_throttle shared(l);
  shared.on_request(t0);
  CHECK(shared.on_answer(t0, 200, "", "5390") == rest_throttle::outcome::ok);
  CHECK(shared.wait_ns(t0 + s) == 19 * s); // until the minute ends
}
