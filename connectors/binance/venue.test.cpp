#include <doctest/doctest.h>

#include "connectors/venue/test_support.hpp"

using namespace mi::venue;
using namespace mi::venue::test;

namespace {

const char* const exchange_info = R"({"timezone":"UTC","symbols":[)"
                                  R"({"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT"},)"
                                  R"({"symbol":"BNBBTC","status":"TRADING","baseAsset":"BNB","quoteAsset":"BTC"},)"
                                  R"({"symbol":"ETHBTC","status":"BREAK","baseAsset":"ETH","quoteAsset":"BTC"}]})";

/// A historicalTrades page of ids [from, min(from + 999, newest)] as Binance serves it.
std::string historical_page(std::int64_t from, std::int64_t newest) {
  std::vector<std::int64_t> ids = id_range(from, std::min(from + 999, newest));
  return "[" +
         join(ids,
              [](std::int64_t id) {
                return R"({"id":)" + std::to_string(id) +
                       R"(,"price":"100.5","qty":"0.25","quoteQty":"25.125","time":)" +
                       std::to_string(1'700'000'000'000 + id) + R"(,"isBuyerMaker":true,"isBestMatch":true})";
              }) +
         "]";
}

} // namespace

TEST_CASE("binance resolve: stream and REST names, listing checked once instruments are loaded") {
  auto v = must_make("binance");
  CHECK(v->name() == "binance");
  CHECK(v->instruments_request() == rest_request{"/api/v3/exchangeInfo"});
  CHECK(must_resolve(*v, "BTC/USDT") == subscription{"BTC/USDT", "BTCUSDT", "BTC", "USDT", "btcusdt@trade", "BTCUSDT"});
  CHECK(must_resolve(*v, "XYZ/USDT").symbol == "XYZUSDT"); // no listing yet: any well-formed name
  auto malformed = v->resolve("BTCUSDT");
  REQUIRE_FALSE(malformed.has_value());
  CHECK(malformed.err().message.find("BTCUSDT") != std::string::npos);

  auto bad = v->load_instruments("{not json");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.err().message.find("binance exchangeInfo") == 0);
  CHECK(v->resolve("XYZ/USDT").has_value()); // still no listing

  auto n = v->load_instruments(exchange_info);
  REQUIRE(n.has_value());
  CHECK(*n == 3);
  CHECK(must_resolve(*v, "BNB/BTC").wire == "bnbbtc@trade");
  auto unlisted = v->resolve("XYZ/USDT");
  REQUIRE_FALSE(unlisted.has_value());
  CHECK(unlisted.err().message == "XYZ/USDT: not listed by binance");
  auto halted = v->resolve("ETH/BTC");
  REQUIRE_FALSE(halted.has_value());
  CHECK(halted.err().message == "ETH/BTC: listed by binance but not trading");

  auto agg = must_make("binance", venue_options{true});
  CHECK(must_resolve(*agg, "BTC/USDT").wire == "btcusdt@aggTrade");
}

TEST_CASE("binance subscribe_requests: 200 streams per SUBSCRIBE, ids continue across calls") {
  auto v = must_make("binance");
  CHECK(v->max_subscriptions_per_connection() == 1024);
  CHECK(v->control_messages_per_second() == 5);
  std::vector<subscription> subs;
  for (int i = 0; i < 450; ++i)
    subs.push_back(must_resolve(*v, "A" + std::to_string(i) + "/USDT"));
  auto msgs = v->subscribe_requests(subs);
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].find(R"("params":["a0usdt@trade","a1usdt@trade",)") != std::string::npos);
  CHECK(msgs[0].find(R"("id":1})") != std::string::npos);
  CHECK(msgs[2].find(R"("a449usdt@trade"],"id":3})") != std::string::npos);
  auto more = v->subscribe_requests({must_resolve(*v, "BTC/USDT")});
  REQUIRE(more.size() == 1);
  CHECK(more[0] == R"({"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":4})");
  CHECK(v->subscribe_requests({}).empty());
}

TEST_CASE("binance decode: captured trades match the expected trades, acks, errors, shutdown notices") {
  auto v = must_make("binance");
  const std::size_t compared = replay_trade_fixture(*v, "binance");
  if (!mi::test::fixture_lines("binance", "trades.jsonl").empty())
    CHECK(compared > 0);
  kind_counts c = replay_control_fixture(*v, "binance");
  if (!mi::test::fixture_lines("binance", "control.jsonl").empty()) {
    CHECK(c.ack == 4);
    CHECK(c.error == 5);
    CHECK(c.reconnect_notice == 2);
    CHECK(c.trades == 0);
  }
  auto err = v->decode(R"({"code":2,"msg":"Invalid request: invalid stream"})", 0);
  REQUIRE(err.has_value());
  CHECK(err->what == events::kind::error);
  CHECK(err->message == "code 2: Invalid request: invalid stream");
  CHECK(err->rejected.empty());
  auto shutdown = v->decode(R"({"e":"serverShutdown","E":1770123456789})", 0);
  REQUIRE(shutdown.has_value());
  CHECK(shutdown->what == events::kind::reconnect_notice);
  auto depth = v->decode(R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]})", 0);
  REQUIRE(depth.has_value());
  CHECK(depth->what == events::kind::ignored);
  auto zero = v->decode(R"({"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"0","q":"1","T":1,"m":true,"M":true})", 0);
  REQUIRE_FALSE(zero.has_value());
  CHECK(zero.err().message.find("price") != std::string::npos);
  CHECK_FALSE(v->decode("not json", 0).has_value());
}

TEST_CASE("binance heartbeat: the client never pings, never times out (the server pings)") {
  auto v = must_make("binance");
  v->on_open(0);
  for (std::int64_t s = 0; s <= 600; s += 5) {
    CHECK_FALSE(v->ping_due(s * 1'000'000'000).has_value());
    CHECK_FALSE(v->heartbeat_timed_out(s * 1'000'000'000));
  }
}

TEST_CASE("binance history: historicalTrades paged forward over 3 pages, ending exactly at the gap's ends") {
  auto v = must_make("binance");
  REQUIRE(v->load_instruments(exchange_info).has_value());
  CHECK(v->sequential_ids());
  CHECK(v->rest_min_interval_ns() == 100'000'000);
  const subscription s = must_resolve(*v, "BTC/USDT");
  CHECK_FALSE(v->recent_request(s).has_value());
  const gap g{101, 2600, 1'700'000'000'100'000'000, 1'700'000'002'601'000'000};
  CHECK(v->history_request(s, g) == rest_request{"/api/v3/historicalTrades?symbol=BTCUSDT&fromId=101&limit=1000"});
  auto run = run_backfill(*v, s, g,
                          [](const std::string& target) { return historical_page(query_int(target, "fromId"), 5000); });
  CHECK(run.targets == std::vector<std::string>{"/api/v3/historicalTrades?symbol=BTCUSDT&fromId=101&limit=1000",
                                                "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1101&limit=1000",
                                                "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=2101&limit=1000"});
  CHECK(ids_of(run.trades) == id_range(101, 2600));
  const mi::trade& first = run.trades.front();
  CHECK(first.exchange == "binance");
  CHECK(first.symbol == "BTCUSDT");
  CHECK(first.price.to_string() == "100.5");
  CHECK(first.taker_side == mi::side::sell);
  CHECK(first.ts_ns == 1'700'000'000'101'000'000);
}

TEST_CASE("binance history: the exchange runs out, empty pages end, aggTrades for the aggTrade stream") {
  auto v = must_make("binance");
  const subscription s = must_resolve(*v, "BTC/USDT");
  const gap g{101, 2600, 0, 0};
  // Only ids up to 1500 exist yet: the second page is short and the third one empty.
  auto run = run_backfill(*v, s, g,
                          [](const std::string& target) { return historical_page(query_int(target, "fromId"), 1500); });
  CHECK(ids_of(run.trades) == id_range(101, 1500));
  CHECK(run.targets.size() == 3);

  auto err = v->parse_history(s, g, R"({"code":-1121,"msg":"Invalid symbol."})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "binance history: code -1121: Invalid symbol.");

  auto agg = must_make("binance", venue_options{true});
  const subscription sa = must_resolve(*agg, "BTC/USDT");
  CHECK(agg->history_request(sa, g) == rest_request{"/api/v3/aggTrades?symbol=BTCUSDT&fromId=101&limit=1000"});
  auto page = agg->parse_history(
    sa, gap{26129, 26130, 0, 0},
    R"([{"a":26128,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true,"M":true},{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true}])");
  REQUIRE(page.has_value());
  REQUIRE(page->trades.size() == 1);
  CHECK(page->trades[0].trade_id == "26129");
  REQUIRE(page->next.has_value());
  CHECK(page->next->target == "/api/v3/aggTrades?symbol=BTCUSDT&fromId=26130&limit=1000");
}

TEST_CASE("binance history: a server ignoring fromId cannot make the backfill loop, a restarted backfill starts over") {
  auto v = must_make("binance");
  const subscription s = must_resolve(*v, "BTC/USDT");
  const gap g{101, 2600, 0, 0};
  auto stuck = run_backfill(*v, s, g, [](const std::string&) { return historical_page(101, 5000); });
  CHECK(stuck.targets.size() == 2);                   // the second answer repeats the first: stop
  CHECK(ids_of(stuck.trades) == id_range(101, 1100)); // each trade once

  // A backfill abandoned after its first page, then started again, gets the whole gap.
  auto first = v->history_request(s, g);
  REQUIRE(first.has_value());
  REQUIRE(v->parse_history(s, g, historical_page(101, 5000)).has_value());
  auto again = run_backfill(
    *v, s, g, [](const std::string& target) { return historical_page(query_int(target, "fromId"), 5000); });
  CHECK(ids_of(again.trades) == id_range(101, 2600));
}
