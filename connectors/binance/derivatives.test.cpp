#include <doctest/doctest.h>

#include "connectors/binance/derivatives.hpp"
#include "tests/unit/derivative_fixtures.hpp"

TEST_CASE("binance-usdm derivatives: the documented markPrice and forceOrder examples give the hand-written events") {
  mi::binance::derivatives_codec codec;
  CHECK(mi::test::check_derivative_set(codec, "binance_usdm") == 6);
}

TEST_CASE("binance-usdm derivatives: the documented openInterest REST body gives one open-interest event") {
  mi::binance::derivatives_codec codec;
  auto d = codec.parse_open_interest(mi::test::derivatives_data("binance_usdm.open_interest.json"), 7);
  REQUIRE(d);
  CHECK(mi::deriv::to_json(*d) ==
        R"({"exchange":"binance-usdm","symbol":"BTCUSDT","channel":"oi","ts_ns":1589437530011000000,"recv_ns":7,)"
        R"("open_interest":"10659.509","open_interest_value":null})");
  CHECK(mi::binance::open_interest_target("BTCUSDT") == "/fapi/v1/openInterest?symbol=BTCUSDT");
  CHECK_FALSE(codec.parse_open_interest(R"({"code":-1121,"msg":"Invalid symbol."})", 0));
}

TEST_CASE("binance-usdm derivatives: a delivery contract's markPriceUpdate has no funding, bad values are refused") {
  mi::binance::derivatives_codec codec;
  auto r = codec.decode(R"({"e":"markPriceUpdate","E":1596095725000,"s":"BTCUSD200925","p":"10934.62615417",)"
                        R"("P":"10962.17178236","i":"10933.62615417","r":"","T":0})",
                        0);
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].what == mi::deriv::channel::mark);
  for (const char* bad : {
         R"({"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"-1","i":"1","r":"0","T":1})",
         R"({"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"1.2.3","i":"1","r":"0","T":1})",
         R"({"e":"markPriceUpdate","E":1,"s":"btc.usdt","p":"1","i":"1","r":"0","T":1})",
         R"({"e":"markPriceUpdate","s":"BTCUSDT","p":"1"})",
         R"({"e":"forceOrder","E":1,"o":{"s":"BTCUSDT","S":"HOLD","q":"1","p":"1","ap":"1","z":"1","T":1}})",
         R"({"e":"forceOrder","E":1,"o":{"s":"BTCUSDT","S":"SELL","q":"0","p":"1","ap":"0","z":"0","T":1}})",
         R"({"e":"forceOrder","E":1,"o":"x"})",
         "not json",
       }) {
    CAPTURE(bad);
    CHECK_FALSE(codec.decode(bad, 0));
  }
}

TEST_CASE("binance-usdm derivatives: one SUBSCRIBE for markPrice@1s and forceOrder of every symbol") {
  CHECK(mi::binance::derivatives_subscribe_request({"BTCUSDT", "ETHUSDT"}, 3) ==
        R"({"method":"SUBSCRIBE","params":["btcusdt@markPrice@1s","btcusdt@forceOrder","ethusdt@markPrice@1s",)"
        R"("ethusdt@forceOrder"],"id":3})");
}
