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
  CHECK(out.str() ==
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
