#include "connectors/coinbase/rest.hpp"

#include <doctest/doctest.h>

#include "connectors/coinbase/codec.hpp"

namespace {

const mi::coinbase::instrument btcusd{"BTCUSD", "BTC", "USD", "BTC-USD"};

} // namespace

TEST_CASE("products: online products only, named like product ids") {
  auto r =
    mi::coinbase::parse_products(R"([{"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD","status":"online"},)"
                                 R"({"id":"OLD-USD","base_currency":"OLD","quote_currency":"USD","status":"delisted"},)"
                                 R"({"id":"ETH-EUR","base_currency":"ETH","quote_currency":"EUR","status":"online"}])");
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0] == btcusd);
  CHECK((*r)[1].symbol == "ETHEUR");
  auto err = mi::coinbase::parse_products(R"({"message":"Internal server error"})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "Internal server error");
  CHECK(mi::coinbase::parse_products(R"([{"status":"online"}])").err().message == "product[0]: missing field 'id'");
}

TEST_CASE("trades: maker side becomes the taker side, times exact, identical to the market_trades channel") {
  const std::string body =
    R"([{"time":"2026-11-22T07:00:00.223456Z","trade_id":75,"price":"10.50000000","size":"0.02000000","side":"buy"},)"
    R"({"time":"2026-11-22T07:00:00.123456Z","trade_id":74,"price":"10.00000000","size":"0.01000000","side":"sell"}])";
  auto r = mi::coinbase::parse_trades(body, btcusd);
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 2);
  const mi::trade& t = (*r)[0];
  CHECK(t.trade_id == "74");
  CHECK(t.taker_side == mi::side::buy); // the maker sold
  CHECK(t.price.to_string() == "10");
  CHECK(t.quantity.to_string() == "0.01");
  CHECK(t.ts_ns == 1'795'330'800'123'456'000);
  CHECK((*r)[1].trade_id == "75");
  CHECK((*r)[1].taker_side == mi::side::sell);

  mi::coinbase::codec codec;
  auto ws = codec.decode(
    R"({"channel":"market_trades","client_id":"","timestamp":"2026-11-22T07:00:00.2Z","sequence_num":3,)"
    R"("events":[{"type":"update","trades":[{"trade_id":"74","product_id":"BTC-USD","price":"10.00000000",)"
    R"("size":"0.01000000","side":"SELL","time":"2026-11-22T07:00:00.123456Z"}]}]})",
    0);
  REQUIRE(ws.has_value());
  REQUIRE(ws->trades.size() == 1);
  CHECK(ws->trades[0] == t);
}

TEST_CASE("trades: error bodies and bad trades are errors naming the cause") {
  auto err = mi::coinbase::parse_trades(R"({"message":"NotFound"})", btcusd);
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "NotFound");
  auto zero = mi::coinbase::parse_trades(
    R"([{"time":"2026-11-22T07:00:00Z","trade_id":9,"price":"0","size":"1","side":"buy"}])", btcusd);
  REQUIRE_FALSE(zero.has_value());
  CHECK(zero.err().message == "trade[0] (trade_id 9): price must be > 0, not \"0\"");
  auto bad_time =
    mi::coinbase::parse_trades(R"([{"time":"yesterday","trade_id":9,"price":"1","size":"1","side":"buy"}])", btcusd);
  REQUIRE_FALSE(bad_time.has_value());
  CHECK(bad_time.err().message.find("'time'") != std::string::npos);
}
