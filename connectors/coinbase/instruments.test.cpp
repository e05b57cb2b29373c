#include "connectors/coinbase/instruments.hpp"

#include <doctest/doctest.h>

using mi::coinbase::instrument;

TEST_CASE("unified names and product ids map to the same instrument") {
  const instrument btc{"BTCUSD", "BTC", "USD", "BTC-USD"};
  CHECK(*mi::coinbase::from_unified("BTC/USD") == btc);
  CHECK(*mi::coinbase::from_unified("btc/usd") == btc);
  CHECK(*mi::coinbase::from_product_id("BTC-USD") == btc);
  CHECK(*mi::coinbase::to_product_id("ETH/USDC") == "ETH-USDC");
  CHECK(mi::coinbase::to_unified(btc) == "BTC/USD");
}

TEST_CASE("malformed names are errors naming the input") {
  for (const char* bad : {"BTCUSD", "BTC/", "/USD", "BTC/USD/X", "BTC-X/USD", ""}) {
    CAPTURE(bad);
    auto r = mi::coinbase::from_unified(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.err().message.find("symbol '") != std::string::npos);
  }
  for (const char* bad : {"BTCUSD", "BTC-PERP-INTX", "-USD", "BTC/USD"}) {
    CAPTURE(bad);
    CHECK_FALSE(mi::coinbase::from_product_id(bad).has_value());
  }
}
