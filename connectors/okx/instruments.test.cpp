#include "connectors/okx/instruments.hpp"

#include <doctest/doctest.h>

TEST_CASE("unified BASE/QUOTE maps to the OKX instId and the normalized symbol") {
  auto i = mi::okx::from_unified("BTC/USDT");
  REQUIRE(i.has_value());
  CHECK(*i == mi::okx::instrument{"BTC-USDT", "BTCUSDT", "BTC", "USDT"});
  auto lower = mi::okx::from_unified("eth/btc");
  REQUIRE(lower.has_value());
  CHECK(lower->inst_id == "ETH-BTC");
  for (const char* bad : {"BTCUSDT", "BTC/", "/USDT", "BTC/USDT/X", "BTC-X/USDT", ""}) {
    CAPTURE(bad);
    auto r = mi::okx::from_unified(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.err().message.find("BTC/USDT") != std::string::npos);
  }
}

TEST_CASE("instIds map back to symbol, base and quote") {
  auto spot = mi::okx::from_inst_id("BTC-USDT");
  REQUIRE(spot.has_value());
  CHECK(*spot == mi::okx::instrument{"BTC-USDT", "BTCUSDT", "BTC", "USDT"});
  auto future = mi::okx::from_inst_id("BTC-USD-220527");
  REQUIRE(future.has_value());
  CHECK(future->symbol == "BTCUSD220527");
  CHECK(future->quote == "USD");
  for (const char* bad : {"BTCUSDT", "BTC-", "-USDT", "btc-usdt", "BTC--USDT", "BTC-US DT", ""}) {
    CAPTURE(bad);
    CHECK_FALSE(mi::okx::from_inst_id(bad).has_value());
  }
}

TEST_CASE("inst_id_of inverts from_inst_id") {
  for (const char* id : {"BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-220527", "1INCH-USDT"}) {
    CAPTURE(id);
    auto i = mi::okx::from_inst_id(id);
    REQUIRE(i.has_value());
    CHECK(mi::okx::inst_id_of(i->symbol, i->base, i->quote) == id);
  }
}
