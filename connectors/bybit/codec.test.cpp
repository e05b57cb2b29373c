#include "connectors/bybit/codec.hpp"

#include <doctest/doctest.h>

#include "tests/unit/fixtures.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "messages/codec.hpp"

namespace {

using mi::bybit::codec;
using mi::bybit::frame_events;

std::vector<std::string> fixture_lines(const std::string& name) { return mi::test::fixture_lines("bybit", name); }

using mi::test::as_json_array;

mi::trade sample_trade() {
  mi::trade t;
  t.exchange = "bybit";
  t.symbol = "BTCUSDT";
  t.base = "BTC";
  t.quote = "USDT";
  t.trade_id = "2290000001189048101";
  t.price = *mi::decimal::parse("65140.5");
  t.quantity = *mi::decimal::parse("0.002705");
  t.taker_side = mi::side::buy;
  t.ts_ns = 1'786'310'822'605'000'000;
  t.recv_ns = 7;
  return t;
}

const std::string trade_head = R"({"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[)";

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
    CHECK_FALSE(r->trades.empty());
    for (const auto& t : r->trades)
      CHECK(t.recv_ns == 123);
    for (const auto& t : r->trades) // the number read once by the codec (spot ids are digits), equal to the text id
      if (t.trade_id.find_first_not_of("0123456789") == std::string::npos) {
        REQUIRE(t.id_number);
        CHECK(*t.id_number == std::stoll(t.trade_id)); // the value (Coinbase also sends "000000000")
      } else {
        CHECK(!t.id_number);
      }
    if (expected[i] == "null")
      continue;
    CHECK(as_json_array(r->trades) == expected[i]);
    ++compared;
  }
  CHECK(compared >= 10);
}

TEST_CASE("every control frame decodes without error, acks, pongs and failures are classified") {
  const auto lines = fixture_lines("control.jsonl");
  if (lines.empty())
    return;
  codec c;
  std::vector<frame_events::kind> kinds;
  for (const auto& line : lines) {
    CAPTURE(line);
    auto r = c.decode(line, 0);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->trades.empty());
    kinds.push_back(r->what);
  }
  using k = frame_events::kind;
  CHECK(kinds == std::vector<k>{k::ignored, k::ignored, k::ack, k::ignored, k::pong, k::error});
}

TEST_CASE("acks, pongs and failures carry req_id and the reason") {
  codec c;
  auto ack = c.decode(R"({"success":true,"ret_msg":"subscribe","conn_id":"x","req_id":"7","op":"subscribe"})", 0);
  REQUIRE(ack.has_value());
  CHECK(ack->what == frame_events::kind::ack);
  CHECK(ack->req_id == "7");
  auto pong = c.decode(R"({"success":true,"ret_msg":"pong","conn_id":"xxxxx-xx","req_id":"100001","op":"ping"})", 0);
  REQUIRE(pong.has_value());
  CHECK(pong->what == frame_events::kind::pong);
  CHECK(pong->req_id == "100001");
  auto linear_pong = c.decode(R"({"req_id":"1","op":"pong","args":["1675418560633"],"conn_id":"c"})", 0);
  REQUIRE(linear_pong.has_value());
  CHECK(linear_pong->what == frame_events::kind::pong);
  auto fail =
    c.decode(R"({"success":false,"ret_msg":"Invalid topic: invalid.topic.BTCUSDT","conn_id":"c","op":"subscribe"})", 0);
  REQUIRE(fail.has_value());
  CHECK(fail->what == frame_events::kind::error);
  CHECK(fail->error_message == "subscribe failed: Invalid topic: invalid.topic.BTCUSDT");
}

TEST_CASE("other topics and our own requests are ignored, not errors") {
  codec c;
  for (
    const char* frame :
    {R"({"op":"subscribe","args":["publicTrade.BTCUSDT"]})", R"({"req_id":"100001","op":"ping"})",
     R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["1","2"]],"a":[],"u":1,"seq":2}})",
     R"({"topic":"kline.1.BTCUSDT","type":"snapshot","ts":1,"data":[{"start":1,"end":2,"interval":"1","open":"1"}]})",
     R"({"topic":"tickers.BTCUSDT","ts":1,"type":"snapshot","data":{"symbol":"BTCUSDT","lastPrice":"1"}})", R"({})"}) {
    CAPTURE(frame);
    auto r = c.decode(frame, 0);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    CHECK(r->what == frame_events::kind::ignored);
    CHECK(r->trades.empty());
  }
}

TEST_CASE("a frame with several trades gives all of them, oldest first, S as the taker side") {
  codec c;
  auto r = c.decode(trade_head + R"({"i":"12","T":1000,"p":"2","v":"1","S":"Sell","s":"BTCUSDT","BT":false},)"
                                 R"({"i":"11","T":1000,"p":"1","v":"1","S":"Buy","s":"BTCUSDT","BT":false},)"
                                 R"({"i":"9","T":1001,"p":"3","v":"1","S":"Buy","s":"BTCUSDT","BT":false}]})",
                    5);
  REQUIRE_MESSAGE(r.has_value(), r.err().message);
  REQUIRE(r->trades.size() == 3);
  CHECK(r->trades[0].trade_id == "11");
  CHECK(r->trades[0].taker_side == mi::side::buy);
  CHECK(r->trades[1].trade_id == "12");
  CHECK(r->trades[1].taker_side == mi::side::sell);
  CHECK(r->trades[2].trade_id == "9");
  CHECK(r->trades[2].ts_ns == 1'001'000'000);
  CHECK(r->trades[2].recv_ns == 5);
}

TEST_CASE("a UUID trade id (derivatives) has no number, a spot id of digits has its value") {
  codec c;
  auto r = c.decode(trade_head + R"({"i":"c3b0e7a2-9f1d-4e55-8a0b-3f6c2d1e9a77","T":1000,"p":"2","v":"1","S":"Sell",)"
                                 R"("s":"BTCUSDT","BT":false},{"i":"2290000001189048101","T":1001,"p":"2","v":"1",)"
                                 R"("S":"Buy","s":"BTCUSDT","BT":false}]})",
                    1);
  REQUIRE_MESSAGE(r.has_value(), r.err().message);
  REQUIRE(r->trades.size() == 2);
  CHECK(r->trades[0].trade_id == "c3b0e7a2-9f1d-4e55-8a0b-3f6c2d1e9a77");
  CHECK(!r->trades[0].id_number);
  CHECK(r->trades[1].id_number == 2'290'000'001'189'048'101);
}

TEST_CASE("symbols resolve through instruments-info metadata before the suffix fallback") {
  mi::bybit::instruments meta;
  meta.add({"FOOBAR", "FOO", "BAR", true});
  codec c(&meta);
  auto r =
    c.decode(R"({"topic":"publicTrade.FOOBAR","data":[{"i":"1","T":1,"p":"1","v":"2","S":"Buy","s":"FOOBAR"}]})", 0);
  REQUIRE_MESSAGE(r.has_value(), r.err().message);
  CHECK(r->trades[0].base == "FOO");
  CHECK(r->trades[0].quote == "BAR");
  auto fallback =
    c.decode(R"({"topic":"publicTrade.ETHUSDC","data":[{"i":"1","T":1,"p":"1","v":"2","S":"Buy","s":"ETHUSDC"}]})", 0);
  REQUIRE(fallback.has_value());
  CHECK(fallback->trades[0].base == "ETH");
  CHECK(fallback->trades[0].quote == "USDC");
}

TEST_CASE("bad input gives an error naming the reason") {
  const std::string good = R"("i":"5","s":"BTCUSDT")";
  struct row {
    std::string frame;
    std::string reason;
  };
  const std::vector<row> rows = {
    {"hello", "not JSON"},
    {"", "not JSON"},
    {"pong", "not JSON"},
    {R"({"topic":"publicTrade.BTCUSDT",)", "not JSON"},
    {"[1,2]", "not JSON"},
    {trade_head + "{" + good + R"(,"T":1,"v":"1","S":"Buy"}]})", "data[0]: missing field 'p'"},
    {trade_head + "{" + good + R"(,"T":1,"p":"1","S":"Buy"}]})", "missing field 'v'"},
    {trade_head + "{" + good + R"(,"T":1,"p":"1","v":"1"}]})", "missing field 'S'"},
    {trade_head + "{" + good + R"(,"p":"1","v":"1","S":"Buy"}]})", "missing field 'T'"},
    {trade_head + R"({"s":"BTCUSDT","T":1,"p":"1","v":"1","S":"Buy"}]})", "missing field 'i'"},
    {trade_head + R"({"i":"5","T":1,"p":"1","v":"1","S":"Buy"}]})", "missing field 's'"},
    {trade_head + "{" + good + R"(,"T":1,"p":"0","v":"1","S":"Buy"}]})", "price must be > 0"},
    {trade_head + "{" + good + R"(,"T":1,"p":"0.00","v":"1","S":"Buy"}]})", "price must be > 0"},
    {trade_head + "{" + good + R"(,"T":1,"p":"1","v":"-0.5","S":"Buy"}]})", "size must be > 0"},
    {trade_head + "{" + good + R"(,"T":1,"p":"abc","v":"1","S":"Buy"}]})", "field 'p' is not a decimal"},
    {trade_head + "{" + good + R"(,"T":1,"p":1.5,"v":"1","S":"Buy"}]})", "field 'p' must be a string"},
    {trade_head + "{" + good + R"(,"T":"1","p":"1","v":"1","S":"Buy"}]})", "field 'T' must be an integer"},
    {trade_head + "{" + good + R"(,"T":-1,"p":"1","v":"1","S":"Buy"}]})", "field 'T' out of range"},
    {trade_head + "{" + good + R"(,"T":1,"p":"1","v":"1","S":"buy"}]})", "field 'S' must be"},
    {trade_head + R"({"i":"5","s":"FOOBAZ","T":1,"p":"1","v":"1","S":"Buy"}]})", "unknown symbol 'FOOBAZ'"},
    {trade_head + "7]}", "data[0]: not an object"},
    {R"({"topic":"publicTrade.BTCUSDT","ts":1})", "missing field 'data'"},
  };
  codec c;
  for (const auto& [frame, reason] : rows) {
    CAPTURE(frame);
    auto r = c.decode(frame, 0);
    REQUIRE_FALSE(r.has_value());
    CHECK_MESSAGE(r.err().message.find(reason) != std::string::npos, r.err().message);
  }
  auto ok = c.decode(trade_head + "{" + good + R"(,"T":1,"p":"1","v":"1","S":"Buy"}]})", 0);
  CHECK(ok.has_value());
}

TEST_CASE("subscribe_requests sends at most 10 topics per request and numbers req_ids") {
  CHECK(mi::bybit::topic_name("btcusdt") == "publicTrade.BTCUSDT");
  std::vector<std::string> topics;
  for (int i = 0; i < 23; ++i)
    topics.push_back(mi::bybit::topic_name("C" + std::to_string(i) + "USDT"));
  auto reqs = mi::bybit::subscribe_requests(topics, 100);
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].starts_with(R"({"req_id":"100","op":"subscribe","args":["publicTrade.C0USDT",)"));
  CHECK(reqs[2] == R"({"req_id":"102","op":"subscribe","args":["publicTrade.C20USDT","publicTrade.C21USDT",)"
                   R"("publicTrade.C22USDT"]})");
  CHECK(mi::bybit::subscribe_requests(topics, 1, 0).size() == 23);
  CHECK(mi::bybit::subscribe_requests({}, 1).empty());
  codec c;
  auto r = c.decode(reqs[0], 0);
  REQUIRE(r.has_value());
  CHECK(r->what == frame_events::kind::ignored);
}

TEST_CASE("heartbeat pings every 20 s and times out 20 s after an unanswered ping") {
  constexpr std::int64_t s = 1'000'000'000;
  CHECK(mi::bybit::ping_request("100001") == R"({"req_id":"100001","op":"ping"})");
  mi::bybit::heartbeat hb;
  const std::int64_t t0 = 1'000 * s;
  CHECK_FALSE(hb.ping_due(t0)); // starts the clock
  hb.on_received(t0 + 5 * s);   // traffic does not delay Bybit pings
  CHECK_FALSE(hb.ping_due(t0 + 19 * s));
  CHECK(hb.ping_due(t0 + 20 * s));
  CHECK_FALSE(hb.ping_due(t0 + 21 * s));
  hb.on_received(t0 + 21 * s); // the pong
  CHECK_FALSE(hb.timed_out(t0 + 60 * s));
  CHECK(hb.ping_due(t0 + 40 * s));
  CHECK_FALSE(hb.timed_out(t0 + 59 * s));
  CHECK(hb.timed_out(t0 + 60 * s));
}

TEST_CASE("encode_trade_frame produces Bybit frames that decode back to the trade") {
  const mi::trade t = sample_trade();
  CHECK(mi::bybit::encode_trade_frame(t) ==
        R"({"topic":"publicTrade.BTCUSDT","ts":1786310822605,"type":"snapshot","data":[{"i":"2290000001189048101",)"
        R"("T":1786310822605,"p":"65140.5","v":"0.002705","S":"Buy","s":"BTCUSDT","BT":false,"RPI":false}]})");
  codec c;
  for (auto side : {mi::side::buy, mi::side::sell}) {
    for (const char* id : {"1", "2290000001189048101", "0b1d2c3e-uuid"}) {
      mi::trade x = t;
      x.taker_side = side;
      x.trade_id = id;
      auto r = c.decode(mi::bybit::encode_trade_frame(x), x.recv_ns);
      REQUIRE_MESSAGE(r.has_value(), r.err().message);
      REQUIRE(r->trades.size() == 1);
      CHECK(r->trades[0] == x);
    }
  }
}
