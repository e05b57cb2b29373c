#include "connectors/bybit/rest.hpp"

#include <doctest/doctest.h>

#include "connectors/bybit/codec.hpp"

namespace {

const mi::bybit::instrument btcusdt{"BTCUSDT", "BTC", "USDT", true};

} // namespace

TEST_CASE("recent-trade: newest-first list comes out oldest first, identical to the publicTrade push") {
  const std::string body =
    R"({"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[)"
    R"({"execId":"2100000000007764264","symbol":"BTCUSDT","price":"16618.50","size":"0.5","side":"Sell","time":"1672052955759","isBlockTrade":false},)"
    R"({"execId":"2100000000007764263","symbol":"BTCUSDT","price":"16618.49","size":"0.00012","side":"Buy","time":"1672052955758","isBlockTrade":false}]},)"
    R"("retExtInfo":{},"time":1672053054358})";
  auto r = mi::bybit::parse_recent_trades(body, btcusdt);
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].trade_id == "2100000000007764263");
  CHECK((*r)[0].taker_side == mi::side::buy);
  CHECK((*r)[0].ts_ns == 1672052955758000000);
  CHECK((*r)[1].trade_id == "2100000000007764264");
  CHECK((*r)[1].price.to_string() == "16618.5");
  CHECK((*r)[1].taker_side == mi::side::sell);

  mi::bybit::codec codec;
  auto ws = codec.decode(
    R"({"topic":"publicTrade.BTCUSDT","ts":1672052955758,"type":"snapshot","data":[)"
    R"({"i":"2100000000007764263","T":1672052955758,"p":"16618.49","v":"0.00012","S":"Buy","s":"BTCUSDT","BT":false}]})",
    0);
  REQUIRE(ws.has_value());
  REQUIRE(ws->trades.size() == 1);
  CHECK(ws->trades[0] == (*r)[0]);
}

TEST_CASE("recent-trade: retCode errors and bad trades are errors naming the cause") {
  auto err =
    mi::bybit::parse_recent_trades(R"({"retCode":10001,"retMsg":"Not supported symbols","result":{}})", btcusdt);
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "retCode 10001: Not supported symbols");
  auto neg = mi::bybit::parse_recent_trades(
    R"({"retCode":0,"retMsg":"OK","result":{"list":[{"execId":"5","price":"-1","size":"1","side":"Buy","time":"1"}]}})",
    btcusdt);
  REQUIRE_FALSE(neg.has_value());
  CHECK(neg.err().message == "list[0] (execId 5): price must be > 0, not \"-1\"");
  auto no_time = mi::bybit::parse_recent_trades(
    R"({"retCode":0,"retMsg":"OK","result":{"list":[{"execId":"5","price":"1","size":"1","side":"Buy"}]}})", btcusdt);
  REQUIRE_FALSE(no_time.has_value());
  CHECK(no_time.err().message == "list[0]: missing field 'time'");
}
