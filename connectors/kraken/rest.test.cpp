#include "connectors/kraken/rest.hpp"

#include <doctest/doctest.h>

#include "connectors/kraken/codec.hpp"

namespace {

mi::kraken::instrument btcusd() { return *mi::kraken::from_unified("BTC/USD"); }

} // namespace

TEST_CASE("AssetPairs: online pairs through their wsname (XBT -> BTC, XDG -> DOGE) with the REST altname") {
  auto r = mi::kraken::parse_asset_pairs(
    R"({"error":[],"result":{)"
    R"("XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","base":"XXBT","quote":"ZUSD","status":"online"},)"
    R"("XXBTZUSD.d":{"altname":"XBTUSD.d","base":"XXBT","quote":"ZUSD"},)"
    R"("XDGUSD":{"altname":"XDGUSD","wsname":"XDG/USD","base":"XXDG","quote":"ZUSD","status":"online"},)"
    R"("OLDUSD":{"altname":"OLDUSD","wsname":"OLD/USD","base":"OLD","quote":"ZUSD","status":"delisted"}}})");
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].inst.symbol == "BTCUSD");
  CHECK((*r)[0].inst.base == "BTC");
  CHECK((*r)[0].altname == "XBTUSD");
  CHECK((*r)[1].inst.symbol == "DOGEUSD");
  CHECK((*r)[1].altname == "XDGUSD");
  auto err = mi::kraken::parse_asset_pairs(R"({"error":["EQuery:Unknown asset pair"]})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "EQuery:Unknown asset pair");
}

TEST_CASE("Trades: numbers parsed from their text, identical to the WS v2 trade frame") {
  const std::string body =
    R"({"error":[],"result":{"XXBTZUSD":[)"
    R"(["30243.40000","0.34507674",1688669597.827736,"b","m","",61044952],)"
    R"(["30243.50000","0.10000000",1688669598.1,"s","l","",61044953]],"last":"1688669598100000000"}})";
  auto r = mi::kraken::parse_trades(body, btcusd());
  REQUIRE(r.has_value());
  CHECK(r->last == "1688669598100000000");
  REQUIRE(r->trades.size() == 2);
  const mi::trade& t = r->trades[0];
  CHECK(t.exchange == "kraken");
  CHECK(t.symbol == "BTCUSD");
  CHECK(t.trade_id == "61044952");
  CHECK(t.price.to_string() == "30243.4");
  CHECK(t.quantity.to_string() == "0.34507674");
  CHECK(t.taker_side == mi::side::buy);
  CHECK(t.ts_ns == 1'688'669'597'827'736'000); // through a double: 1688669597827735808
  CHECK(r->trades[1].ts_ns == 1'688'669'598'100'000'000);
  CHECK(r->trades[1].taker_side == mi::side::sell);

  mi::kraken::codec codec;
  auto ws = codec.decode(
    R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":30243.4,)"
    R"("qty":0.34507674,"ord_type":"market","trade_id":61044952,"timestamp":"2023-07-06T18:53:17.827736Z"}]})",
    0);
  REQUIRE(ws.has_value());
  REQUIRE(ws->trades.size() == 1);
  CHECK(ws->trades[0] == t);
}

TEST_CASE("Trades: error responses and bad trades are errors naming the cause") {
  auto err = mi::kraken::parse_trades(R"({"error":["EQuery:Unknown asset pair"]})", btcusd());
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "EQuery:Unknown asset pair");
  auto zero = mi::kraken::parse_trades(
    R"({"error":[],"result":{"XXBTZUSD":[["0.00000","1",1688669597.827736,"b","m","",7]],"last":"1"}})", btcusd());
  REQUIRE_FALSE(zero.has_value());
  CHECK(zero.err().message == "trade[0] (id 7): price must be > 0, not \"0.00000\"");
  auto no_id = mi::kraken::parse_trades(
    R"({"error":[],"result":{"XXBTZUSD":[["1","1",1688669597.827736,"b","m",""]],"last":"1"}})", btcusd());
  REQUIRE_FALSE(no_id.has_value());
  CHECK(no_id.err().message.find("trade id") != std::string::npos);
  CHECK_FALSE(mi::kraken::parse_trades("[", btcusd()).has_value());
}
