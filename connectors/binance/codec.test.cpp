#include "connectors/binance/codec.hpp"

#include <doctest/doctest.h>

#include "tests/unit/fixtures.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "messages/codec.hpp"

namespace {

using mi::binance::codec;
using mi::binance::frame_events;
using mi::binance::stream_kind;

std::vector<std::string> fixture_lines(const std::string& name) { return mi::test::fixture_lines("binance", name); }

using mi::test::as_json_array;

mi::trade sample_trade() {
  mi::trade t;
  t.exchange = "binance";
  t.symbol = "BTCUSDT";
  t.base = "BTC";
  t.quote = "USDT";
  t.trade_id = "665076760";
  t.price = *mi::decimal::parse("58001.03");
  t.quantity = *mi::decimal::parse("0.086205");
  t.taker_side = mi::side::sell;
  t.ts_ns = 1'617'566'591'314'000'000;
  t.recv_ns = 7;
  return t;
}

} // namespace

TEST_CASE("every fixture frame decodes, and trades match trades.expected.jsonl exactly") {
  const auto frames = fixture_lines("trades.jsonl");
  const auto expected = fixture_lines("trades.expected.jsonl");
  if (frames.empty())
    return;
  REQUIRE(frames.size() == expected.size());
  codec c;
  std::size_t compared = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CAPTURE(i + 1);
    CAPTURE(frames[i]);
    auto r = c.decode(frames[i], 123);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->what == frame_events::kind::trades);
    for (const auto& t : r->trades)
      CHECK(t.recv_ns == 123);
    for (const auto& t : r->trades) { // the number read once by the codec, equal to the text id
      REQUIRE(t.id_number);
      CHECK(*t.id_number == std::stoll(t.trade_id)); // the value (Coinbase also sends "000000000")
    }
    if (expected[i] == "null")
      continue;
    CHECK(as_json_array(r->trades) == expected[i]);
    ++compared;
  }
  CHECK(compared > 20);
}

TEST_CASE("2019 @trade frames with b/a order ids use t as the trade id and T as the time") {
  codec c;
  auto r =
    c.decode(R"({"stream":"bnbbtc@trade","data":{"e":"trade","E":1567296001038,"s":"BNBBTC","t":60276726,)"
             R"("p":"0.00219650","q":"6.48000000","b":255533165,"a":255532831,"T":1567296001034,"m":true,"M":true}})",
             0);
  REQUIRE(r.has_value());
  REQUIRE(r->trades.size() == 1);
  const auto& t = r->trades[0];
  CHECK(t.trade_id == "60276726");
  CHECK(t.ts_ns == 1'567'296'001'034'000'000);
  CHECK(t.taker_side == mi::side::sell);
  CHECK(t.base == "BNB");
  CHECK(t.quote == "BTC");
  CHECK(t.price.to_string() == "0.0021965");
}

TEST_CASE("every control frame decodes without error") {
  const auto lines = fixture_lines("control.jsonl");
  codec c;
  for (const auto& line : lines) {
    CAPTURE(line);
    auto r = c.decode(line, 0);
    CHECK_MESSAGE(r.has_value(), (r ? std::string() : r.err().message));
    if (r)
      CHECK(r->trades.empty());
  }
}

TEST_CASE("acks carry their id, in either key order, whatever the result") {
  codec c;
  for (const char* frame : {R"({"result":null,"id":1})", R"({"id":1,"result":null})"}) {
    auto r = c.decode(frame, 0);
    REQUIRE(r.has_value());
    CHECK(r->what == frame_events::kind::ack);
    CHECK(r->ack_id == 1);
  }
  auto list = c.decode(R"({"result":["btcusdt@aggTrade"],"id":3})", 0);
  REQUIRE(list.has_value());
  CHECK(list->what == frame_events::kind::ack);
  CHECK(list->ack_id == 3);
  auto string_id = c.decode(R"({"result":null,"id":"abc"})", 0);
  REQUIRE(string_id.has_value());
  CHECK(string_id->what == frame_events::kind::ack);
  CHECK_FALSE(string_id->ack_id.has_value());
}

TEST_CASE("error frames give kind::error with code and message") {
  codec c;
  auto r = c.decode(R"({"code":2,"msg":"Invalid request: invalid stream"})", 0);
  REQUIRE(r.has_value());
  CHECK(r->what == frame_events::kind::error);
  CHECK(r->error_message == "code 2: Invalid request: invalid stream");
  auto nested = c.decode(R"({"id":5,"error":{"code":1,"msg":"Invalid value type: expected Boolean"}})", 0);
  REQUIRE(nested.has_value());
  CHECK(nested->what == frame_events::kind::error);
  CHECK(nested->error_message == "code 1: Invalid value type: expected Boolean");
}

TEST_CASE("serverShutdown is recognized raw and combined") {
  codec c;
  for (const char* frame : {R"({"e":"serverShutdown","E":1770123456789})",
                            R"({"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}})"}) {
    auto r = c.decode(frame, 0);
    REQUIRE(r.has_value());
    CHECK(r->what == frame_events::kind::server_shutdown);
  }
}

TEST_CASE("requests and other events are ignored, not errors") {
  codec c;
  for (const char* frame : {R"({"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1})",
                            R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1","2"]],"a":[]})",
                            R"({"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT"}})",
                            R"({"e":"24hrTicker","E":1,"s":"BTCUSDT","p":"-1.5","a":"58000.1","q":"123.4"})",
                            R"({"stream":"x","data":5})", R"({})"}) {
    CAPTURE(frame);
    auto r = c.decode(frame, 0);
    REQUIRE(r.has_value());
    CHECK(r->what == frame_events::kind::ignored);
    CHECK(r->trades.empty());
  }
}

TEST_CASE("bad input gives an error naming the reason") {
  codec c;
  const std::string good_head = R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,)";
  struct row {
    std::string frame;
    std::string reason;
  };
  const std::vector<row> rows = {
    {"hello", "not JSON"},
    {"", "not JSON"},
    {R"({"e":"trade",)", "not JSON"},
    {"[1,2]", "not JSON"},
    {good_head + R"("q":"1","T":1,"m":true})", "missing field 'p'"},
    {good_head + R"("p":"1","T":1,"m":true})", "missing field 'q'"},
    {good_head + R"("p":"1","q":"1","m":true})", "missing field 'T'"},
    {R"({"e":"aggTrade","s":"BTCUSDT","p":"1","q":"1","T":1,"m":true})", "missing field 'a'"},
    {good_head + R"("p":"0","q":"1","T":1,"m":true})", "price must be > 0"},
    {good_head + R"("p":"0.000","q":"1","T":1,"m":true})", "price must be > 0"},
    {good_head + R"("p":"1","q":"-0.5","T":1,"m":true})", "quantity must be > 0"},
    {good_head + R"("p":"abc","q":"1","T":1,"m":true})", "field 'p' is not a decimal"},
    {good_head + R"("p":1.5,"q":"1","T":1,"m":true})", "field 'p' must be a string"},
    {good_head + R"("p":"1","q":"1","T":"x","m":true})", "field 'T' must be an integer"},
    {good_head + R"("p":"1","q":"1","T":1,"m":"yes"})", "field 'm' must be true or false"},
    {R"({"e":"trade","E":1,"s":"FOOBAR","t":5,"p":"1","q":"1","T":1,"m":true})", "unknown symbol 'FOOBAR'"},
    {good_head + R"("p":"1","q":"1","T":1,"m":true,"t":-1})", "field 't' must be >= 0"},
  };
  for (const auto& [frame, reason] : rows) {
    CAPTURE(frame);
    auto r = c.decode(frame, 0);
    REQUIRE_FALSE(r.has_value());
    CHECK_MESSAGE(r.err().message.find(reason) != std::string::npos, r.err().message);
  }
  // The codec keeps working after errors.
  auto ok = c.decode(good_head + R"("p":"1","q":"1","T":1,"m":true})", 0);
  CHECK(ok.has_value());
}

TEST_CASE("symbols resolve through exchangeInfo metadata before the suffix fallback") {
  mi::binance::instruments meta;
  meta.add({"FOOBAR", "FOO", "BAR", true});
  codec c(&meta);
  auto r = c.decode(R"({"e":"trade","E":1,"s":"FOOBAR","t":5,"p":"1","q":"2","T":1,"m":false})", 0);
  REQUIRE(r.has_value());
  REQUIRE(r->trades.size() == 1);
  CHECK(r->trades[0].base == "FOO");
  CHECK(r->trades[0].quote == "BAR");
  CHECK(r->trades[0].taker_side == mi::side::buy);
  auto fallback = c.decode(R"({"e":"trade","E":1,"s":"ETHBTC","t":5,"p":"1","q":"2","T":1,"m":false})", 0);
  REQUIRE(fallback.has_value());
  CHECK(fallback->trades[0].base == "ETH");
}

TEST_CASE("timeUnit=MICROSECOND frames scale T by 1000") {
  codec c;
  c.set_time_unit_microseconds(true);
  auto r = c.decode(R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1","q":"2","T":1672515782136123,"m":false})", 0);
  REQUIRE(r.has_value());
  CHECK(r->trades[0].ts_ns == 1'672'515'782'136'123'000);
}

TEST_CASE("aggTrade replay: 1910 frames decode and ids are consecutive per symbol") {
  const auto lines = fixture_lines("aggTrade_stream_2021-04-04.jsonl");
  if (lines.empty())
    return;
  CHECK(lines.size() == 1910);
  codec c;
  std::map<std::string, long long> last_id;
  std::map<std::string, std::size_t> count;
  std::size_t gaps = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto r = c.decode(lines[i], 0);
    REQUIRE_MESSAGE(r.has_value(), "line " << i + 1 << ": " << r.err().message);
    REQUIRE(r->trades.size() == 1);
    const auto& t = r->trades[0];
    const long long id = std::stoll(t.trade_id);
    auto it = last_id.find(t.symbol);
    if (it != last_id.end() && id != it->second + 1)
      ++gaps;
    last_id[t.symbol] = id;
    ++count[t.symbol];
  }
  CHECK(gaps == 0);
  CHECK(count["BTCUSDT"] == 1227);
  CHECK(count["ETHUSDT"] == 506);
  CHECK(count["DOTUSDT"] == 177);
}

TEST_CASE("stream names are lower case with the stream suffix") {
  CHECK(mi::binance::stream_name("BTCUSDT", stream_kind::trade) == "btcusdt@trade");
  CHECK(mi::binance::stream_name("ETHBTC", stream_kind::agg_trade) == "ethbtc@aggTrade");
}

TEST_CASE("subscribe_requests chunks params and numbers ids") {
  std::vector<std::string> streams;
  for (int i = 0; i < 5; ++i)
    streams.push_back("s" + std::to_string(i) + "@trade");
  auto reqs = mi::binance::subscribe_requests(streams, 10, 2);
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0] == R"({"method":"SUBSCRIBE","params":["s0@trade","s1@trade"],"id":10})");
  CHECK(reqs[1] == R"({"method":"SUBSCRIBE","params":["s2@trade","s3@trade"],"id":11})");
  CHECK(reqs[2] == R"({"method":"SUBSCRIBE","params":["s4@trade"],"id":12})");
  CHECK(mi::binance::subscribe_requests({}, 1).empty());
  CHECK(mi::binance::subscribe_requests(streams, 1).size() == 1);
  // Our own request decodes as ignored (it is not an ack).
  codec c;
  auto r = c.decode(reqs[0], 0);
  REQUIRE(r.has_value());
  CHECK(r->what == frame_events::kind::ignored);
}

TEST_CASE("plan_connections keeps every stream, at most the limit per connection") {
  std::vector<std::string> streams;
  for (int i = 0; i < 2500; ++i)
    streams.push_back("s" + std::to_string(i) + "@trade");
  auto plan = mi::binance::plan_connections(streams);
  REQUIRE(plan.size() == 3);
  CHECK(plan[0].size() == 1024);
  CHECK(plan[1].size() == 1024);
  CHECK(plan[2].size() == 452);
  CHECK(plan[0].front() == "s0@trade");
  CHECK(plan[2].back() == "s2499@trade");
  CHECK(mi::binance::plan_connections({}).empty());
}

TEST_CASE("send_pacer allows 5 sends per second, then says how long to wait") {
  mi::binance::send_pacer pacer;
  const std::int64_t t0 = 1'000'000'000'000;
  for (int i = 0; i < 5; ++i)
    CHECK(pacer.try_send(t0 + i * 1'000'000) == 0);
  CHECK(pacer.try_send(t0 + 10'000'000) == 990'000'000); // the first send leaves the window at t0 + 1 s
  CHECK(pacer.try_send(t0 + 999'999'999) == 1);
  CHECK(pacer.try_send(t0 + 1'000'000'000) == 0); // one slot freed
  CHECK(pacer.try_send(t0 + 1'000'000'000) > 0);  // and taken
  CHECK(pacer.try_send(t0 + 2'100'000'000) == 0);
}

TEST_CASE("encode_trade_frame produces Binance frames that decode back to the trade") {
  const mi::trade t = sample_trade();
  CHECK(mi::binance::encode_trade_frame(t, stream_kind::trade, false) ==
        R"({"e":"trade","E":1617566591314,"s":"BTCUSDT","t":665076760,"p":"58001.03","q":"0.086205",)"
        R"("T":1617566591314,"m":true,"M":true})");
  CHECK(mi::binance::encode_trade_frame(t, stream_kind::agg_trade, true) ==
        R"({"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1617566591314,"s":"BTCUSDT","a":665076760,)"
        R"("p":"58001.03","q":"0.086205","f":665076760,"l":665076760,"T":1617566591314,"m":true,"M":true}})");
  codec c;
  for (auto k : {stream_kind::trade, stream_kind::agg_trade}) {
    for (bool combined : {false, true}) {
      for (auto side : {mi::side::buy, mi::side::sell}) {
        mi::trade x = t;
        x.taker_side = side;
        auto r = c.decode(mi::binance::encode_trade_frame(x, k, combined), x.recv_ns);
        REQUIRE(r.has_value());
        REQUIRE(r->trades.size() == 1);
        CHECK(r->trades[0] == x);
      }
    }
  }
}
