#include "connectors/bybit/instruments.hpp"

#include <doctest/doctest.h>

TEST_CASE("unified BASE/QUOTE maps to the Bybit symbol") {
  auto i = mi::bybit::from_unified("BTC/USDT");
  REQUIRE(i.has_value());
  CHECK(*i == mi::bybit::instrument{"BTCUSDT", "BTC", "USDT", true});
  auto lower = mi::bybit::from_unified("eth/usdc");
  REQUIRE(lower.has_value());
  CHECK(lower->symbol == "ETHUSDC");
  for (const char* bad : {"BTCUSDT", "BTC/", "/USDT", "BTC/USDT/X", "BTC-X/USDT", ""}) {
    CAPTURE(bad);
    CHECK_FALSE(mi::bybit::from_unified(bad).has_value());
  }
}

TEST_CASE("resolve splits by the longest known quote, metadata first") {
  mi::bybit::instruments none;
  auto btc = none.resolve("BTCUSDT");
  REQUIRE(btc.has_value());
  CHECK(btc->base == "BTC");
  CHECK(btc->quote == "USDT");
  CHECK(none.resolve("ETHBTC")->quote == "BTC");
  CHECK(none.resolve("BTCUSDE")->quote == "USDE");
  CHECK_FALSE(none.resolve("USDT").has_value());
  CHECK_FALSE(none.resolve("btcusdt").has_value());
  CHECK_FALSE(none.resolve("FOOBAZ").has_value());
  mi::bybit::instruments meta;
  meta.add({"FOOBAZ", "FOO", "BAZ", true});
  CHECK(meta.resolve("FOOBAZ")->base == "FOO");
  CHECK(meta.resolve("QUXBAZ")->base == "QUX"); // an added quote becomes a known suffix
  CHECK(meta.size() == 1);
}

TEST_CASE("instruments-info parses symbols and status, and rejects broken bodies") {
  auto r = mi::bybit::instruments::from_instruments_info(
    R"({"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[)"
    R"({"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT","innovation":"0","status":"Trading","lotSizeFilter":{"basePrecision":"0.000001"}},)"
    R"({"symbol":"XUSDE","baseCoin":"X","quoteCoin":"USDE","status":"Closed"}]},"time":1})");
  REQUIRE_MESSAGE(r.has_value(), r.err().message);
  CHECK(r->size() == 2);
  CHECK(*r->find("BTCUSDT") == mi::bybit::instrument{"BTCUSDT", "BTC", "USDT", true});
  CHECK_FALSE(r->find("XUSDE")->trading);
  struct row {
    const char* body;
    const char* reason;
  };
  for (auto [body, reason] :
       {row{"nope", "not a JSON object"}, row{R"({"retCode":10001,"result":{}})", "retCode 10001"},
        row{R"({"retCode":0,"result":{}})", "missing field 'result.list'"},
        row{R"({"result":{"list":[{"symbol":"BTCUSDT","baseCoin":"BTC"}]}})", "missing field 'quoteCoin'"}}) {
    CAPTURE(std::string(body));
    auto bad = mi::bybit::instruments::from_instruments_info(body);
    REQUIRE_FALSE(bad.has_value());
    CHECK_MESSAGE(bad.err().message.find(reason) != std::string::npos, bad.err().message);
  }
}
