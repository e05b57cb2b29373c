#include "messages/util/repeat_limiter.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using mi::util::repeat_limiter;

namespace {
const repeat_limiter::clock::time_point t0{std::chrono::seconds(1000)};
}

TEST_CASE("repeat_limiter: a kind folds digit runs, nothing else") {
  CHECK(repeat_limiter::kind_of("batch of 812 rows failed after 3 ms") == "batch of # rows failed after # ms");
  CHECK(repeat_limiter::kind_of("no digits") == "no digits");
  CHECK(repeat_limiter::kind_of("10.0.0.1:5432") == "#.#.#.#:#");
}

TEST_CASE("repeat_limiter: 58 identical errors in 10 s write the first line and one summary of the other 57") {
  repeat_limiter lim(10s, 1);
  auto first = lim.offer("database: connection refused (port 5432)", 4, t0);
  CHECK(first.write);
  CHECK_FALSE(first.held);
  int written = 0;
  for (int i = 1; i <= 57; ++i) {
    auto v = lim.offer("database: connection refused (port 5432)", 4, t0 + std::chrono::milliseconds(150 * i));
    written += v.write ? 1 : 0;
    CHECK_FALSE(v.held);
  }
  CHECK(written == 0);
  CHECK(lim.expire(t0 + 9s).empty()); // window still open
  auto s = lim.expire(t0 + 10s);
  REQUIRE(s.size() == 1);
  CHECK(s[0].repeated == 57);
  CHECK(s[0].level == 4);
  CHECK(s[0].span == 9s); // 57 * 150 ms = 8.55 s, rounded up
  CHECK(s[0].text == "database: connection refused (port 5432) (repeated 57 times in 9 s)");
  // Forgotten after its summary: the next one is written at once.
  CHECK(lim.offer("database: connection refused (port 5432)", 4, t0 + 11s).write);
}

TEST_CASE("repeat_limiter: lines differing only in numbers are one kind, other texts pass") {
  repeat_limiter lim(10s, 1);
  CHECK(lim.offer("saver: batch of 812 rows failed", 3, t0).write);
  CHECK_FALSE(lim.offer("saver: batch of 64 rows failed", 3, t0 + 1s).write);
  CHECK(lim.offer("nats: disconnected", 3, t0 + 1s).write);
  auto s = lim.expire(t0 + 20s);
  REQUIRE(s.size() == 1);
  CHECK(s[0].text == "saver: batch of 64 rows failed (repeated 1 time in 1 s)"); // the last repeat's own text
}

TEST_CASE("repeat_limiter: a repeat after the window ends is written, with the summary of the window before") {
  repeat_limiter lim(10s, 1);
  CHECK(lim.offer("x failed", 4, t0).write);
  CHECK_FALSE(lim.offer("x failed", 4, t0 + 2s).write);
  CHECK_FALSE(lim.offer("x failed", 4, t0 + 3s).write);
  auto v = lim.offer("x failed", 4, t0 + 12s); // no expire() in between
  CHECK(v.write);
  REQUIRE(v.held);
  CHECK(v.held->repeated == 2);
  CHECK(v.held->text == "x failed (repeated 2 times in 3 s)");
  // A new window started at t0 + 12 s.
  CHECK_FALSE(lim.offer("x failed", 4, t0 + 13s).write);
  CHECK(lim.expire(t0 + 21s).empty());
  CHECK(lim.expire(t0 + 22s).size() == 1);
}

TEST_CASE("repeat_limiter: at most max_kinds kinds are kept, and a forgotten kind's repeats still get their summary") {
  repeat_limiter lim(10s, 1, 2);
  CHECK(lim.offer("a", 4, t0).write);
  CHECK_FALSE(lim.offer("a", 4, t0 + 1s).write);
  CHECK(lim.offer("b", 4, t0 + 2s).write);
  CHECK(lim.offer("c", 4, t0 + 3s).write); // forgets "a", the oldest
  CHECK(lim.offer("a", 4, t0 + 4s).write); // written again: it was forgotten (forgets "b")
  auto s = lim.expire(t0 + 5s);            // nothing has ended, but the evicted summary is due
  REQUIRE(s.size() == 1);
  CHECK(s[0].text == "a (repeated 1 time in 1 s)");
}

TEST_CASE("repeat_limiter: the first `burst` lines of a kind in a window are written, then repeats are counted") {
  repeat_limiter lim(10s, 3);
  // A supervisor's three restarts: each its own line.
  CHECK(lim.offer("kline: kline_stage died (boom), restart 1 of 3 in 100 ms", 3, t0).write);
  CHECK(lim.offer("kline: kline_stage died (boom), restart 2 of 3 in 200 ms", 3, t0 + 100ms).write);
  CHECK(lim.offer("kline: kline_stage died (boom), restart 3 of 3 in 400 ms", 3, t0 + 300ms).write);
  CHECK(lim.expire(t0 + 20s).empty()); // nothing was held back
  // A flood: 3 written, 97 counted.
  int written = 0;
  for (int i = 0; i < 100; ++i)
    written += lim.offer("saver: database: connection refused", 4, t0 + 30s + std::chrono::milliseconds(50 * i)).write;
  CHECK(written == 3);
  auto s = lim.expire(t0 + 40s);
  REQUIRE(s.size() == 1);
  CHECK(s[0].repeated == 97);
  CHECK(s[0].text == "saver: database: connection refused (repeated 97 times in 5 s)"); // 99 * 50 ms = 4.95 s
}
