#include "connectors/decode_driver.hpp"

#include <doctest/doctest.h>

#include <sstream>

TEST_CASE("decode_lines prints good trades, reports malformed lines by number, and goes on") {
  std::istringstream in(
    R"({"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true})"
    "\n"
    "not json\n"
    R"({"result":null,"id":1})"
    "\n"
    "\n"
    R"({"e":"trade","E":1,"s":"BTCUSDT","t":1,"q":"1","T":1,"m":true})"
    "\r\n"
    R"({"stream":"nknusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}})"
    "\n");
  std::ostringstream out, err;
  auto r = mi::connectors::decode_lines("binance", in, out, err);
  REQUIRE(r.has_value());
  CHECK(
    out.str() ==
    R"({"exchange":"binance","symbol":"BNBBTC","base":"BNB","quote":"BTC","trade_id":"12345","price":"0.001","quantity":"100","side":"sell","ts_ns":1672515782136000000})"
    "\n"
    R"({"exchange":"binance","symbol":"NKNUSDT","base":"NKN","quote":"USDT","trade_id":"15683430","price":"0.3528","quantity":"58","side":"buy","ts_ns":1633998523963000000})"
    "\n");
  CHECK(err.str() == "line 2: not JSON: expected one object\nline 5: missing field 'p'\n");
  CHECK(r->lines == 6);
  CHECK(r->frames_ok == 3);
  CHECK(r->trades == 2);
  CHECK(r->errors == 2);
}

TEST_CASE("decode_lines rejects an unsupported exchange") {
  std::istringstream in("{}\n");
  std::ostringstream out, err;
  auto r = mi::connectors::decode_lines("nasdaq", in, out, err);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.err().message.find("unsupported exchange 'nasdaq'") != std::string::npos);
}

TEST_CASE("decode_lines dispatches okx and bybit frames to their codecs") {
  std::istringstream okx_in(
    R"({"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"338476307","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"}]})"
    "\npong\n");
  std::ostringstream okx_out, okx_err;
  auto okx = mi::connectors::decode_lines("okx", okx_in, okx_out, okx_err);
  REQUIRE(okx.has_value());
  CHECK(
    okx_out.str() ==
    R"({"exchange":"okx","symbol":"BTCUSDT","base":"BTC","quote":"USDT","trade_id":"338476307","price":"30236","quantity":"0.0002","side":"buy","ts_ns":1652459224818000000})"
    "\n");
  CHECK(okx->frames_ok == 2);
  CHECK(okx_err.str().empty());

  std::istringstream bybit_in(
    R"({"topic":"publicTrade.ETHUSDT","ts":1786310821917,"type":"snapshot","data":[{"i":"2280000001739247417","T":1786310821917,"p":"1923.28","v":"0.04537","S":"Sell","seq":178477362706,"s":"ETHUSDT","BT":false,"RPI":false}]})"
    "\n");
  std::ostringstream bybit_out, bybit_err;
  auto bybit = mi::connectors::decode_lines("bybit", bybit_in, bybit_out, bybit_err);
  REQUIRE(bybit.has_value());
  CHECK(
    bybit_out.str() ==
    R"({"exchange":"bybit","symbol":"ETHUSDT","base":"ETH","quote":"USDT","trade_id":"2280000001739247417","price":"1923.28","quantity":"0.04537","side":"sell","ts_ns":1786310821917000000})"
    "\n");
  CHECK(bybit->trades == 1);
}
