#include <doctest/doctest.h>

#include "connectors/okx/derivatives.hpp"
#include "tests/unit/derivative_fixtures.hpp"

TEST_CASE("okx-swap derivatives: the documented funding-rate, mark-price, open-interest and liquidation-orders "
          "examples give the hand-written events") {
  mi::okx::derivatives_codec codec;
  CHECK(mi::test::check_derivative_set(codec, "okx_swap") == 4);
}

TEST_CASE("okx-swap derivatives: instrument names, refusals and errors") {
  CHECK(mi::okx::swap_symbol("BTC-USDT-SWAP") == "BTCUSDT");
  CHECK(mi::okx::swap_symbol("BTC-USDT").empty());
  CHECK(mi::okx::swap_symbol("BTC-USDT-250328").empty());
  mi::okx::derivatives_codec codec;
  auto err = codec.decode(R"({"event":"error","code":"60018","msg":"Wrong URL or channel:funding,instId:BTC"})", 0);
  REQUIRE_FALSE(err);
  CHECK(err.err().message.find("Wrong URL") != std::string::npos);
  // A liquidation of another instrument type of the same channel is not ours: nothing, no error.
  auto other = codec.decode(R"({"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[]],)"
                            R"("instId":"BTC-USD-250328","instType":"FUTURES"}]})",
                            0);
  CHECK_FALSE(other); // malformed JSON above: refused
  auto none = codec.decode(R"({"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[],)"
                           R"("instId":"BTC-USD-250328","instType":"FUTURES"}]})",
                           0);
  REQUIRE(none);
  CHECK(none->empty());
  for (const char* bad : {
         R"({"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":[{"markPx":"abc","ts":"1"}]})",
         R"({"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":[{"markPx":"1"}]})",
         R"({"arg":{"channel":"funding-rate","instId":"BTC-USDT"},"data":[{"fundingRate":"0.1","ts":"1"}]})",
         R"({"arg":{"channel":"open-interest","instId":"BTC-USDT-SWAP"},"data":"x"})",
       }) {
    CAPTURE(bad);
    CHECK_FALSE(codec.decode(bad, 0));
  }
}

TEST_CASE("okx-swap derivatives: one subscribe for the three channels of every instrument and SWAP liquidations") {
  CHECK(mi::okx::derivatives_subscribe_request({"BTC-USDT-SWAP"}) ==
        R"({"op":"subscribe","args":[{"channel":"funding-rate","instId":"BTC-USDT-SWAP"},{"channel":"mark-price",)"
        R"("instId":"BTC-USDT-SWAP"},{"channel":"open-interest","instId":"BTC-USDT-SWAP"},)"
        R"({"channel":"liquidation-orders","instType":"SWAP"}]})");
}
