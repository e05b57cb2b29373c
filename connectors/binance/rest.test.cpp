#include "connectors/binance/rest.hpp"

#include <doctest/doctest.h>

#include "connectors/binance/codec.hpp"

namespace {

const mi::binance::instrument btcusdt{"BTCUSDT", "BTC", "USDT", true};

} // namespace

TEST_CASE("historicalTrades: trades oldest first, the same as the @trade stream decodes them") {
  const std::string body =
    R"([{"id":28458,"price":"4.00000200","qty":"1.00000000","quoteQty":"4.000002","time":1499865549591,"isBuyerMaker":false,"isBestMatch":true},)"
    R"({"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","time":1499865549590,"isBuyerMaker":true,"isBestMatch":true}])";
  auto r = mi::binance::parse_historical_trades(body, btcusdt);
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 2);
  const mi::trade& t = (*r)[0];
  CHECK(t.exchange == "binance");
  CHECK(t.symbol == "BTCUSDT");
  CHECK(t.base == "BTC");
  CHECK(t.quote == "USDT");
  CHECK(t.trade_id == "28457");
  CHECK(t.price.to_string() == "4.000001");
  CHECK(t.quantity.to_string() == "12");
  CHECK(t.taker_side == mi::side::sell);
  CHECK(t.ts_ns == 1499865549590000000);
  CHECK((*r)[1].trade_id == "28458");
  CHECK((*r)[1].taker_side == mi::side::buy);

  // The WS frame of the same trade decodes to the same trade (recv_ns aside).
  mi::binance::codec codec;
  auto ws = codec.decode(
    R"({"e":"trade","E":1499865549590,"s":"BTCUSDT","t":28457,"p":"4.00000100","q":"12.00000000","T":1499865549590,"m":true,"M":true})",
    0);
  REQUIRE(ws.has_value());
  REQUIRE(ws->trades.size() == 1);
  CHECK(ws->trades[0] == t);
}

TEST_CASE("aggTrades: trade_id is the aggregate id, the same as the @aggTrade stream") {
  const std::string body =
    R"([{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true}])";
  auto r = mi::binance::parse_agg_trades(body, btcusdt);
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 1);
  mi::binance::codec codec;
  auto ws = codec.decode(
    R"({"e":"aggTrade","E":1498793709153,"s":"BTCUSDT","a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true})",
    0);
  REQUIRE(ws.has_value());
  REQUIRE(ws->trades.size() == 1);
  CHECK(ws->trades[0] == (*r)[0]);
  CHECK((*r)[0].trade_id == "26129");
}

TEST_CASE("historicalTrades: error bodies, malformed bodies and non-positive numbers are errors naming the cause") {
  auto invalid = mi::binance::parse_historical_trades(R"({"code":-1121,"msg":"Invalid symbol."})", btcusdt);
  REQUIRE_FALSE(invalid.has_value());
  CHECK(invalid.err().message == "code -1121: Invalid symbol.");
  CHECK_FALSE(mi::binance::parse_historical_trades("[{", btcusdt).has_value());
  CHECK(mi::binance::parse_historical_trades("[{", btcusdt).err().message.find("not JSON") == 0);
  auto missing =
    mi::binance::parse_historical_trades(R"([{"id":1,"price":"1","time":1,"isBuyerMaker":true}])", btcusdt);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.err().message == "trade[0]: missing field 'qty'");
  auto zero = mi::binance::parse_historical_trades(
    R"([{"id":7,"price":"0.000","qty":"1","time":1,"isBuyerMaker":true}])", btcusdt);
  REQUIRE_FALSE(zero.has_value());
  CHECK(zero.err().message == "trade[0] (id 7): price must be > 0, not \"0.000\"");
  auto negative_qty = mi::binance::parse_agg_trades(R"([{"a":8,"p":"1","q":"-2","T":1,"m":false}])", btcusdt);
  REQUIRE_FALSE(negative_qty.has_value());
  CHECK(negative_qty.err().message == "trade[0] (id 8): quantity must be > 0, not \"-2\"");
  auto empty = mi::binance::parse_historical_trades("[]", btcusdt);
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
}
