#include "connectors/binance/instruments.hpp"

#include <doctest/doctest.h>

using mi::binance::instrument;
using mi::binance::instruments;

TEST_CASE("exchangeInfo parses symbols with their status, ignoring other keys") {
  const char* body =
    R"({"timezone":"UTC","serverTime":1,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","limit":6000}],)"
    R"("symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","baseAssetPrecision":8,)"
    R"("quoteAsset":"USDT","filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01"}],"permissions":["SPOT"]},)"
    R"({"quoteAsset":"BTC","baseAsset":"LUNA","symbol":"LUNABTC","status":"BREAK"}]})";
  auto r = instruments::from_exchange_info(body);
  REQUIRE_MESSAGE(r.has_value(), r.err().message);
  CHECK(r->size() == 2);
  const instrument* btc = r->find("BTCUSDT");
  REQUIRE(btc != nullptr);
  CHECK(*btc == instrument{"BTCUSDT", "BTC", "USDT", true});
  const instrument* luna = r->find("LUNABTC");
  REQUIRE(luna != nullptr);
  CHECK_FALSE(luna->trading);
  CHECK(r->find("btcusdt") == nullptr);
}

TEST_CASE("exchangeInfo errors name the problem") {
  CHECK_FALSE(instruments::from_exchange_info("nope").has_value());
  auto missing = instruments::from_exchange_info(R"({"timezone":"UTC"})");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.err().message.find("missing field 'symbols'") != std::string::npos);
  auto no_base = instruments::from_exchange_info(R"({"symbols":[{"symbol":"BTCUSDT","quoteAsset":"USDT"}]})");
  REQUIRE_FALSE(no_base.has_value());
  CHECK(no_base.err().message.find("symbols[0]: missing field 'baseAsset'") != std::string::npos);
}

TEST_CASE("encode_exchange_info round-trips through from_exchange_info") {
  std::vector<instrument> xs = {{"BTCUSDT", "BTC", "USDT", true}, {"ETHBTC", "ETH", "BTC", false}};
  auto r = instruments::from_exchange_info(mi::binance::encode_exchange_info(xs));
  REQUIRE_MESSAGE(r.has_value(), r.err().message);
  CHECK(r->all() == xs);
}

TEST_CASE("resolve falls back to the longest known quote suffix") {
  instruments none;
  CHECK(none.resolve("BTCUSDT") == instrument{"BTCUSDT", "BTC", "USDT", true});
  CHECK(none.resolve("BTCFDUSD") == instrument{"BTCFDUSD", "BTC", "FDUSD", true});
  CHECK(none.resolve("BTCTUSD") == instrument{"BTCTUSD", "BTC", "TUSD", true});
  CHECK(none.resolve("ETHBTC") == instrument{"ETHBTC", "ETH", "BTC", true});
  CHECK(none.resolve("USDTTRY") == instrument{"USDTTRY", "USDT", "TRY", true});
  CHECK_FALSE(none.resolve("FOOBAR").has_value());
  CHECK_FALSE(none.resolve("USDT").has_value()); // no base left
  CHECK_FALSE(none.resolve("btcusdt").has_value());
  CHECK_FALSE(none.resolve("BTC.USDT").has_value());
}

TEST_CASE("added instruments win over the suffix rule and teach new quotes") {
  instruments meta;
  meta.add({"ABCXYZ", "ABC", "XYZ", true});
  CHECK(meta.resolve("ABCXYZ")->quote == "XYZ");
  CHECK(meta.resolve("DEFXYZ") == instrument{"DEFXYZ", "DEF", "XYZ", true});
}

TEST_CASE("from_unified turns BASE/QUOTE into an instrument") {
  auto r = mi::binance::from_unified("BTC/USDT");
  REQUIRE(r.has_value());
  CHECK(*r == instrument{"BTCUSDT", "BTC", "USDT", true});
  CHECK(mi::binance::from_unified("eth/btc")->symbol == "ETHBTC");
  for (const char* bad : {"BTCUSDT", "BTC/", "/USDT", "BTC/USDT/X", "BTC-X/USDT", ""}) {
    CAPTURE(bad);
    CHECK_FALSE(mi::binance::from_unified(bad).has_value());
  }
}
