#include <doctest/doctest.h>

#include "connectors/bybit/derivatives.hpp"
#include "tests/unit/derivative_fixtures.hpp"

TEST_CASE("bybit-linear derivatives: the documented tickers and liquidation examples give the hand-written events") {
  mi::bybit::derivatives_codec codec;
  CHECK(mi::test::check_derivative_set(codec, "bybit_linear") == 6);
}

TEST_CASE("bybit-linear derivatives: refusals and bad values") {
  mi::bybit::derivatives_codec codec;
  auto refused = codec.decode(R"({"success":false,"ret_msg":"Invalid symbol :[tickers.NOPE]","op":"subscribe"})", 0);
  REQUIRE_FALSE(refused);
  CHECK(refused.err().message.find("Invalid symbol") != std::string::npos);
  for (const char* bad : {
         R"({"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"x"},"ts":1})",
         R"({"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"1"}})",
         R"({"topic":"allLiquidation.BTCUSDT","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Long","v":"1","p":"1"}]})",
         R"({"topic":"allLiquidation.BTCUSDT","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"0","p":"1"}]})",
         R"({"topic":"allLiquidation.BTCUSDT","ts":1,"data":{}})",
       }) {
    CAPTURE(bad);
    CHECK_FALSE(codec.decode(bad, 0));
  }
  auto funding_neg = codec.decode(R"({"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT",)"
                                  R"("fundingRate":"-0.0001"},"ts":5})",
                                  0);
  REQUIRE(funding_neg);
  REQUIRE(funding_neg->size() == 1);
  CHECK((*funding_neg)[0].rate == "-0.0001");
}

TEST_CASE("bybit-linear derivatives: one subscribe for tickers and allLiquidation of every symbol") {
  CHECK(mi::bybit::derivatives_subscribe_request({"BTCUSDT", "ETHUSDT"}) ==
        R"({"op":"subscribe","args":["tickers.BTCUSDT","allLiquidation.BTCUSDT","tickers.ETHUSDT",)"
        R"("allLiquidation.ETHUSDT"]})");
}
