#include "connectors/kraken/codec.hpp"

#include <doctest/doctest.h>

#include "tests/unit/fixtures.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "messages/codec.hpp"

namespace {

using mi::kraken::codec;
using mi::kraken::frame_events;

std::vector<std::string> fixture_lines(const std::string& name) { return mi::test::fixture_lines("kraken", name); }

using mi::test::as_json_array;

std::string v2_frame(const std::string& price, const std::string& qty, const std::string& extra = "") {
  return R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":)" + price +
         R"(,"qty":)" + qty + R"(,"ord_type":"market","trade_id":1,"timestamp":"2023-10-06T17:35:56.123456Z")" + extra +
         "}]}";
}

} // namespace

TEST_CASE("v2 fixture frames decode, and trades match trades.expected.jsonl exactly") {
  const auto frames = fixture_lines("trades.jsonl");
  const auto expected = fixture_lines("trades.expected.jsonl");
  if (frames.empty())
    return;
  REQUIRE(frames.size() == expected.size());
  codec c;
  std::size_t compared = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CAPTURE(i + 1);
    auto r = c.decode(frames[i], 5);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->what == frame_events::kind::trades);
    for (const auto& t : r->trades)
      CHECK(t.recv_ns == 5);
    for (const auto& t : r->trades) { // the number read once by the codec, equal to the text id
      REQUIRE(t.id_number);
      CHECK(*t.id_number == std::stoll(t.trade_id)); // the value (Coinbase also sends "000000000")
    }
    if (expected[i] == "null")
      continue;
    CHECK(as_json_array(r->trades) == expected[i]);
    ++compared;
  }
  CHECK(compared == 2);
  auto forty = c.decode(frames[1], 0); // "qty":40.0
  REQUIRE(forty.has_value());
  CHECK(forty->trades[0].quantity.to_string() == "40");
}

TEST_CASE("v1 fixture frames decode, all fields but the synthesized id match, ids distinct and stable") {
  const auto frames = fixture_lines("v1/trades.jsonl");
  const auto expected = fixture_lines("v1/trades.expected.jsonl");
  if (frames.empty())
    return;
  REQUIRE(frames.size() == expected.size());
  codec c;
  std::set<std::string> ids;
  std::size_t trades = 0, compared = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CAPTURE(i + 1);
    auto r = c.decode(frames[i], 0);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->what == frame_events::kind::trades);
    auto again = c.decode(frames[i], 0);
    REQUIRE(again.has_value());
    CHECK(again->trades == r->trades); // stable across decodes
    for (const auto& t : r->trades) {
      CHECK_FALSE(t.trade_id.empty());
      CHECK(!t.id_number); // a synthesized id is no number: no gap tracking on v1
      ids.insert(t.trade_id);
      ++trades;
    }
    if (expected[i] == "null")
      continue;
    std::vector<mi::trade> no_ids = r->trades;
    for (auto& t : no_ids)
      t.trade_id.clear();
    std::string got = as_json_array(no_ids);
    // trade_to_json prints an empty id as ""; the fixture has null for v1.
    for (std::string::size_type at; (at = got.find(R"("trade_id":"")")) != std::string::npos;)
      got.replace(at, 13, R"("trade_id":null)");
    CHECK(got == expected[i]);
    ++compared;
  }
  CHECK(ids.size() == trades);
  CHECK(trades == 15);
  CHECK(compared == 6);
}

TEST_CASE("v1 ids tell apart identical trades in one microsecond") {
  codec c;
  auto r = c.decode(R"([14,[["9482.40000","0.01","1561939258.512503","s","l",""],)"
                    R"(["9482.40000","0.01","1561939258.512503","s","l",""]],"trade","XBT/EUR"])",
                    0);
  REQUIRE(r.has_value());
  REQUIRE(r->trades.size() == 2);
  CHECK(r->trades[0].trade_id == "1561939258512503000-s-9482.4-0.01-0");
  CHECK(r->trades[1].trade_id == "1561939258512503000-s-9482.4-0.01-1");
  CHECK(r->trades[0].symbol == "BTCEUR");
  CHECK(r->trades[0].ts_ns == 1'561'939'258'512'503'000);
}

TEST_CASE("every control frame of both versions decodes without error, to the right kind") {
  codec c;
  std::size_t acks = 0, heartbeats = 0, errors = 0;
  for (const char* file : {"control.jsonl", "v1/control.jsonl"}) {
    for (const auto& line : fixture_lines(file)) {
      CAPTURE(line);
      auto r = c.decode(line, 0);
      REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.err().message));
      CHECK(r->trades.empty());
      acks += r->what == frame_events::kind::ack;
      heartbeats += r->what == frame_events::kind::heartbeat;
      errors += r->what == frame_events::kind::error;
    }
  }
  if (acks == 0)
    return; // fixtures absent
  CHECK(acks == 2 + 3);
  CHECK(heartbeats == 2 + 2);
  CHECK(errors == 1);
  auto e = c.decode(
    R"({"error":"Currency pair not supported XBT/USD","method":"subscribe","success":false,"symbol":"XBT/USD"})", 0);
  REQUIRE(e.has_value());
  CHECK(e->error_message == "Currency pair not supported XBT/USD");
  auto v1e =
    c.decode(R"({"errorMessage":"Currency pair not supported","event":"subscriptionStatus","status":"error"})", 0);
  REQUIRE(v1e.has_value());
  CHECK(v1e->what == frame_events::kind::error);
  CHECK(v1e->error_message == "Currency pair not supported");
}

TEST_CASE("v2 numbers are read from their text, exactly") {
  codec c;
  struct row {
    const char* price;
    const char* qty;
    const char* price_out;
    const char* qty_out;
  };
  for (const auto& [p, q, po, qo] :
       {row{"0.1", "1e-8", "0.1", "0.00000001"}, row{"105944.20", "0.00012460", "105944.2", "0.0001246"},
        row{"40.0", "40", "40", "40"}, row{"1.5E+3", "2.5e0", "1500", "2.5"},
        row{"123456789.123456789012", "0.30000000000000004", "123456789.123456789012", "0.30000000000000004"},
        row{"0.1 ", "\"0.2\"", "0.1", "0.2"}}) {
    CAPTURE(p);
    CAPTURE(q);
    auto r = c.decode(v2_frame(p, q), 0);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->trades[0].price.to_string() == po);
    CHECK(r->trades[0].quantity.to_string() == qo);
  }
}

TEST_CASE("v2 trades come out oldest first, by time then id") {
  codec c;
  auto r = c.decode(
    R"({"channel":"trade","type":"snapshot","data":[)"
    R"({"symbol":"XDG/USD","side":"buy","price":1,"qty":1,"trade_id":3,"timestamp":"2024-01-01T00:00:01Z"},)"
    R"({"symbol":"XDG/USD","side":"buy","price":1,"qty":1,"trade_id":2,"timestamp":"2024-01-01T00:00:00.5Z"},)"
    R"({"symbol":"XDG/USD","side":"buy","price":1,"qty":1,"trade_id":10,"timestamp":"2024-01-01T00:00:00.5Z"}]})",
    0);
  REQUIRE(r.has_value());
  REQUIRE(r->trades.size() == 3);
  CHECK(r->trades[0].trade_id == "2");
  CHECK(r->trades[1].trade_id == "10");
  CHECK(r->trades[2].trade_id == "3");
  CHECK(r->trades[0].symbol == "DOGEUSD");
}

TEST_CASE("other channels, events and our own requests are not trades") {
  codec c;
  for (
    const char* frame :
    {R"({"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":18125794168470749634}]})",
     R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1.0,"qty":0}],"asks":[]}]})",
     R"({"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"]}})",
     R"([42,{"a":["1","2","3"]},"ticker","XBT/USD"])",
     R"([42,["5698.4","5700.0","1542057299.545897","1.0","0.9"],"spread","XBT/USD"])",
     R"({"connectionID":18239578009413566319,"event":"systemStatus","status":"online","version":"1.8.3"})", R"({})"}) {
    CAPTURE(frame);
    auto r = c.decode(frame, 0);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->what == frame_events::kind::ignored);
  }
}

TEST_CASE("bad input gives an error naming the reason") {
  codec c;
  struct row {
    std::string frame;
    std::string reason;
  };
  const std::vector<row> rows = {
    {"hello", "not JSON"},
    {"", "not JSON"},
    {R"({"channel":"trade",)", "not JSON"},
    {v2_frame("0", "1"), "data[0]: price must be > 0"},
    {v2_frame("-1.5", "1"), "price must be > 0"},
    {v2_frame("1", "0.0"), "qty must be > 0"},
    {v2_frame("true", "1"), "field 'price' must be a number"},
    {v2_frame("1", "1", R"(,"side":"hold")"), "field 'side' must be buy or sell"},
    {R"({"channel":"trade","data":[{"symbol":"BTC/USD","side":"buy","price":1,"trade_id":1,"timestamp":"2024-01-01T00:00:00Z"}]})",
     "data[0]: missing field 'qty'"},
    {R"({"channel":"trade","data":[{"symbol":"BTC/USD","side":"buy","price":1,"qty":1,"trade_id":1,"timestamp":"yesterday"}]})",
     "field 'timestamp' is not an RFC 3339 time"},
    {R"({"channel":"trade","data":[{"symbol":"BTCUSD","side":"buy","price":1,"qty":1,"trade_id":1,"timestamp":"2024-01-01T00:00:00Z"}]})",
     "pair 'BTCUSD'"},
    {R"({"channel":"trade","data":[{"symbol":"BTC/USD","side":"buy","price":1,"qty":1,"trade_id":-4,"timestamp":"2024-01-01T00:00:00Z"}]})",
     "field 'trade_id' must be a non-negative integer"},
    {R"({"channel":"trade","data":5})", "field 'data' must be an array"},
    {R"([1,[["1","1","1618678142.557535","x","l",""]],"trade","XBT/USD"])", "trade 0: side must be \"b\" or \"s\""},
    {R"([1,[["0","1","1618678142.557535","b","l",""]],"trade","XBT/USD"])", "price must be > 0"},
    {R"([1,[["1","-1","1618678142.557535","b","l",""]],"trade","XBT/USD"])", "volume must be > 0"},
    {R"([1,[["1","1","1618678142,5","b","l",""]],"trade","XBT/USD"])", "time is not \"seconds.fraction\""},
    {R"([1,[["1","1"]],"trade","XBT/USD"])", "must have [price, volume, time, side"},
    {R"([1,[["1","1","1618678142.5","b"]],"trade"])", "v1 trade frame without a pair"},
    {R"([1,2])", "v1 frame must be"},
  };
  for (const auto& [frame, reason] : rows) {
    CAPTURE(frame);
    auto r = c.decode(frame, 0);
    REQUIRE_FALSE(r.has_value());
    CHECK_MESSAGE(r.err().message.find(reason) != std::string::npos, r.err().message);
  }
  CHECK(c.decode(v2_frame("1", "1"), 0).has_value()); // still works after errors
}

TEST_CASE("subscribe requests in v2 and v1 form") {
  CHECK(mi::kraken::subscribe_request({"BTC/USD"}) ==
        R"({"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"]}})");
  CHECK(mi::kraken::v1_subscribe_request({"XBT/USD", "XDG/USD"}) ==
        R"({"event":"subscribe","pair":["XBT/USD","XDG/USD"],"subscription":{"name":"trade"}})");
}

TEST_CASE("encode_trade_frame gives a v2 frame that decodes back to the trade") {
  mi::trade t;
  t.exchange = "kraken";
  t.symbol = "BTCUSD";
  t.base = "BTC";
  t.quote = "USD";
  t.trade_id = "10218209";
  t.price = *mi::decimal::parse("105910.50");
  t.quantity = *mi::decimal::parse("0.00012460");
  t.taker_side = mi::side::sell;
  t.ts_ns = 1'696'613'756'123'456'000;
  t.recv_ns = 3;
  CHECK(mi::kraken::encode_trade_frame(t) ==
        R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":105910.5,)"
        R"("qty":0.0001246,"ord_type":"market","trade_id":10218209,"timestamp":"2023-10-06T17:35:56.123456Z"}]})");
  codec c;
  for (auto side : {mi::side::buy, mi::side::sell}) {
    for (const char* qty : {"0.00000001", "12345678901234.5", "40"}) {
      mi::trade x = t;
      x.taker_side = side;
      x.quantity = *mi::decimal::parse(qty);
      auto r = c.decode(mi::kraken::encode_trade_frame(x), x.recv_ns);
      REQUIRE_MESSAGE(r.has_value(), r.err().message);
      REQUIRE(r->trades.size() == 1);
      CHECK(r->trades[0] == x);
    }
  }
}
