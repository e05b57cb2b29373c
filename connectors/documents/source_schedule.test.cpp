#include <doctest/doctest.h>

#include "connectors/documents/source_schedule.hpp"

namespace docs = mi::documents;

namespace {
constexpr std::int64_t s = 1'000'000'000;
constexpr std::int64_t ms = 1'000'000;
} // namespace

TEST_CASE("token bucket: SEC's 10 requests per second, never more in any second") {
  docs::token_bucket bucket(10, 1);
  int granted = 0;
  std::int64_t now = 0;
  while (now < 3 * s) {
    if (bucket.acquire(now) == 0)
      ++granted;
    now += ms; // asked every millisecond
  }
  CHECK(granted == 30);
  docs::token_bucket burst(10, 5);
  int at_once = 0;
  for (int i = 0; i < 10; ++i)
    at_once += burst.acquire(0) == 0;
  CHECK(at_once == 5);
  CHECK(burst.acquire(0) == 100 * ms); // the next token
}

TEST_CASE("circuit breaker: open after N failures, half-open probe after open_for, closed on success") {
  docs::circuit_breaker b(5, 30 * s);
  for (int i = 0; i < 4; ++i) {
    CHECK(b.allow(i * s));
    b.on_failure(i * s);
    CHECK(b.state() == docs::circuit_state::closed);
  }
  b.on_failure(4 * s);
  CHECK(b.state() == docs::circuit_state::open);
  CHECK_FALSE(b.allow(10 * s));
  CHECK(b.allow(34 * s)); // the probe
  CHECK(b.state() == docs::circuit_state::half_open);
  CHECK_FALSE(b.allow(34 * s)); // one probe at a time
  b.on_failure(35 * s);         // the probe failed: open again, for another open_for
  CHECK(b.state() == docs::circuit_state::open);
  CHECK(b.reopens_at_ns() == 65 * s);
  CHECK(b.allow(65 * s));
  b.on_success();
  CHECK(b.state() == docs::circuit_state::closed);
  CHECK(b.consecutive_failures() == 0);
}

TEST_CASE("conditional requests: ETag and Last-Modified become If-None-Match and If-Modified-Since") {
  docs::validators v;
  CHECK(v.request_headers().empty());
  v.update(" \"abc\" ", "Fri, 12 Dec 2025 23:03:31 GMT");
  const auto h = v.request_headers();
  REQUIRE(h.size() == 2);
  CHECK(h[0] == std::pair<std::string, std::string>{"If-None-Match", "\"abc\""});
  CHECK(h[1] == std::pair<std::string, std::string>{"If-Modified-Since", "Fri, 12 Dec 2025 23:03:31 GMT"});
  CHECK(docs::outcome_of_status(304) == docs::request_outcome::not_modified);
  CHECK_FALSE(docs::is_failure(docs::request_outcome::not_modified));
}

TEST_CASE("retry-after: seconds or an HTTP date, relative to now") {
  CHECK(docs::parse_retry_after_ns("120", 0) == 120 * s);
  CHECK(docs::parse_retry_after_ns("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470 * s) == 10 * s);
  CHECK(docs::parse_retry_after_ns("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490 * s) == 0);
  CHECK_FALSE(docs::parse_retry_after_ns("soon", 0));
  CHECK_FALSE(docs::parse_retry_after_ns("-5", 0));
}

TEST_CASE("http status outcomes: the metric's closed label set") {
  CHECK(docs::outcome_of_status(200) == docs::request_outcome::ok);
  CHECK(docs::outcome_of_status(429) == docs::request_outcome::rate_limited);
  CHECK(docs::outcome_of_status(503) == docs::request_outcome::server_error);
  CHECK(docs::outcome_of_status(404) == docs::request_outcome::client_error);
  CHECK_FALSE(docs::is_failure(docs::request_outcome::client_error)); // our request's fault, not the source's
  CHECK(docs::to_string(docs::request_outcome::rate_limited) == "rate_limited");
  CHECK(docs::to_string(docs::circuit_state::half_open) == "half_open");
}

TEST_CASE("source schedule: polls at the jittered interval") {
  docs::schedule_config c;
  c.interval_ns = 60 * s;
  c.jitter = 0.1;
  c.requests_per_second = 10;
  docs::source_schedule sched(c, 42, 0);
  CHECK(sched.next_poll_ns() == 0); // at once at start
  std::int64_t now = 0;
  for (int i = 0; i < 50; ++i) {
    REQUIRE(sched.acquire(now) == 0);
    sched.record(docs::request_outcome::ok, now);
    const auto gap = sched.next_poll_ns() - now;
    CHECK(gap >= 54 * s);
    CHECK(gap <= 66 * s);
    now = sched.next_poll_ns();
  }
}

TEST_CASE("source schedule: 429 Retry-After is honoured before the next request") {
  docs::schedule_config c;
  c.interval_ns = 10 * s;
  c.jitter = 0;
  docs::source_schedule sched(c, 1, 0);
  REQUIRE(sched.acquire(0) == 0);
  sched.record(docs::request_outcome::rate_limited, 0, 120 * s);
  CHECK(sched.next_poll_ns() == 120 * s);
  CHECK(sched.acquire(60 * s) == 60 * s); // asked early: wait the rest
  CHECK(sched.acquire(120 * s) == 0);
}

TEST_CASE("source schedule: 5 failures open the circuit, the probe after open_for closes it on success") {
  docs::schedule_config c;
  c.interval_ns = 1 * s;
  c.jitter = 0;
  c.failure_threshold = 5;
  c.open_for_ns = 30 * s;
  docs::source_schedule sched(c, 1, 0);
  std::int64_t now = 0;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(sched.acquire(now) == 0);
    sched.record(docs::request_outcome::server_error, now);
    now = sched.next_poll_ns();
  }
  CHECK(sched.state() == docs::circuit_state::open);
  CHECK(now == 4 * s + 30 * s); // the next poll waits for the probe time
  CHECK(sched.acquire(now - s) == s);
  REQUIRE(sched.acquire(now) == 0);
  CHECK(sched.state() == docs::circuit_state::half_open);
  sched.record(docs::request_outcome::ok, now);
  CHECK(sched.state() == docs::circuit_state::closed);
  CHECK(sched.next_poll_ns() == now + s);
}

TEST_CASE("source schedule: unreachable longer than the backfill horizon gives one gap record") {
  docs::schedule_config c;
  c.interval_ns = 60 * s;
  c.jitter = 0;
  c.open_for_ns = 60 * s;
  c.backfill_horizon_ns = 3600 * s;
  docs::source_schedule sched(c, 1, 1000 * s);
  REQUIRE(sched.acquire(1000 * s) == 0);
  CHECK_FALSE(sched.record(docs::request_outcome::ok, 1000 * s));
  std::int64_t now = sched.next_poll_ns();
  while (now < 1000 * s + 7200 * s) {
    if (sched.acquire(now) == 0)
      CHECK_FALSE(sched.record(docs::request_outcome::network_error, now));
    now += 60 * s;
  }
  while (sched.acquire(now) != 0)
    now += s;
  const auto gap = sched.record(docs::request_outcome::ok, now);
  REQUIRE(gap);
  CHECK(gap->from_ns == 1000 * s);
  CHECK(gap->to_ns == now);
  REQUIRE(sched.acquire(sched.next_poll_ns()) == 0);
  CHECK_FALSE(sched.record(docs::request_outcome::ok, sched.next_poll_ns())); // back to normal: no second gap
}
