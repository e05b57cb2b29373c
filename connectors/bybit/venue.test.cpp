#include <doctest/doctest.h>

#include "connectors/venue/test_support.hpp"

using namespace mi::venue;
using namespace mi::venue::test;

namespace {

constexpr std::int64_t s_ns = 1'000'000'000;

const char* const instruments_body = R"({"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[)"
                                     R"({"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT","status":"Trading"},)"
                                     R"({"symbol":"ETHUSDT","baseCoin":"ETH","quoteCoin":"USDT","status":"Trading"},)"
                                     R"({"symbol":"OLDUSDT","baseCoin":"OLD","quoteCoin":"USDT","status":"Closed"}]}})";

} // namespace

TEST_CASE("bybit resolve: publicTrade topic and REST symbol, listing checked once instruments are loaded") {
  auto v = must_make("bybit");
  CHECK(v->instruments_request() == rest_request{"/v5/market/instruments-info?category=spot"});
  CHECK(must_resolve(*v, "BTC/USDT") ==
        subscription{"BTC/USDT", "BTCUSDT", "BTC", "USDT", "publicTrade.BTCUSDT", "BTCUSDT"});
  CHECK_FALSE(v->resolve("BTC").has_value());
  auto err = v->load_instruments(R"({"retCode":10006,"retMsg":"Too many visits","result":{}})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message.find("bybit instruments") == 0);
  CHECK(err.err().message.find("10006") != std::string::npos);
  auto n = v->load_instruments(instruments_body);
  REQUIRE(n.has_value());
  CHECK(*n == 3);
  CHECK(v->resolve("ETH/USDT").has_value());
  CHECK(v->resolve("XYZ/USDT").err().message == "XYZ/USDT: not listed by bybit");
  CHECK(v->resolve("OLD/USDT").err().message == "OLD/USDT: listed by bybit but not trading");
}

TEST_CASE("bybit subscribe_requests: at most 10 topics per request, req_ids continue") {
  auto v = must_make("bybit");
  std::vector<subscription> subs;
  for (int i = 0; i < 25; ++i)
    subs.push_back(must_resolve(*v, "A" + std::to_string(i) + "/USDT"));
  auto msgs = v->subscribe_requests(subs);
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].find(R"("req_id":"1")") != std::string::npos);
  CHECK(msgs[2].find(R"("req_id":"3")") != std::string::npos);
  CHECK(
    msgs[2].find(
      R"(["publicTrade.A20USDT","publicTrade.A21USDT","publicTrade.A22USDT","publicTrade.A23USDT","publicTrade.A24USDT"])") !=
    std::string::npos);
  for (const auto& m : msgs) {
    std::size_t topics = 0;
    for (auto at = m.find("publicTrade."); at != std::string::npos; at = m.find("publicTrade.", at + 1))
      ++topics;
    CHECK(topics <= 10);
  }
}

TEST_CASE("bybit decode: captured trades, acks, pongs, errors with the rejected symbol") {
  auto v = must_make("bybit");
  const std::size_t compared = replay_trade_fixture(*v, "bybit");
  if (!mi::test::fixture_lines("bybit", "trades.jsonl").empty())
    CHECK(compared > 0);
  kind_counts c = replay_control_fixture(*v, "bybit");
  if (!mi::test::fixture_lines("bybit", "control.jsonl").empty()) {
    CHECK(c.ack == 1);
    CHECK(c.heartbeat == 1);
    CHECK(c.error == 1);
  }
  auto err = v->decode(
    R"({"success":false,"ret_msg":"Invalid topic :[publicTrade.XYZUSDT]","conn_id":"c1","req_id":"2","op":"subscribe"})",
    0);
  REQUIRE(err.has_value());
  CHECK(err->what == events::kind::error);
  CHECK(err->rejected == "XYZUSDT");
  CHECK(err->message.find("Invalid topic") != std::string::npos);
  auto other = v->decode(R"({"success":false,"ret_msg":"Invalid topic: invalid.topic.BTCUSDT","op":"subscribe"})", 0);
  REQUIRE(other.has_value());
  CHECK(other->rejected.empty());
}

TEST_CASE("bybit heartbeat: {\"op\":\"ping\"} every 20 s whatever the traffic, dead 20 s after an unanswered one") {
  auto v = must_make("bybit");
  v->on_open(100 * s_ns);
  v->on_frame(105 * s_ns);
  CHECK_FALSE(v->ping_due(119 * s_ns).has_value());
  auto ping = v->ping_due(120 * s_ns);
  REQUIRE(ping.has_value());
  CHECK(*ping == R"({"req_id":"1","op":"ping"})");
  CHECK_FALSE(v->ping_due(121 * s_ns).has_value());
  CHECK_FALSE(v->heartbeat_timed_out(139 * s_ns));
  v->on_frame(122 * s_ns); // pong
  auto second = v->ping_due(140 * s_ns);
  REQUIRE(second.has_value());
  CHECK(*second == R"({"req_id":"2","op":"ping"})");
  CHECK_FALSE(v->heartbeat_timed_out(159 * s_ns));
  CHECK(v->heartbeat_timed_out(160 * s_ns));
}

TEST_CASE("bybit: no history by id, recent trades polled instead, oldest first") {
  auto v = must_make("bybit");
  CHECK_FALSE(v->sequential_ids());
  CHECK(v->rest_min_interval_ns() == 100'000'000);
  const subscription s = must_resolve(*v, "BTC/USDT");
  CHECK_FALSE(v->history_request(s, gap{1, 2, 0, 0}).has_value());
  CHECK_FALSE(v->parse_history(s, gap{1, 2, 0, 0}, "[]").has_value());
  CHECK(v->recent_request(s) == rest_request{"/v5/market/recent-trade?category=spot&symbol=BTCUSDT&limit=60"});
  const std::string body =
    R"({"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[)"
    R"({"execId":"2100000000007764264","symbol":"BTCUSDT","price":"16618.50","size":"0.5","side":"Sell","time":"1672052955759","isBlockTrade":false},)"
    R"({"execId":"2100000000007764263","symbol":"BTCUSDT","price":"16618.49","size":"0.00012","side":"Buy","time":"1672052955758","isBlockTrade":false}]},)"
    R"("retExtInfo":{},"time":1672053054358})";
  auto r = v->parse_recent(s, body);
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].trade_id == "2100000000007764263");
  CHECK((*r)[1].trade_id == "2100000000007764264");
  // The same trade from the WS push is identical.
  auto ws = v->decode(
    R"({"topic":"publicTrade.BTCUSDT","ts":1672052955758,"type":"snapshot","data":[)"
    R"({"i":"2100000000007764263","T":1672052955758,"p":"16618.49","v":"0.00012","S":"Buy","s":"BTCUSDT","BT":false}]})",
    0);
  REQUIRE(ws.has_value());
  REQUIRE(ws->trades.size() == 1);
  CHECK(ws->trades[0] == (*r)[0]);
  auto err = v->parse_recent(s, R"({"retCode":10001,"retMsg":"Not supported symbols","result":{}})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "bybit recent trades: retCode 10001: Not supported symbols");
}
