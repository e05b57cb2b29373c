#include "actors/symbol_pauses.hpp"

#include <doctest/doctest.h>

TEST_CASE("symbol pauses: a pair is paused until resumed, once, and other pairs are not affected") {
  mi::actors::symbol_pauses p;
  CHECK_FALSE(p.paused("binance", "BTCUSDT"));
  CHECK(p.pause("binance", "BTCUSDT", 1000));
  CHECK_FALSE(p.pause("binance", "BTCUSDT", 2000)); // already paused: the first time stays
  CHECK(p.paused("binance", "BTCUSDT"));
  CHECK_FALSE(p.paused("binance", "ETHUSDT"));
  CHECK_FALSE(p.paused("okx", "BTCUSDT"));
  REQUIRE(p.list().size() == 1);
  CHECK(p.list()[0].since_ms == 1000);
  CHECK(p.resume("binance", "BTCUSDT"));
  CHECK_FALSE(p.resume("binance", "BTCUSDT"));
  CHECK_FALSE(p.paused("binance", "BTCUSDT"));
  CHECK(p.list().empty());
}
