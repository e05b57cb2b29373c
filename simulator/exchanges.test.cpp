// The simulator speaking each exchange, against the platform's own codecs and client transport on loopback:
// what the client side (connectors/venue) will meet. Real sockets, no mocks.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "connectors/alpaca/codec.hpp"
#include "connectors/alpaca/rest.hpp"
#include "connectors/binance/codec.hpp"
#include "connectors/binance/instruments.hpp"
#include "connectors/bybit/codec.hpp"
#include "connectors/bybit/instruments.hpp"
#include "connectors/coinbase/codec.hpp"
#include "connectors/kraken/codec.hpp"
#include "connectors/okx/codec.hpp"
#include "connectors/time_text.hpp"
#include "connectors/transport/io_thread.hpp"
#include "messages/codec.hpp"
#include "messages/venue_registry.hpp"
#include "messages/util/civil_time.hpp"
#include "simulator/generator.hpp"
#include "simulator/protocols/protocol.hpp"
#include "simulator/simulator.hpp"
#include "simulator/test_client.hpp"
#include "tests/harness/process.hpp"

using namespace std::chrono_literals;
using mi::sim::test::raw_get;
using mi::sim::test::test_client;

namespace {

mi::sim::options opts(std::string exchange, double rate, std::uint64_t count, std::vector<std::string> symbols) {
  mi::sim::options o;
  o.exchange = std::move(exchange);
  o.rate = rate;
  o.count = count;
  o.symbols = std::move(symbols);
  return o;
}

std::string ws_base(const mi::sim::simulator& s) { return "ws://127.0.0.1:" + std::to_string(s.port()); }

std::vector<mi::trade> read_record(const std::string& path) {
  std::ifstream in(path);
  std::vector<mi::trade> out;
  for (std::string line; std::getline(in, line);) {
    auto t = mi::trade_from_json(line);
    REQUIRE_MESSAGE(t, line);
    out.push_back(*t);
  }
  return out;
}

std::vector<std::uint64_t> ids(const std::vector<mi::trade>& ts, const std::string& symbol = {}) {
  std::vector<std::uint64_t> out;
  for (const auto& t : ts)
    if (symbol.empty() || t.symbol == symbol)
      out.push_back(std::stoull(t.trade_id));
  return out;
}

std::vector<std::uint64_t> iota_ids(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> v;
  for (auto i = from; i <= to; ++i)
    v.push_back(i);
  return v;
}

/// Decodes every frame with `codec`; returns the trades, recv_ns cleared, and the kinds seen in order.
template <class Codec>
std::vector<mi::trade> decode_trades(Codec& codec, const std::vector<std::string>& texts) {
  std::vector<mi::trade> out;
  for (const auto& t : texts) {
    auto ev = codec.decode(t, 1);
    REQUIRE_MESSAGE(ev, t);
    for (auto tr : ev->trades) {
      tr.recv_ns = 0;
      out.push_back(std::move(tr));
    }
  }
  return out;
}

std::size_t count_containing(const std::vector<std::string>& texts, std::string_view needle) {
  return static_cast<std::size_t>(
    std::count_if(texts.begin(), texts.end(), [&](const auto& t) { return t.find(needle) != std::string::npos; }));
}

boost::json::value json(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  REQUIRE_MESSAGE(!ec, body);
  return v;
}

std::string field(const boost::json::value& v, const char* key) {
  const auto& x = v.at(key);
  return x.is_string() ? std::string(x.get_string()) : boost::json::serialize(x);
}

/// Ids of a JSON array of objects (field `key`, number or string).
std::vector<std::uint64_t> json_ids(const boost::json::array& a, const char* key) {
  std::vector<std::uint64_t> out;
  for (const auto& x : a)
    out.push_back(std::stoull(field(x, key)));
  return out;
}

std::vector<std::uint64_t> reversed(std::vector<std::uint64_t> v) {
  std::reverse(v.begin(), v.end());
  return v;
}

/// The fault command over HTTP.
mi::sim::test::http_answer fault(const mi::sim::simulator& s, const std::string& query) {
  return raw_get(s.port(), "/sim/fault?" + query);
}

} // namespace

// ---------------------------------------------------------------------------------------------- okx

TEST_CASE("okx: one ack per arg, 60018 for an unknown instId, trades decode to exactly the recorded ones") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/truth.jsonl";
  mi::net::io_thread io;
  std::vector<std::string> texts;
  {
    auto o = opts("okx", 2000, 60, {"BTCUSDT", "ETHUSDT"});
    o.record_file = path;
    mi::sim::simulator sim(io.context(), o);
    test_client c(io.context(), ws_base(sim) + "/ws/v5/public");
    REQUIRE(c.wait_open());
    c.ws().send(mi::okx::subscribe_requests({"BTC-USDT", "XYZ-USDT", "ETH-USDT"}).at(0));
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
    REQUIRE(c.wait_until([](const auto& v) { return count_containing(v, "\"tradeId\"") == 60; }));
    texts = c.texts();
  }
  REQUIRE(texts.size() == 63);
  CHECK(texts[0] == R"({"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"a4d3ae55"})");
  CHECK(
    texts[1] ==
    R"({"event":"error","code":"60018","msg":"Wrong URL or channel:trades,instId:XYZ-USDT doesn't exist. Please use the correct URL, channel and parameters referring to API document.","connId":"a4d3ae55"})");
  CHECK(texts[2] == R"({"event":"subscribe","arg":{"channel":"trades","instId":"ETH-USDT"},"connId":"a4d3ae55"})");
  mi::okx::codec codec;
  auto received = decode_trades(codec, texts);
  const auto recorded = read_record(path);
  CHECK(recorded.size() == 60);
  CHECK(received == recorded);
  CHECK(ids(received, "BTCUSDT") == iota_ids(1, ids(received, "BTCUSDT").size()));
  CHECK(ids(received, "ETHUSDT") == iota_ids(1, ids(received, "ETHUSDT").size()));
  for (const auto& t : received)
    CHECK(t.exchange == "okx");
}

TEST_CASE("okx: text ping gets pong - malformed requests get 60012 errors and the connection goes on") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts("okx", 0, 0, {"BTCUSDT"}));
  test_client c(io.context(), ws_base(sim) + "/ws/v5/public");
  REQUIRE(c.wait_open());
  c.ws().send("ping");
  c.ws().send("{not json");
  c.ws().send(R"({"op":"subscribe","args":"BTC-USDT"})");
  c.ws().send(R"({"op":"subscribe","args":[{"channel":"tickers","instId":"BTC-USDT"}]})");
  c.ws().send("ping");
  REQUIRE(c.wait_texts(5));
  const auto t = c.texts();
  CHECK(t[0] == "pong");
  CHECK(t[1].rfind(R"({"event":"error","code":"60012","msg":"Invalid request: {not json")", 0) == 0);
  CHECK(t[2].rfind(R"({"event":"error","code":"60012")", 0) == 0);
  CHECK(t[3].find(R"("code":"60018")") != std::string::npos);
  CHECK(t[4] == "pong");
  mi::okx::codec codec;
  CHECK(codec.decode(t[0], 1)->what == mi::okx::frame_events::kind::pong);
  CHECK(codec.decode(t[1], 1)->what == mi::okx::frame_events::kind::error);
}

TEST_CASE("okx REST: instruments list the live spot pairs - history-trades pages newest first with `after`") {
  mi::net::io_thread io;
  auto o = opts("okx", 5000, 250, {"BTCUSDT", "ETHUSDT"});
  o.reject = {"ETHUSDT"};
  mi::sim::simulator sim(io.context(), o);
  {
    test_client c(io.context(), ws_base(sim) + "/ws/v5/public");
    REQUIRE(c.wait_open());
    c.ws().send(mi::okx::subscribe_requests({"BTC-USDT", "ETH-USDT"}).at(0));
    REQUIRE(c.wait_texts(2));
    CHECK(c.texts()[1].find(R"("code":"60018")") != std::string::npos); // rejected symbol
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
  }
  auto inst = json(raw_get(sim.port(), "/api/v5/public/instruments?instType=SPOT").body);
  CHECK(field(inst, "code") == "0");
  const auto& data = inst.at("data").as_array();
  REQUIRE(data.size() == 1);
  CHECK(field(data[0], "instId") == "BTC-USDT");
  CHECK(field(data[0], "baseCcy") == "BTC");
  CHECK(field(data[0], "quoteCcy") == "USDT");
  CHECK(field(data[0], "state") == "live");

  const std::string base = "/api/v5/market/history-trades?instId=BTC-USDT&type=1";
  auto page1 = json(raw_get(sim.port(), base).body);
  CHECK(json_ids(page1.at("data").as_array(), "tradeId") == reversed(iota_ids(151, 250)));
  auto page2 = json(raw_get(sim.port(), base + "&after=151").body);
  CHECK(json_ids(page2.at("data").as_array(), "tradeId") == reversed(iota_ids(51, 150)));
  auto page3 = json(raw_get(sim.port(), base + "&after=51&limit=500").body); // limit capped at 100
  CHECK(json_ids(page3.at("data").as_array(), "tradeId") == reversed(iota_ids(1, 50)));
  CHECK(json(raw_get(sim.port(), base + "&after=1").body).at("data").as_array().empty());
  auto small = json(raw_get(sim.port(), base + "&after=100&limit=2").body).at("data").as_array();
  REQUIRE(small.size() == 2);
  CHECK(field(small[0], "tradeId") == "99");
  CHECK(field(small[0], "instId") == "BTC-USDT");
  CHECK(field(small[0], "source") == "0");
  CHECK((field(small[0], "side") == "buy" || field(small[0], "side") == "sell"));

  auto unknown = raw_get(sim.port(), "/api/v5/market/history-trades?instId=ETH-USDT");
  CHECK(unknown.status == 200);
  CHECK(unknown.body == R"({"code":"51001","msg":"Instrument ID does not exist","data":[]})");
  CHECK(raw_get(sim.port(), "/api/v3/exchangeInfo").status == 404); // not Binance
}

// ---------------------------------------------------------------------------------------------- bybit

TEST_CASE("bybit: subscribe ack, invalid topic and >10 args refused, ping/pong, trades equal the recorded ones") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/truth.jsonl";
  mi::net::io_thread io;
  std::vector<std::string> texts;
  {
    auto o = opts("bybit", 2000, 40, {"BTCUSDT"});
    o.record_file = path;
    mi::sim::simulator sim(io.context(), o);
    test_client c(io.context(), ws_base(sim) + "/v5/public/spot");
    REQUIRE(c.wait_open());
    c.ws().send(mi::bybit::ping_request("9"));
    c.ws().send("[1,2");
    std::vector<std::string> eleven(11, "publicTrade.BTCUSDT");
    c.ws().send(mi::bybit::subscribe_requests(eleven, 5, 11).at(0));
    c.ws().send(mi::bybit::subscribe_requests({"publicTrade.BTCUSDT", "publicTrade.XYZUSDT"}, 1).at(0));
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
    REQUIRE(c.wait_until([](const auto& v) { return count_containing(v, "\"topic\"") == 40; }));
    texts = c.texts();
  }
  REQUIRE(texts.size() == 44);
  CHECK(texts[0] == R"({"success":true,"ret_msg":"pong","conn_id":"cejreaspqfh3sjdn0000-p","req_id":"9","op":"ping"})");
  CHECK(
    texts[1] ==
    R"({"success":false,"ret_msg":"Invalid request: not JSON","conn_id":"cejreaspqfh3sjdn0000-p","req_id":"","op":""})");
  CHECK(
    texts[2] ==
    R"({"success":false,"ret_msg":"args size >10","conn_id":"cejreaspqfh3sjdn0000-p","req_id":"5","op":"subscribe"})");
  CHECK(
    texts[3] ==
    R"({"success":false,"ret_msg":"Invalid topic :[publicTrade.XYZUSDT]","conn_id":"cejreaspqfh3sjdn0000-p","req_id":"1","op":"subscribe"})");
  mi::bybit::codec codec;
  CHECK(codec.decode(texts[0], 1)->what == mi::bybit::frame_events::kind::pong);
  CHECK(codec.decode(texts[3], 1)->what == mi::bybit::frame_events::kind::error);
  auto received = decode_trades(codec, texts);
  CHECK(ids(received) == iota_ids(1, 40)); // the valid topic of the failed request still streams
  CHECK(received == read_record(path));
}

TEST_CASE("bybit REST: instruments-info parses with the platform's parser - recent-trade newest first, limit 1..60") {
  mi::net::io_thread io;
  auto o = opts("bybit", 5000, 100, {"BTCUSDT", "ETHBTC"});
  mi::sim::simulator sim(io.context(), o);
  {
    test_client c(io.context(), ws_base(sim) + "/v5/public/spot");
    REQUIRE(c.wait_open());
    c.ws().send(R"({"req_id":"1","op":"subscribe","args":["publicTrade.BTCUSDT"]})");
    REQUIRE(c.wait_texts(1));
    CHECK(c.texts()[0] ==
          R"({"success":true,"ret_msg":"subscribe","conn_id":"cejreaspqfh3sjdn0000-p","req_id":"1","op":"subscribe"})");
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
  }
  auto info = raw_get(sim.port(), "/v5/market/instruments-info?category=spot");
  auto meta = mi::bybit::instruments::from_instruments_info(info.body);
  REQUIRE_MESSAGE(meta, info.body);
  REQUIRE(meta->find("ETHBTC"));
  CHECK(meta->find("ETHBTC")->base == "ETH");
  CHECK(meta->find("ETHBTC")->quote == "BTC");

  const std::string base = "/v5/market/recent-trade?category=spot&symbol=BTCUSDT";
  auto one = json(raw_get(sim.port(), base).body);
  CHECK(field(one, "retCode") == "0");
  CHECK(json_ids(one.at("result").at("list").as_array(), "execId") == std::vector<std::uint64_t>{100});
  auto many = json(raw_get(sim.port(), base + "&limit=1000").body).at("result").at("list").as_array();
  CHECK(json_ids(many, "execId") == reversed(iota_ids(41, 100)));
  CHECK(field(many[0], "symbol") == "BTCUSDT");
  CHECK((field(many[0], "side") == "Buy" || field(many[0], "side") == "Sell"));
  CHECK(field(many[0], "isBlockTrade") == "false");
  auto unknown = json(raw_get(sim.port(), "/v5/market/recent-trade?category=spot&symbol=XYZUSDT").body);
  CHECK(field(unknown, "retCode") == "10001");
  CHECK(field(unknown, "retMsg") == "Not supported symbols");
}

// ---------------------------------------------------------------------------------------------- coinbase

TEST_CASE("coinbase: subscriptions frames, 1 s heartbeats with counters, sequence_num per message, maker-side trades") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/truth.jsonl";
  mi::net::io_thread io;
  std::vector<std::string> texts;
  {
    auto o = opts("coinbase", 2000, 30, {"BTCUSD", "ETHUSD"});
    o.record_file = path;
    o.heartbeat_interval = 200ms;
    mi::sim::simulator sim(io.context(), o);
    test_client c(io.context(), ws_base(sim) + "/");
    REQUIRE(c.wait_open());
    c.ws().send(mi::coinbase::subscribe_request({"BTC-USD", "XYZ-USD"}, "market_trades"));
    for (const auto& r : mi::coinbase::subscribe_requests({"BTC-USD"}))
      c.ws().send(r);
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
    REQUIRE(c.wait_until([](const auto& v) { return count_containing(v, "\"heartbeat_counter\"") >= 2; }));
    c.ws().send("nonsense");
    REQUIRE(c.wait_until([](const auto& v) { return count_containing(v, "failure to parse JSON") == 1; }));
    texts = c.texts();
  }
  CHECK(texts[0] == R"({"type":"error","message":"Failed to subscribe: Invalid product ID provided"})");
  CHECK(texts[1].find(R"("events":[{"subscriptions":{"market_trades":["BTC-USD"]}}])") != std::string::npos);
  CHECK(texts[2].find(R"("events":[{"subscriptions":{"market_trades":["BTC-USD"],"heartbeats":["BTC-USD"]}}])") !=
        std::string::npos);
  mi::coinbase::codec codec;
  CHECK(codec.decode(texts[0], 1)->what == mi::coinbase::frame_events::kind::error);
  CHECK(codec.decode(texts[1], 1)->what == mi::coinbase::frame_events::kind::ack);
  // sequence_num: 0, 1, 2, ... over every message of the connection (errors have none)
  std::int64_t expected = 0;
  std::vector<std::uint64_t> counters;
  for (const auto& t : texts) {
    if (t.rfind(R"({"type":"error")", 0) == 0)
      continue;
    auto v = json(t);
    CHECK(v.at("sequence_num").as_int64() == expected++);
    if (field(v, "channel") == "heartbeats")
      counters.push_back(std::stoull(field(v.at("events").at(0), "heartbeat_counter")));
    if (field(v, "channel") != "market_trades") {
      CHECK(mi::connectors::text::parse_rfc3339_ns(field(v, "timestamp")));
    }
  }
  REQUIRE(counters.size() >= 2);
  CHECK(counters == iota_ids(1, counters.size()));
  auto received = decode_trades(codec, texts);
  CHECK(ids(received) == iota_ids(1, 30)); // ETH-USD was never subscribed: nothing generated for it
  CHECK(received == read_record(path));    // the taker side survives the maker-side encoding
}

TEST_CASE("coinbase REST: /products - trades newest first paged with `after` and the CB-AFTER header - 404 unknown") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/truth.jsonl";
  mi::net::io_thread io;
  auto o = opts("coinbase", 3000, 30, {"BTCUSD"});
  o.record_file = path;
  o.first_id = 74;
  mi::sim::simulator sim(io.context(), o);
  {
    test_client c(io.context(), ws_base(sim) + "/ws");
    REQUIRE(c.wait_open());
    c.ws().send(mi::coinbase::subscribe_request({"BTC-USD"}, "market_trades"));
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
  }
  auto products = json(raw_get(sim.port(), "/products").body).as_array();
  REQUIRE(products.size() == 1);
  CHECK(field(products[0], "id") == "BTC-USD");
  CHECK(field(products[0], "base_currency") == "BTC");
  CHECK(field(products[0], "quote_currency") == "USD");
  CHECK(field(products[0], "status") == "online");

  auto p1 = raw_get(sim.port(), "/products/BTC-USD/trades?limit=10");
  CHECK(p1.status == 200);
  CHECK(json_ids(json(p1.body).as_array(), "trade_id") == reversed(iota_ids(94, 103)));
  CHECK(p1.headers["cb-after"] == "94");
  auto p2 = raw_get(sim.port(), "/products/BTC-USD/trades?limit=10&after=" + p1.headers["cb-after"]);
  CHECK(json_ids(json(p2.body).as_array(), "trade_id") == reversed(iota_ids(84, 93)));
  CHECK(p2.headers["cb-after"] == "84");
  auto p3 = raw_get(sim.port(), "/products/BTC-USD/trades?after=84");
  CHECK(json_ids(json(p3.body).as_array(), "trade_id") == reversed(iota_ids(74, 83)));
  auto p4 = raw_get(sim.port(), "/products/BTC-USD/trades?after=74");
  CHECK(p4.body == "[]");
  CHECK(p4.headers.count("cb-after") == 0);

  // every field against the truth: maker side, time with exactly 6 fraction digits
  const auto truth = read_record(path);
  REQUIRE(truth.size() == 30);
  auto all = json(raw_get(sim.port(), "/products/BTC-USD/trades").body).as_array();
  REQUIRE(all.size() == 30);
  for (std::size_t i = 0; i < 30; ++i) {
    const auto& t = truth[29 - i];
    const auto& x = all[i];
    CHECK(field(x, "trade_id") == t.trade_id);
    CHECK(mi::decimal::parse(field(x, "price")) == t.price);
    CHECK(mi::decimal::parse(field(x, "size")) == t.quantity);
    CHECK(field(x, "side") == (t.taker_side == mi::side::buy ? "sell" : "buy"));
    const auto time = field(x, "time");
    CHECK(time.size() == 27);
    CHECK(mi::connectors::text::parse_rfc3339_ns(time) == t.ts_ns);
  }
  auto unknown = raw_get(sim.port(), "/products/XYZ-USD/trades");
  CHECK(unknown.status == 404);
  CHECK(unknown.body == R"({"message":"NotFound"})");
}

// ---------------------------------------------------------------------------------------------- kraken

TEST_CASE("kraken: status on connect, ack per symbol, unsupported pair, ping/pong, heartbeats, trades as recorded") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/truth.jsonl";
  mi::net::io_thread io;
  std::vector<std::string> texts;
  {
    auto o = opts("kraken", 2000, 30, {"BTCUSD", "ETHUSD"});
    o.record_file = path;
    o.heartbeat_interval = 200ms;
    mi::sim::simulator sim(io.context(), o);
    test_client c(io.context(), ws_base(sim) + "/v2");
    REQUIRE(c.wait_texts(1));
    c.ws().send(R"({"method":"ping","req_id":7})");
    c.ws().send(
      R"({"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD","XBT/USD","ETH/USD"]},"req_id":1})");
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
    REQUIRE(c.wait_until([](const auto& v) { return count_containing(v, R"({"channel":"heartbeat"})") >= 2; }));
    c.ws().send("][");
    REQUIRE(c.wait_until([](const auto& v) { return count_containing(v, "Malformed request") == 1; }));
    texts = c.texts();
  }
  CHECK(
    texts[0].rfind(
      R"({"channel":"status","type":"update","data":[{"version":"2.0.0","system":"online","api_version":"v2","connection_id":1,"timestamp":")",
      0) == 0);
  CHECK(texts[1].rfind(R"({"method":"pong","req_id":7,"time_in":")", 0) == 0);
  CHECK(
    texts[2].rfind(
      R"({"method":"subscribe","result":{"channel":"trade","symbol":"BTC/USD","snapshot":true},"success":true,"req_id":1,"time_in":")",
      0) == 0);
  CHECK(
    texts[3].rfind(
      R"({"error":"Currency pair not supported XBT/USD","method":"subscribe","req_id":1,"success":false,"symbol":"XBT/USD","time_in":")",
      0) == 0);
  CHECK(texts[4].find(R"("symbol":"ETH/USD")") != std::string::npos);
  mi::kraken::codec codec;
  CHECK(codec.decode(texts[2], 1)->what == mi::kraken::frame_events::kind::ack);
  CHECK(codec.decode(texts[3], 1)->what == mi::kraken::frame_events::kind::error);
  CHECK(codec.decode(texts.back(), 1)->what == mi::kraken::frame_events::kind::error);
  auto received = decode_trades(codec, texts);
  CHECK(received.size() == 30);
  CHECK(received == read_record(path));
  for (const auto& t : texts)
    CHECK(t.find("XBT/USD\",\"side") == std::string::npos); // v2 never says XBT
}

TEST_CASE("kraken REST: AssetPairs names BTC the Kraken way - Trades pages oldest first from `since` (ns)") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/truth.jsonl";
  mi::net::io_thread io;
  auto o = opts("kraken", 3000, 40, {"BTCUSD", "ETHUSD"});
  o.record_file = path;
  mi::sim::simulator sim(io.context(), o);
  {
    test_client c(io.context(), ws_base(sim) + "/v2");
    REQUIRE(c.wait_open());
    c.ws().send(mi::kraken::subscribe_request({"BTC/USD"}));
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
  }
  auto pairs = json(raw_get(sim.port(), "/0/public/AssetPairs").body);
  CHECK(pairs.at("error").as_array().empty());
  const auto& btc = pairs.at("result").at("XXBTZUSD");
  CHECK(field(btc, "altname") == "XBTUSD");
  CHECK(field(btc, "wsname") == "XBT/USD");
  CHECK(field(btc, "base") == "XXBT");
  CHECK(field(btc, "quote") == "ZUSD");
  CHECK(field(pairs.at("result").at("ETHUSD"), "wsname") == "ETH/USD");

  const auto truth = read_record(path);
  REQUIRE(truth.size() == 40);
  auto first = json(raw_get(sim.port(), "/0/public/Trades?pair=XBTUSD&since=0&count=10").body);
  CHECK(first.at("error").as_array().empty());
  const auto& rows = first.at("result").at("XXBTZUSD").as_array();
  REQUIRE(rows.size() == 10);
  for (std::size_t i = 0; i < 10; ++i) {
    const auto& row = rows[i].as_array();
    const auto& t = truth[i];
    CHECK(row.at(6).as_int64() == static_cast<std::int64_t>(i + 1));
    CHECK(mi::decimal::parse(std::string(row.at(0).as_string())) == t.price);
    CHECK(mi::decimal::parse(std::string(row.at(1).as_string())) == t.quantity);
    CHECK(std::string(row.at(3).as_string()) == (t.taker_side == mi::side::buy ? "b" : "s"));
  }
  // the time: seconds with exactly 6 fraction digits, the trade's microseconds
  const std::string body = raw_get(sim.port(), "/0/public/Trades?pair=XBTUSD&since=0&count=1").body;
  const auto us = truth[0].ts_ns / 1000;
  char expected[64];
  std::snprintf(expected, sizeof expected, ",%lld.%06lld,", static_cast<long long>(us / 1'000'000),
                static_cast<long long>(us % 1'000'000));
  CHECK_MESSAGE(body.find(expected) != std::string::npos, body);
  CHECK(field(first.at("result"), "last") == std::to_string(truth[9].ts_ns));

  // forward paging with `last` (trades of the same ns come again, as from Kraken): every id, in order
  std::vector<std::uint64_t> seen;
  std::string since = "0";
  for (int page = 0; page < 50 && seen.size() < 40; ++page) {
    auto v = json(raw_get(sim.port(), "/0/public/Trades?pair=XXBTZUSD&count=7&since=" + since).body);
    for (const auto& row : v.at("result").at("XXBTZUSD").as_array()) {
      const auto id = static_cast<std::uint64_t>(row.as_array().at(6).as_int64());
      if (seen.empty() || id > seen.back())
        seen.push_back(id);
    }
    since = field(v.at("result"), "last");
  }
  CHECK(seen == iota_ids(1, 40));
  CHECK(raw_get(sim.port(), "/0/public/Trades?pair=XYZUSD").body == R"({"error":["EQuery:Unknown asset pair"]})");
}

// ---------------------------------------------------------------------------------------------- binance

TEST_CASE("binance REST: historicalTrades and aggTrades from fromId ascending, else the newest - -1121 unknown") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/truth.jsonl";
  mi::net::io_thread io;
  auto o = opts("binance", 3000, 30, {"BTCUSDT", "ETHUSDT"});
  o.record_file = path;
  o.reject = {"ETHUSDT"};
  mi::sim::simulator sim(io.context(), o);
  {
    test_client c(io.context(), ws_base(sim) + "/ws");
    REQUIRE(c.wait_open());
    c.ws().send(mi::binance::subscribe_requests({"btcusdt@trade", "ethusdt@trade"}, 3).at(0));
    REQUIRE(c.wait_texts(1));
    CHECK(c.texts()[0] == R"({"code":2,"msg":"Invalid request: invalid symbol in stream `ethusdt@trade`","id":3})");
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
    REQUIRE(c.wait_texts(31));
  }
  auto meta = mi::binance::instruments::from_exchange_info(raw_get(sim.port(), "/api/v3/exchangeInfo").body);
  REQUIRE(meta);
  CHECK(meta->size() == 1); // the rejected symbol is not listed
  CHECK_FALSE(meta->find("ETHUSDT"));

  const auto truth = read_record(path);
  REQUIRE(truth.size() == 30);
  auto hist = json(raw_get(sim.port(), "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=5&limit=10").body).as_array();
  CHECK(json_ids(hist, "id") == iota_ids(5, 14));
  const auto& t5 = truth[4];
  CHECK(mi::decimal::parse(field(hist[0], "price")) == t5.price);
  CHECK(mi::decimal::parse(field(hist[0], "qty")) == t5.quantity);
  CHECK(mi::decimal::parse(field(hist[0], "quoteQty")) == t5.price.checked_mul(t5.quantity));
  CHECK(field(hist[0], "time") == std::to_string(t5.ts_ns / 1'000'000));
  CHECK(field(hist[0], "isBuyerMaker") == (t5.taker_side == mi::side::sell ? "true" : "false"));
  auto newest = json(raw_get(sim.port(), "/api/v3/historicalTrades?symbol=BTCUSDT&limit=5").body).as_array();
  CHECK(json_ids(newest, "id") == iota_ids(26, 30));
  CHECK(json(raw_get(sim.port(), "/api/v3/historicalTrades?symbol=BTCUSDT").body).as_array().size() == 30);
  auto agg = json(raw_get(sim.port(), "/api/v3/aggTrades?symbol=BTCUSDT&fromId=28").body).as_array();
  CHECK(json_ids(agg, "a") == iota_ids(28, 30));
  CHECK(field(agg[0], "f") == "28");
  CHECK(field(agg[0], "l") == "28");
  CHECK(field(agg[0], "m") == (truth[27].taker_side == mi::side::sell ? "true" : "false"));
  auto unknown = raw_get(sim.port(), "/api/v3/historicalTrades?symbol=ETHUSDT");
  CHECK(unknown.status == 400);
  CHECK(unknown.body == R"({"code":-1121,"msg":"Invalid symbol."})");
}

TEST_CASE("generation goes on after the first subscribe while no client is connected - REST history has it all") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/truth.jsonl";
  mi::net::io_thread io;
  auto o = opts("binance", 2000, 0, {"BTCUSDT"});
  o.record_file = path;
  mi::sim::simulator sim(io.context(), o);
  std::vector<std::uint64_t> first;
  {
    test_client c(io.context(), ws_base(sim) + "/ws/btcusdt@trade");
    REQUIRE(c.wait_texts(10));
    c.ws().close();
    REQUIRE(c.wait_closed(5s));
    mi::binance::codec codec;
    first = ids(decode_trades(codec, c.texts()));
  }
  const auto before = sim.current().trades_generated;
  REQUIRE(mi::test::eventually([&] { return sim.current().trades_generated >= before + 200; }, 10s));
  CHECK(sim.current().connections == 1);
  auto newest = json(raw_get(sim.port(), "/api/v3/historicalTrades?symbol=BTCUSDT&limit=1").body).as_array();
  REQUIRE(newest.size() == 1);
  CHECK(std::stoull(field(newest[0], "id")) >= before + 200);
  CHECK(std::stoull(field(newest[0], "id")) > first.back() + 150); // generated while nobody listened

  test_client again(io.context(), ws_base(sim) + "/ws/btcusdt@trade");
  REQUIRE(again.wait_texts(1));
  mi::binance::codec codec;
  const auto later = ids(decode_trades(codec, again.texts()));
  CHECK(later.front() > first.back() + 150); // no resend: the gap is the client's to backfill
}

// ---------------------------------------------------------------------------------------------- faults

TEST_CASE(
  "fault drop over HTTP: every connection ends abruptly (no close frame) - bad commands get 400 with a reason") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts("okx", 1000, 0, {"BTCUSDT"}));
  test_client c(io.context(), ws_base(sim) + "/ws/v5/public");
  REQUIRE(c.wait_open());
  c.ws().send(mi::okx::subscribe_requests({"BTC-USDT"}).at(0));
  REQUIRE(c.wait_texts(5));
  auto ok = fault(sim, "action=drop");
  CHECK(ok.status == 200);
  CHECK(ok.body == R"({"ok":true})");
  auto why = c.wait_closed(5s);
  REQUIRE(why);
  CHECK_MESSAGE(why->rfind("read: ", 0) == 0, *why);
  CHECK(sim.current().faults == 1);

  auto bad = fault(sim, "action=explode");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("unknown action 'explode'") != std::string::npos);
  CHECK(fault(sim, "action=stall").status == 400);
  CHECK(fault(sim, "action=skip&count=2&symbol=XYZUSDT").body.find("unknown symbol XYZUSDT") != std::string::npos);
  CHECK(fault(sim, "").status == 400);
}

TEST_CASE("fault stall (flag): nothing at all for stall_ms, trades meanwhile only in history - finished waits") {
  mi::net::io_thread io;
  auto o = opts("kraken", 2000, 150, {"BTCUSD"});
  o.stall_after = 50;
  o.stall_ms = 2500ms;
  o.heartbeat_interval = 100ms;
  mi::sim::simulator sim(io.context(), o);
  std::mutex m;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  test_client c(io.context(), ws_base(sim) + "/v2", {}, [&](test_client&, const std::string&) {
    std::lock_guard lk(m);
    arrivals.push_back(std::chrono::steady_clock::now());
  });
  REQUIRE(c.wait_open());
  c.ws().send(mi::kraken::subscribe_request({"BTC/USD"}));
  // all 150 are generated within ~50 ms of the subscribe, but the stall lasts 2.5 s
  REQUIRE(mi::test::eventually([&] { return sim.current().trades_generated == 150; }, 2s));
  CHECK_FALSE(sim.finished());
  REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
  // heartbeats come back after the stall
  const auto n = c.texts().size();
  REQUIRE(c.wait_texts(n + 2));
  const auto texts = c.texts();
  mi::kraken::codec codec;
  CHECK(ids(decode_trades(codec, texts)) == iota_ids(1, 50)); // 51..150 never sent on this connection
  // the silence: one gap of at least ~the stall between consecutive frames
  std::chrono::steady_clock::duration longest{};
  {
    std::lock_guard lk(m);
    for (std::size_t i = 1; i < arrivals.size(); ++i)
      longest = std::max(longest, arrivals[i] - arrivals[i - 1]);
  }
  CHECK(longest >= 2400ms);
  auto rest = json(raw_get(sim.port(), "/0/public/Trades?pair=XBTUSD&since=0").body);
  CHECK(rest.at("result").at("XXBTZUSD").as_array().size() == 150);
}

TEST_CASE("fault stall over HTTP: a client with a read deadline times out while TCP stays open") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts("okx", 1000, 0, {"BTCUSDT"}));
  mi::net::ws_options wo;
  wo.read_timeout = 400ms;
  test_client c(io.context(), ws_base(sim) + "/ws/v5/public", wo);
  REQUIRE(c.wait_open());
  c.ws().send(mi::okx::subscribe_requests({"BTC-USDT"}).at(0));
  REQUIRE(c.wait_texts(20));
  CHECK(fault(sim, "action=stall&ms=3000").body == R"({"ok":true})");
  auto why = c.wait_closed(5s);
  REQUIRE(why);
  CHECK(*why == "read timeout");
}

TEST_CASE("fault skip (flag): the ids are generated and recorded but never sent: a gap REST can fill") {
  mi::test::temp_dir dir;
  const std::string path = dir.path() + "/truth.jsonl";
  mi::net::io_thread io;
  std::vector<std::string> texts;
  {
    auto o = opts("coinbase", 2000, 60, {"BTCUSD"});
    o.record_file = path;
    o.skip_after = 20;
    o.skip_count = 5;
    mi::sim::simulator sim(io.context(), o);
    test_client c(io.context(), ws_base(sim) + "/");
    REQUIRE(c.wait_open());
    c.ws().send(mi::coinbase::subscribe_request({"BTC-USD"}, "market_trades"));
    REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 10s));
    REQUIRE(c.wait_until([](const auto& v) { return count_containing(v, "\"market_trades\",\"client_id\"") == 55; }));
    texts = c.texts();
    CHECK(sim.current().trades_skipped == 5);
    auto gap = json(raw_get(sim.port(), "/products/BTC-USD/trades?after=26&limit=5").body).as_array();
    CHECK(json_ids(gap, "trade_id") == reversed(iota_ids(21, 25)));
  }
  mi::coinbase::codec codec;
  auto expected = iota_ids(1, 20);
  for (auto i : iota_ids(26, 60))
    expected.push_back(i);
  CHECK(ids(decode_trades(codec, texts)) == expected);
  CHECK(ids(read_record(path)) == iota_ids(1, 60));
}

TEST_CASE("fault skip over HTTP for one symbol: one gap of exactly that many ids in that symbol only") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts("binance", 1000, 2000, {"BTCUSDT", "ETHUSDT"}));
  test_client c(io.context(), ws_base(sim) + "/stream?streams=btcusdt@trade/ethusdt@trade");
  REQUIRE(c.wait_texts(20));
  CHECK(fault(sim, "action=skip&count=3&symbol=btcusdt").body == R"({"ok":true})");
  REQUIRE(mi::test::eventually([&] { return sim.finished(); }, 15s));
  REQUIRE(c.wait_until([](const auto& v) { return v.size() == 1997; }));
  mi::binance::codec codec;
  const auto got = decode_trades(codec, c.texts());
  const auto btc = ids(got, "BTCUSDT");
  const auto eth = ids(got, "ETHUSDT");
  CHECK(eth == iota_ids(1, eth.size()));
  REQUIRE(btc.size() >= 20);
  int gaps = 0;
  for (std::size_t i = 1; i < btc.size(); ++i)
    if (btc[i] != btc[i - 1] + 1) {
      ++gaps;
      CHECK(btc[i] == btc[i - 1] + 4);
    }
  CHECK(gaps == 1);
  CHECK(sim.current().trades_skipped == 3);
}

TEST_CASE("fault notice (flag, okx): 64008 notice, trades go on for the grace period, then the cut") {
  mi::net::io_thread io;
  auto o = opts("okx", 500, 0, {"BTCUSDT"});
  o.notice_after = 10;
  o.notice_grace = 600ms;
  mi::sim::simulator sim(io.context(), o);
  test_client c(io.context(), ws_base(sim) + "/ws/v5/public");
  REQUIRE(c.wait_open());
  c.ws().send(mi::okx::subscribe_requests({"BTC-USDT"}).at(0));
  auto why = c.wait_closed(10s);
  REQUIRE(why);
  CHECK_MESSAGE(why->rfind("read: ", 0) == 0, *why);
  const auto texts = c.texts();
  const auto notice = std::find(
    texts.begin(), texts.end(),
    R"({"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"})");
  REQUIRE(notice != texts.end());
  mi::okx::codec codec;
  CHECK(codec.decode(*notice, 1)->what == mi::okx::frame_events::kind::server_notice);
  CHECK(count_containing({notice, texts.end()}, "\"tradeId\"") >= 1); // still served during the grace
  CHECK(ids(decode_trades(codec, texts)) == iota_ids(1, count_containing(texts, "\"tradeId\"")));
}

TEST_CASE("fault notice over HTTP: binance serverShutdown (combined on /stream) - 400 for exchanges without one") {
  mi::net::io_thread io;
  auto o = opts("binance", 500, 0, {"BTCUSDT"});
  o.notice_grace = 300ms;
  mi::sim::simulator sim(io.context(), o);
  test_client c(io.context(), ws_base(sim) + "/stream?streams=btcusdt@trade");
  REQUIRE(c.wait_texts(3));
  CHECK(fault(sim, "action=notice").body == R"({"ok":true})");
  REQUIRE(c.wait_closed(5s));
  const auto texts = c.texts();
  const auto notice = std::find_if(texts.begin(), texts.end(), [](const auto& t) {
    return t.rfind(R"({"stream":"serverShutdown","data":{"e":"serverShutdown","E":)", 0) == 0;
  });
  REQUIRE(notice != texts.end());

  mi::sim::simulator bybit(io.context(), opts("bybit", 0, 0, {"BTCUSDT"}));
  auto refused = fault(bybit, "action=notice");
  CHECK(refused.status == 400);
  CHECK(refused.body.find("not supported by bybit") != std::string::npos);
  auto k = opts("kraken", 0, 0, {"BTCUSD"});
  k.notice_after = 5;
  CHECK_THROWS_WITH_AS(mi::sim::simulator(io.context(), k), doctest::Contains("not supported by kraken"),
                       std::runtime_error);
}

TEST_CASE("fault malformed over HTTP: K frames the exchange's codec rejects, then trades go on") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts("bybit", 500, 0, {"BTCUSDT"}));
  test_client c(io.context(), ws_base(sim) + "/v5/public/spot");
  REQUIRE(c.wait_open());
  c.ws().send(mi::bybit::subscribe_requests({"publicTrade.BTCUSDT"}, 1).at(0));
  REQUIRE(c.wait_texts(3));
  CHECK(fault(sim, "action=malformed&count=3").body == R"({"ok":true})");
  REQUIRE(c.wait_until([](const auto& v) { return count_containing(v, "not-a-price") == 3; }));
  const auto n = c.texts().size();
  REQUIRE(c.wait_texts(n + 2));
  mi::bybit::codec codec;
  int rejected = 0;
  std::vector<mi::trade> good;
  for (const auto& t : c.texts()) {
    auto ev = codec.decode(t, 1);
    if (!ev)
      ++rejected;
    else
      good.insert(good.end(), ev->trades.begin(), ev->trades.end());
  }
  CHECK(rejected == 3);
  CHECK(ids(good) == iota_ids(1, good.size()));
}

TEST_CASE("simulator: an unknown exchange is refused at construction, naming the supported ones") {
  mi::net::io_thread io;
  CHECK_THROWS_WITH_AS(
    mi::sim::simulator(io.context(), opts("ftx", 1, 1, {"BTCUSDT"})),
    doctest::Contains("unknown exchange 'ftx' (expected one of binance, okx, bybit, coinbase, kraken"),
    std::runtime_error);
}

TEST_CASE("simulator: every venue of the registry has a protocol, registered once, and no other") {
  std::set<std::string_view> seen;
  for (const mi::sim::registered_protocol& r : mi::sim::registered_protocols()) {
    CAPTURE(r.name);
    CHECK(seen.insert(r.name).second);
    CHECK(mi::find_venue(r.name) != nullptr);
  }
  std::vector<std::string_view> names;
  for (const mi::venue_info& v : mi::venues()) {
    CAPTURE(v.name);
    names.push_back(v.name);
    mi::sim::market m(std::string(v.name), {"BTCUSDT"}, {}, 10);
    CHECK(mi::sim::make_protocol(v.name, m) != nullptr);
  }
  CHECK(mi::sim::supported_exchanges() == names);
  mi::sim::market m("ftx", {"BTCUSDT"}, {}, 10);
  CHECK(mi::sim::make_protocol("ftx", m) == nullptr);
}

TEST_CASE("every exchange: 20000 trades at 40000/s all reach one client (throughput printed)") {
  struct venue {
    std::string exchange, symbol, path, subscribe, marker;
  };
  const std::vector<venue> venues{
    {"binance", "BTCUSDT", "/ws/btcusdt@trade", "", "\"e\":\"trade\""},
    {"okx", "BTCUSDT", "/ws/v5/public", mi::okx::subscribe_requests({"BTC-USDT"}).at(0), "\"tradeId\""},
    {"bybit", "BTCUSDT", "/v5/public/spot", mi::bybit::subscribe_requests({"publicTrade.BTCUSDT"}, 1).at(0),
     "\"topic\""},
    {"coinbase", "BTCUSD", "/", mi::coinbase::subscribe_request({"BTC-USD"}, "market_trades"),
     "\"market_trades\",\"client_id\""},
    {"kraken", "BTCUSD", "/v2", mi::kraken::subscribe_request({"BTC/USD"}), "\"trade_id\""},
  };
  for (const auto& v : venues) {
    CAPTURE(v.exchange);
    mi::net::io_thread io;
    mi::sim::simulator sim(io.context(), opts(v.exchange, 40000, 20000, {v.symbol}));
    std::atomic<std::size_t> trades{0};
    test_client c(io.context(), ws_base(sim) + v.path, {}, [&](test_client&, const std::string& text) {
      if (text.find(v.marker) != std::string::npos)
        ++trades;
    });
    REQUIRE(c.wait_open());
    const auto t0 = std::chrono::steady_clock::now();
    if (!v.subscribe.empty())
      c.ws().send(v.subscribe);
    REQUIRE(mi::test::eventually([&] { return trades.load() == 20000; }, 30s));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE(v.exchange << ": 20000 trades in " << secs << " s (" << 20000 / secs << " trades/s)");
    CHECK(sim.current().frames_sent == 20000);
  }
}

TEST_CASE("okx: a connection with nothing pushed for the idle limit is dropped - one with trades or pongs is kept") {
  mi::net::io_thread io;
  auto o = opts("okx", 50, 0, {"BTCUSDT"});
  o.idle_close = 600ms; // OKX's rule is 30 s
  o.heartbeat_interval = 50ms;
  mi::sim::simulator sim(io.context(), o);
  test_client silent(io.context(), ws_base(sim) + "/ws/v5/public");
  test_client trading(io.context(), ws_base(sim) + "/ws/v5/public");
  REQUIRE(silent.wait_open());
  REQUIRE(trading.wait_open());
  const auto t0 = std::chrono::steady_clock::now();
  trading.ws().send(mi::okx::subscribe_requests({"BTC-USDT"}).at(0)); // trades every ~20 ms
  auto why = silent.wait_closed(5s);
  REQUIRE(why);
  CHECK_MESSAGE(why->rfind("read: ", 0) == 0, *why);
  CHECK(std::chrono::steady_clock::now() - t0 >= 550ms);
  CHECK_FALSE(trading.wait_closed(1800ms)); // 3 idle limits long, kept by the trades pushed to it

  test_client pinging(io.context(), ws_base(sim) + "/ws/v5/public");
  REQUIRE(pinging.wait_open());
  for (std::size_t i = 1; i <= 6; ++i) { // a ping answered every ~half limit keeps it, with no subscription
    pinging.ws().send("ping");
    REQUIRE(pinging.wait_texts(i));
    CHECK_FALSE(pinging.wait_closed(300ms));
  }
  CHECK(pinging.texts() == std::vector<std::string>(6, "pong"));
}

TEST_CASE(
  "fault mute: a stuck subscription stays stuck through a second SUBSCRIBE, UNSUBSCRIBE then SUBSCRIBE frees it") {
  mi::net::io_thread io;
  mi::sim::simulator sim(io.context(), opts("okx", 500, 0, {"BTCUSDT"}));
  test_client c(io.context(), ws_base(sim) + "/ws/v5/public");
  REQUIRE(c.wait_open());
  c.ws().send(mi::okx::subscribe_requests({"BTC-USDT"}).at(0));
  auto trades = [&] {
    std::size_t n = 0;
    for (const auto& t : c.texts())
      n += t.find("\"tradeId\"") != std::string::npos ? 1 : 0;
    return n;
  };
  REQUIRE(mi::test::eventually([&] { return trades() >= 20; }, 5s));
  CHECK(fault(sim, "action=mute&symbol=btcusdt").body == R"({"ok":true})");
  CHECK(fault(sim, "action=mute&symbol=XYZUSDT").status == 400);
  // A second subscribe is acked, and changes nothing (as on OKX and Binance).
  const auto acks = c.texts().size();
  c.ws().send(mi::okx::subscribe_requests({"BTC-USDT"}).at(0));
  REQUIRE(c.wait_until([&](const auto& t) {
    return std::any_of(t.begin() + static_cast<std::ptrdiff_t>(acks), t.end(),
                       [](const std::string& x) { return x.find("\"event\":\"subscribe\"") != std::string::npos; });
  }));
  const auto stuck = trades();
  const auto generated = sim.current().trades_generated;
  REQUIRE(mi::test::eventually([&] { return sim.current().trades_generated >= generated + 100; }, 5s));
  CHECK(trades() <= stuck + 1); // at most one already on its way
  // Unsubscribe, subscribe: trades again.
  c.ws().send(mi::okx::unsubscribe_requests({"BTC-USDT"}).at(0));
  c.ws().send(mi::okx::subscribe_requests({"BTC-USDT"}).at(0));
  CHECK(mi::test::eventually([&] { return trades() >= stuck + 20; }, 5s));
}

TEST_CASE("fault throttle: the next N trade requests get 429 (binance: 418) with Retry-After, then answers resume") {
  mi::net::io_thread io;
  auto o = opts("binance", 1000, 100, {"BTCUSDT"});
  o.throttle = 2;
  o.throttle_status = 418;
  o.retry_after_s = 7;
  mi::sim::simulator sim(io.context(), o);
  // The instruments endpoint is never throttled.
  CHECK(raw_get(sim.port(), "/api/v3/exchangeInfo").status == 200);
  for (int i = 0; i < 2; ++i) {
    auto a = raw_get(sim.port(), "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1&limit=10");
    CHECK(a.status == 418);
    CHECK(a.headers["retry-after"] == "7");
  }
  CHECK(raw_get(sim.port(), "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1&limit=10").status == 200);
  CHECK(sim.current().throttled == 2);
  // On command, with its own status and Retry-After; 418 is Binance's only.
  CHECK(fault(sim, "action=throttle&count=1&retry_after=3").body == R"({"ok":true})");
  auto a = raw_get(sim.port(), "/api/v3/aggTrades?symbol=BTCUSDT");
  CHECK(a.status == 429);
  CHECK(a.headers["retry-after"] == "3");
  CHECK(fault(sim, "action=throttle&count=0").status == 400);
  // Every trade request is logged with its status for the tests (GET /sim/requests).
  auto log = raw_get(sim.port(), "/sim/requests").body;
  CHECK(log.find(R"({"path":"/api/v3/historicalTrades","status":418,"at_ms":)") != std::string::npos);
  CHECK(log.find(R"({"path":"/api/v3/aggTrades","status":429,"at_ms":)") != std::string::npos);
  CHECK(log.find("exchangeInfo") == std::string::npos);

  mi::net::io_thread io2;
  auto bad = opts("okx", 1000, 100, {"BTCUSDT"});
  bad.throttle_status = 418;
  CHECK_THROWS_WITH_AS(mi::sim::simulator(io2.context(), bad), doctest::Contains("418 for binance"),
                       std::runtime_error);
}

TEST_CASE("alpaca protocol: connected, auth checked, subscription ack, trades with the other kinds, REST paging") {
  mi::sim::market m("alpaca", {"AAPL", "BRK_B"}, {}, 1000);
  auto p = mi::sim::make_protocol("alpaca", m);
  REQUIRE(p);
  mi::sim::actions initial;
  mi::sim::http_reply refusal;
  CHECK(p->open("/v1/iex", {}, initial, refusal) == nullptr);
  CHECK(refusal.status == 404);
  auto c = p->open("/v2/iex", {}, initial, refusal);
  REQUIRE(c);
  REQUIRE(initial.frames.size() == 1);
  CHECK(initial.frames[0] == R"([{"T":"success","msg":"connected"}])");
  mi::alpaca::codec codec;
  auto one = [&](std::string_view text) {
    mi::sim::actions out;
    p->on_text(*c, text, out);
    REQUIRE(out.frames.size() == 1);
    auto ev = codec.decode(out.frames[0], 0);
    REQUIRE(ev);
    REQUIRE(ev->controls.size() == 1);
    return std::make_pair(ev->controls[0], out);
  };
  // Subscribing before auth, a wrong secret, then the right credentials (the simulator's defaults).
  CHECK(one(mi::alpaca::subscribe_request({"AAPL"}, {})).first.code == 401);
  CHECK(one(mi::alpaca::auth_request("PKSIMULATOR", "wrong")).first.code == 402);
  CHECK(one(mi::alpaca::auth_request("PKSIMULATOR", "simulator-secret")).first.what ==
        mi::alpaca::control::kind::authenticated);
  CHECK(one(mi::alpaca::auth_request("PKSIMULATOR", "simulator-secret")).first.code == 403);
  auto [ack, subscribed] = one(mi::alpaca::subscribe_request({"AAPL", "BRK.B", "NOPE"}, {}));
  CHECK(ack.what == mi::alpaca::control::kind::subscription);
  REQUIRE(subscribed.subscribe.size() == 2);
  CHECK(subscribed.subscribe[0].symbol == "AAPL");
  CHECK(subscribed.subscribe[1].symbol == "BRK_B");
  CHECK(one("{nope").first.code == 400);

  // Generated trades: ids 1..300 of AAPL, µs apart; each frame decodes to its trade with the id's exchange code,
  // and the frames carry the bars, corrections, cancels and halts the client must tolerate.
  mi::sim::symbol_generator gen(*m.find("AAPL"), 7, "alpaca");
  std::size_t corrections = 0, cancels = 0, statuses = 0, bars = 0;
  const std::int64_t t0 = 1764700000000000000;
  for (int i = 0; i < 300; ++i) {
    auto t = gen.next(t0 + i * 1000);
    m.record(t);
    auto ev = codec.decode(p->trade_frame(*c, t, 0), 0);
    REQUIRE(ev);
    REQUIRE(ev->trades.size() == 1);
    const auto id = std::stoull(t.trade_id);
    CHECK(ev->trades[0].trade_id == t.trade_id + "-" + std::string(id % 3 == 0 ? "V" : id % 3 == 1 ? "D" : "K"));
    CHECK(ev->trades[0].price == t.price);
    CHECK(ev->trades[0].ts_ns == t.ts_ns);
    corrections += ev->corrections.size();
    cancels += ev->cancels.size();
    statuses += ev->statuses.size();
    bars += ev->bars.size();
  }
  CHECK(corrections == 3); // ids 97, 194, 291
  CHECK(cancels == 3);     // 89, 178, 267
  CHECK(statuses == 1);    // 211
  CHECK(bars == 6);        // 50, 100, ..., 300
  CHECK(codec.decode(p->malformed_trade_frame(*c, "AAPL", 0), 0).has_value() == false);

  // REST: the trades of a time range in pages of `limit`, the opaque token continuing exactly where a page ended.
  mi::sim::query_params q{
    {"start", mi::util::rfc3339(t0 + 10 * 1000)}, {"end", mi::util::rfc3339(t0 + 259 * 1000)}, {"limit", "100"}};
  std::vector<std::string> ids;
  for (int page = 0; page < 10; ++page) {
    auto r = p->rest("/v2/stocks/AAPL/trades", q);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto parsed = mi::alpaca::parse_trades_page(r->body, 0);
    REQUIRE_MESSAGE(parsed, r->body);
    for (const auto& t : parsed->trades)
      ids.push_back(t.trade_id);
    if (!parsed->next_page_token)
      break;
    q["page_token"] = *parsed->next_page_token;
  }
  REQUIRE(ids.size() == 250); // ids 11..260 (µs 10..259), each once
  CHECK(ids.front() == "11-K");
  CHECK(ids.back() == "260-K");
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 250);
  auto assets = p->rest("/v2/assets", {});
  REQUIRE(assets);
  auto listed = mi::alpaca::parse_assets(assets->body);
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[1].symbol == "BRK.B");
  CHECK(!p->rest("/v2/stocks/AAPL/quotes", {}));
}

TEST_CASE("alpaca protocol: 1Day bars per New York day from the same history, paged, and one bar made different") {
  mi::sim::market m("alpaca", {"AAPL", "BRK_B"}, {}, 1000);
  auto p = mi::sim::make_protocol("alpaca", m);
  // Hand-made trades (New York is UTC-5 in December): AAPL on Tuesday 2026-12-01 at 14:30Z and 20:59Z, and on
  // Wednesday the 2nd at 04:59Z (still Tuesday 23:59 in New York) and 15:00Z; BRK_B once on the 2nd.
  auto trade = [&](const char* sym, std::uint64_t id, const char* px, const char* qty, std::int64_t ts) {
    mi::trade t;
    t.exchange = "alpaca";
    t.symbol = sym;
    t.trade_id = std::to_string(id);
    t.price = *mi::decimal::parse(px);
    t.quantity = *mi::decimal::parse(qty);
    t.ts_ns = ts;
    m.record(t);
  };
  const auto utc = [](unsigned d, int h, int mi) {
    return ((mi::util::days_from_civil(2026, 12, d) * 24 + h) * 60 + mi) * 60'000'000'000LL;
  };
  trade("AAPL", 1, "100.5", "10", utc(1, 14, 30));
  trade("AAPL", 2, "99", "5", utc(1, 20, 59));
  trade("AAPL", 3, "101.25", "1", utc(2, 4, 59));
  trade("AAPL", 4, "102", "7", utc(2, 15, 0));
  trade("BRK_B", 1, "500", "2", utc(2, 15, 1));
  mi::sim::query_params q{{"symbols", "BRK.B,AAPL"}, {"timeframe", "1Day"}, {"start", "2026-11-30"},
                          {"end", "2026-12-02"},     {"feed", "iex"},       {"adjustment", "raw"}};
  auto r = p->rest("/v2/stocks/bars", q);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(r->body == R"({"bars":{"AAPL":[{"t":"2026-12-01T05:00:00Z","o":100.5,"h":101.25,"l":99,"c":101.25,"v":16,)"
                   R"("n":3},{"t":"2026-12-02T05:00:00Z","o":102,"h":102,"l":102,"c":102,"v":7,"n":1}],)"
                   R"("BRK.B":[{"t":"2026-12-02T05:00:00Z","o":500,"h":500,"l":500,"c":500,"v":2,"n":1}]},)"
                   R"("next_page_token":null})");
  auto parsed = mi::alpaca::parse_bars_page(r->body, true);
  REQUIRE_MESSAGE(parsed, r->body);
  CHECK(parsed->bars.size() == 3);
  // limit 1: one bar a page, the token continuing where the page ended.
  q["limit"] = "1";
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto pr = p->rest("/v2/stocks/bars", q);
    REQUIRE(pr);
    auto pp = mi::alpaca::parse_bars_page(pr->body, true);
    REQUIRE_MESSAGE(pp, pr->body);
    for (const auto& b : pp->bars)
      seen.push_back(b.symbol + " " + b.volume.to_string());
    if (!pp->next_page_token)
      break;
    q["page_token"] = *pp->next_page_token;
  }
  CHECK(seen == std::vector<std::string>{"AAPL 16", "AAPL 7", "BRK_B 2"});
  // The deliberate difference: one bar's volume one share more.
  ::setenv("ALPACA_SIM_BAR_OFF", "AAPL:2026-12-02", 1);
  q.erase("limit");
  q.erase("page_token");
  auto off = mi::alpaca::parse_bars_page(p->rest("/v2/stocks/bars", q)->body, true);
  ::unsetenv("ALPACA_SIM_BAR_OFF");
  REQUIRE(off);
  CHECK(off->bars[0].volume.to_string() == "16");
  CHECK(off->bars[1].volume.to_string() == "8");
  q["timeframe"] = "1Min";
  CHECK(p->rest("/v2/stocks/bars", q)->status == 422);
}
