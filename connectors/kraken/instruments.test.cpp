#include "connectors/kraken/instruments.hpp"

#include <doctest/doctest.h>

using mi::kraken::instrument;

TEST_CASE("v1 aliases XBT and XDG resolve to BTC and DOGE, both ways") {
  const instrument btc{"BTCUSD", "BTC", "USD", "BTC/USD", "XBT/USD"};
  CHECK(*mi::kraken::from_unified("BTC/USD") == btc);
  CHECK(*mi::kraken::from_unified("btc/usd") == btc);
  CHECK(*mi::kraken::from_wire("XBT/USD") == btc);
  CHECK(*mi::kraken::from_wire("BTC/USD") == btc);
  const instrument doge{"DOGEBTC", "DOGE", "BTC", "DOGE/BTC", "XDG/XBT"};
  CHECK(*mi::kraken::from_wire("XDG/XBT") == doge);
  CHECK(mi::kraken::from_wire("MATIC/USD")->v1_pair == "MATIC/USD");
  CHECK(mi::kraken::normalize_asset("XBT") == "BTC");
  CHECK(mi::kraken::v1_asset("DOGE") == "XDG");
  CHECK(mi::kraken::normalize_asset("ETH") == "ETH");
}

TEST_CASE("malformed pairs are errors") {
  for (const char* bad : {"BTCUSD", "BTC/", "/USD", "BTC/USD/X", "ETH2.S/ETH", ""}) {
    CAPTURE(bad);
    CHECK_FALSE(mi::kraken::from_unified(bad).has_value());
    CHECK_FALSE(mi::kraken::from_wire(bad).has_value());
  }
}
