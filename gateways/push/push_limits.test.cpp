#include "gateways/push/push_limits.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using mi::gw::subscription_index;
using mi::gw::token_bucket;
using strings = std::vector<std::string>;

TEST_CASE("token bucket: a burst is allowed, then exactly the refill rate") {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  token_bucket b{10, 5, t0}; // 10 per second, 5 at once
  for (int i = 0; i < 5; ++i)
    CHECK(b.try_take(t0));
  CHECK_FALSE(b.try_take(t0));
  CHECK_FALSE(b.try_take(t0 + 99ms)); // 0.99 tokens
  CHECK(b.try_take(t0 + 100ms));      // one token per 100 ms
  CHECK_FALSE(b.try_take(t0 + 100ms));
  // Over 10 s a flooding client gets burst + rate * seconds, never more.
  int taken = 0;
  for (auto t = t0 + 100ms; t <= t0 + 10100ms; t += 1ms)
    taken += b.try_take(t) ? 1 : 0;
  CHECK(taken == 100);
}

TEST_CASE("token bucket: an idle client refills only up to the burst, even after years") {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  token_bucket b{100000, 3, t0};
  for (int i = 0; i < 3; ++i)
    CHECK(b.try_take(t0));
  const auto later = t0 + std::chrono::hours(24 * 365 * 50); // no overflow in the refill
  CHECK(b.available() == 0);
  for (int i = 0; i < 3; ++i)
    CHECK(b.try_take(later));
  CHECK_FALSE(b.try_take(later));
  CHECK_FALSE(b.try_take(t0)); // a clock that goes back refills nothing
}

TEST_CASE("subscription index: first subscriber and last one leaving are reported once") {
  subscription_index ix;
  CHECK(ix.add(1, {"trade.binance.BTCUSDT", "kline.binance.BTCUSDT.1m"}) ==
        strings{"trade.binance.BTCUSDT", "kline.binance.BTCUSDT.1m"});
  CHECK(ix.add(2, {"trade.binance.BTCUSDT", "trade.okx.ETHUSDT"}) == strings{"trade.okx.ETHUSDT"});
  CHECK(ix.add(2, {"trade.binance.BTCUSDT"}).empty()); // duplicate: no change
  CHECK(ix.channels() == 3);
  CHECK(ix.channels_of(2) == 2);
  REQUIRE(ix.subscribers("trade.binance.BTCUSDT"));
  CHECK(ix.subscribers("trade.binance.BTCUSDT")->size() == 2);

  CHECK(ix.remove(1, {"trade.binance.BTCUSDT"}).empty()); // client 2 still there
  CHECK(ix.remove(1, {"trade.never.SUBSCRIBED"}).empty());
  CHECK(ix.remove(3, {"trade.binance.BTCUSDT"}).empty()); // unknown client
  CHECK(ix.remove_client(2) == strings{"trade.binance.BTCUSDT", "trade.okx.ETHUSDT"});
  CHECK(ix.subscribers("trade.binance.BTCUSDT") == nullptr);
  CHECK(ix.remove_client(1) == strings{"kline.binance.BTCUSDT.1m"});
  CHECK(ix.channels() == 0);
  CHECK(ix.remove_client(1).empty());
}

TEST_CASE("send queue: frames come out in order, bytes counted, the ring grows past its first size") {
  mi::gw::send_queue q;
  for (int i = 0; i < 10; ++i)
    q.push_back(std::make_shared<const std::string>(std::string(static_cast<std::size_t>(i + 1), 'x')), 0);
  CHECK(q.size() == 10);
  CHECK(q.bytes() == 55);
  for (int i = 0; i < 10; ++i) {
    CHECK(q.front()->size() == static_cast<std::size_t>(i + 1));
    CHECK(q.pop_front() == static_cast<std::size_t>(i + 1));
  }
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
}

TEST_CASE("send queue: conflation replaces the waiting frame of the same key, never the one in flight") {
  mi::gw::send_queue q;
  auto f = [](std::string s) { return std::make_shared<const std::string>(std::move(s)); };
  q.push_back(f("a1"), 1);
  q.push_back(f("b1"), 2);
  CHECK(q.replace(2, f("b2-new"), true));
  CHECK_FALSE(q.replace(1, f("a2"), true)); // a1 is being written: it cannot change any more
  CHECK(q.replace(1, f("a2"), false));
  CHECK_FALSE(q.replace(3, f("c"), false));
  CHECK_FALSE(q.replace(0, f("never"), false)); // key 0 is never conflated
  CHECK(q.bytes() == 2 + 6);
  CHECK(*q.front() == "a2");
  q.pop_front();
  CHECK(*q.front() == "b2-new");
}

TEST_CASE("send queue: drop_after keeps the first frames and returns what it dropped") {
  mi::gw::send_queue q;
  for (int i = 0; i < 5; ++i)
    q.push_back(std::make_shared<const std::string>("abc"), 0);
  auto [frames, bytes] = q.drop_after(1);
  CHECK(frames == 4);
  CHECK(bytes == 12);
  CHECK(q.size() == 1);
  CHECK(q.bytes() == 3);
}
