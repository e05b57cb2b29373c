#include "connectors/okx/rest.hpp"

#include <doctest/doctest.h>

#include "connectors/okx/codec.hpp"

TEST_CASE("instruments: live SPOT instruments only, in the codec's spelling") {
  const std::string body =
    R"({"code":"0","msg":"","data":[)"
    R"({"instType":"SPOT","instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":"USDT","state":"live"},)"
    R"({"instType":"SPOT","instId":"OLD-USDT","baseCcy":"OLD","quoteCcy":"USDT","state":"suspend"},)"
    R"({"instType":"SWAP","instId":"BTC-USDT-SWAP","state":"live"},)"
    R"({"instType":"SPOT","instId":"ETH-BTC","baseCcy":"ETH","quoteCcy":"BTC","state":"live"}]})";
  auto r = mi::okx::parse_instruments(body);
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0] == mi::okx::instrument{"BTC-USDT", "BTCUSDT", "BTC", "USDT"});
  CHECK((*r)[1] == mi::okx::instrument{"ETH-BTC", "ETHBTC", "ETH", "BTC"});
  auto err = mi::okx::parse_instruments(R"({"code":"51001","msg":"Instrument ID does not exist","data":[]})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "code 51001: Instrument ID does not exist");
  auto no_id = mi::okx::parse_instruments(R"({"code":"0","msg":"","data":[{"instType":"SPOT"}]})");
  REQUIRE_FALSE(no_id.has_value());
  CHECK(no_id.err().message == "data[0]: missing field 'instId'");
}

TEST_CASE("history-trades: newest-first page comes out oldest first, identical to the WS trades push") {
  const std::string body =
    R"({"code":"0","msg":"","data":[)"
    R"({"instId":"BTC-USDT","side":"sell","sz":"0.2","px":"101.50","source":"0","tradeId":"130639475","ts":"1630048897898"},)"
    R"({"instId":"BTC-USDT","side":"buy","sz":"0.1","px":"100","source":"0","tradeId":"130639474","ts":"1630048897897"}]})";
  auto r = mi::okx::parse_trades(body);
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].trade_id == "130639474");
  CHECK((*r)[0].taker_side == mi::side::buy);
  CHECK((*r)[0].ts_ns == 1630048897897000000);
  CHECK((*r)[1].trade_id == "130639475");
  CHECK((*r)[1].price.to_string() == "101.5");
  CHECK((*r)[1].taker_side == mi::side::sell);

  mi::okx::codec codec;
  auto ws = codec.decode(
    R"({"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[)"
    R"({"instId":"BTC-USDT","tradeId":"130639474","px":"100","sz":"0.1","side":"buy","ts":"1630048897897","count":"1"}]})",
    0);
  REQUIRE(ws.has_value());
  REQUIRE(ws->trades.size() == 1);
  CHECK(ws->trades[0] == (*r)[0]);
}

TEST_CASE("history-trades: error responses and bad trades are errors naming the cause") {
  auto err = mi::okx::parse_trades(R"({"code":"51001","msg":"Instrument ID does not exist","data":[]})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "code 51001: Instrument ID does not exist");
  auto zero = mi::okx::parse_trades(
    R"({"code":"0","msg":"","data":[{"instId":"BTC-USDT","side":"buy","sz":"0","px":"100","tradeId":"9","ts":"1"}]})");
  REQUIRE_FALSE(zero.has_value());
  CHECK(zero.err().message == "data[0] (tradeId 9): size must be > 0, not \"0\"");
  auto side = mi::okx::parse_trades(
    R"({"code":"0","msg":"","data":[{"instId":"BTC-USDT","side":"x","sz":"1","px":"100","tradeId":"9","ts":"1"}]})");
  REQUIRE_FALSE(side.has_value());
  CHECK(side.err().message.find("'side'") != std::string::npos);
  CHECK_FALSE(mi::okx::parse_trades("nope").has_value());
}
