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
