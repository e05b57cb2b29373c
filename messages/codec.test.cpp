#include "messages/codec.hpp"

#include <doctest/doctest.h>

namespace {
mi::trade sample_trade() {
  mi::trade t;
  t.exchange = "binance";
  t.symbol = "BNBBTC";
  t.base = "BNB";
  t.quote = "BTC";
  t.trade_id = "40756030";
  t.price = *mi::decimal::parse("0.00426990");
  t.quantity = *mi::decimal::parse("33.82");
  t.taker_side = mi::side::buy;
  t.ts_ns = 1554076800940000000;
  t.recv_ns = 1554076800950000000;
  return t;
}
} // namespace

TEST_CASE("trade JSON line is the decode format of DESIGN.md, keys in order") {
  CHECK(mi::trade_to_json(sample_trade()) ==
        R"({"exchange":"binance","symbol":"BNBBTC","base":"BNB","quote":"BTC","trade_id":"40756030",)"
        R"("price":"0.0042699","quantity":"33.82","side":"buy","ts_ns":1554076800940000000})");
}

TEST_CASE("trade JSON round trips") {
  auto t = sample_trade();
  t.recv_ns = 0; // not part of the line format
  auto back = mi::trade_from_json(mi::trade_to_json(t));
  REQUIRE(back.has_value());
  CHECK(*back == t);
}

TEST_CASE("trade JSON errors name the problem") {
  CHECK(mi::trade_from_json("{").err().message.find("not JSON") == 0);
  CHECK(mi::trade_from_json("[]").err().message == "not a JSON object");
  CHECK(mi::trade_from_json(R"({"exchange":"binance"})").err().message == "missing field 'symbol'");
  auto line = mi::trade_to_json(sample_trade());
  auto bad_price = line;
  bad_price.replace(bad_price.find("0.0042699"), 9, "1e999999");
  CHECK(mi::trade_from_json(bad_price).err().message.find("'price' is not a decimal") != std::string::npos);
}

TEST_CASE("trade protobuf round trips exactly, receive time included") {
  auto t = sample_trade();
  auto back = mi::decode_trade_pb(mi::encode_trade_pb(t));
  REQUIRE(back.has_value());
  CHECK(*back == t);
  CHECK(!mi::decode_trade_pb("\xff\xff\xff").has_value());
}

TEST_CASE("kline protobuf and JSON round trip") {
  mi::kline k;
  k.exchange = "binance";
  k.symbol = "BTCUSDT";
  k.interval = "1m";
  k.open_time_ms = 1617566580000;
  k.close_time_ms = 1617566639999;
  k.open = *mi::decimal::parse("58001.03");
  k.high = *mi::decimal::parse("58010");
  k.low = *mi::decimal::parse("57990.5");
  k.close = *mi::decimal::parse("58000");
  k.volume = *mi::decimal::parse("12.345678");
  k.quote_volume = *mi::decimal::parse("716049.123456789");
  k.trade_count = 42;
  k.taker_buy_volume = *mi::decimal::parse("6");
  k.taker_buy_quote_volume = *mi::decimal::parse("348000.1");
  k.vwap = *mi::decimal::parse("58000.123");
  k.first_trade_id = "665076760";
  k.last_trade_id = "665076801";
  k.is_final = true;
  k.revision = 1;
  auto pb = mi::decode_kline_pb(mi::encode_kline_pb(k));
  REQUIRE(pb.has_value());
  CHECK(*pb == k);
  auto js = mi::kline_from_json(mi::kline_to_json(k));
  REQUIRE(js.has_value());
  CHECK(*js == k);
  CHECK(mi::kline_subject(k) == "market.kline.binance.BTCUSDT.1m");
  CHECK(mi::partial_subject(k) == "market.partial.binance.BTCUSDT.1m");
  CHECK(mi::dedup_id(k) == "binance:BTCUSDT:1m:1617566580000:1");
}

TEST_CASE("trade ids: set_id and the wire decoders give the number beside the text, once") {
  mi::trade t;
  t.set_id(std::int64_t{665076760});
  CHECK(t.trade_id == "665076760");
  CHECK(t.id_number == 665076760);
  t.set_id(std::uint64_t{18'446'744'073'709'551'615ULL}); // beyond int64: text only
  CHECK(t.trade_id == "18446744073709551615");
  CHECK(!t.id_number);
  t.set_id(std::string("2290000001189048101"));
  CHECK(t.id_number == 2'290'000'001'189'048'101);
  for (const char* text : {"", "-1", "1e3", "c3b0e7a2-9f1d-4e55-8a0b-3f6c2d1e9a77", "9223372036854775808"}) {
    CAPTURE(text);
    t.set_id(text);
    CHECK(t.trade_id == text);
    CHECK(!t.id_number);
  }
  // protobuf and JSON (decode/aggregate) carry the text; their decoders set the number.
  mi::trade s = sample_trade();
  s.id_number.reset();
  auto pb = mi::decode_trade_pb(mi::encode_trade_pb(s));
  REQUIRE(pb);
  CHECK(pb->id_number == 40756030);
  auto js = mi::trade_from_json(mi::trade_to_json(s));
  REQUIRE(js);
  CHECK(js->id_number == 40756030);
}

TEST_CASE("trade ids order numerically when both are numbers") {
  CHECK(mi::compare_trade_ids("9", "10") < 0);
  CHECK(mi::compare_trade_ids("10", "10") == 0);
  CHECK(mi::compare_trade_ids("007", "7") == 0);
  CHECK(mi::compare_trade_ids("abc", "abd") < 0);
}

TEST_CASE("sort_oldest_first: oldest first frames stay, newest first frames reverse, ties keep their order") {
  auto make = [](std::string id, std::int64_t ts, std::string recv_tag) {
    mi::trade t = sample_trade();
    t.trade_id = std::move(id);
    t.ts_ns = ts;
    t.recv_ns = static_cast<std::int64_t>(recv_tag.size()); // tells equal trades apart
    return t;
  };
  auto ids = [](const std::vector<mi::trade>& ts) {
    std::string out;
    for (const auto& t : ts)
      out += t.trade_id + "/" + std::to_string(t.recv_ns) + " ";
    return out;
  };
  std::vector<mi::trade> newest_first = {make("12", 30, "a"), make("11", 20, "a"), make("10", 20, "a"),
                                         make("9", 10, "a")};
  mi::sort_oldest_first(newest_first);
  CHECK(ids(newest_first) == "9/1 10/1 11/1 12/1 ");
  // Equal (time, id) neighbours: not strictly newest first, so the stable sort keeps their order.
  std::vector<mi::trade> ties = {make("12", 30, "a"), make("10", 20, "first"), make("10", 20, "second!"),
                                 make("9", 10, "a")};
  mi::sort_oldest_first(ties);
  CHECK(ids(ties) == "9/1 10/5 10/7 12/1 ");
  std::vector<mi::trade> mixed = {make("2", 10, "a"), make("1", 10, "a"), make("3", 10, "a")};
  mi::sort_oldest_first(mixed);
  CHECK(ids(mixed) == "1/1 2/1 3/1 ");
  std::vector<mi::trade> one = {make("1", 10, "a")};
  mi::sort_oldest_first(one);
  CHECK(ids(one) == "1/1 ");
}
