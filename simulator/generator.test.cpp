#include <doctest/doctest.h>

#include "simulator/generator.hpp"

using mi::sim::symbol_generator;

namespace {
mi::binance::instrument btc() { return {"BTCUSDT", "BTC", "USDT", true}; }
} // namespace

TEST_CASE("generator: ids start at 1 and are consecutive - exchange, symbol, base, quote and time set") {
  symbol_generator g{btc(), 1};
  for (int i = 1; i <= 100; ++i) {
    auto t = g.next(1'700'000'000'123'000'000);
    CHECK(t.trade_id == std::to_string(i));
    CHECK(t.exchange == "binance");
    CHECK(t.symbol == "BTCUSDT");
    CHECK(t.base == "BTC");
    CHECK(t.quote == "USDT");
    CHECK(t.ts_ns == 1'700'000'000'123'000'000);
  }
  CHECK(g.generated() == 100);
}

TEST_CASE("generator: exact decimals — price in 0.01 ticks, quantity in 0.00001, both positive") {
  symbol_generator g{btc(), 3};
  bool saw_buy = false, saw_sell = false;
  for (int i = 0; i < 2000; ++i) {
    auto t = g.next(0);
    CHECK(t.price.signum() == 1);
    CHECK(t.quantity.signum() == 1);
    CHECK(t.price.scale() <= 2);
    CHECK(t.quantity.scale() <= 5);
    saw_buy |= t.taker_side == mi::side::buy;
    saw_sell |= t.taker_side == mi::side::sell;
  }
  CHECK(saw_buy);
  CHECK(saw_sell);
}

TEST_CASE("generator: the same seed replays the same trades - another seed or symbol differs") {
  symbol_generator a{btc(), 42}, b{btc(), 42}, c{btc(), 43}, d{{"ETHUSDT", "ETH", "USDT", true}, 42};
  bool differs_seed = false, differs_symbol = false;
  for (int i = 0; i < 50; ++i) {
    auto ta = a.next(5), tb = b.next(5), tc = c.next(5), td = d.next(5);
    CHECK(ta == tb);
    differs_seed |= ta.price != tc.price || ta.quantity != tc.quantity;
    differs_symbol |= ta.quantity != td.quantity;
  }
  CHECK(differs_seed);
  CHECK(differs_symbol);
}

TEST_CASE("generator: the wall clock helper has millisecond precision") {
  const auto ns = mi::sim::wall_ms_as_ns();
  CHECK(ns % 1'000'000 == 0);
  CHECK(ns > 1'600'000'000'000'000'000);
}

TEST_CASE("generator: ids start at first_id and trades carry the given exchange") {
  symbol_generator g{btc(), 1, "kraken", 61044952};
  CHECK(g.next(1).trade_id == "61044952");
  CHECK(g.next(1).trade_id == "61044953");
  CHECK(g.generated() == 2);
  CHECK(g.next(1).exchange == "kraken");
}
