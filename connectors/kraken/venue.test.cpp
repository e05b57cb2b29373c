#include <doctest/doctest.h>

#include "connectors/venue/test_support.hpp"

using namespace mi::venue;
using namespace mi::venue::test;

namespace {

constexpr std::int64_t s_ns = 1'000'000'000;
constexpr std::int64_t t0_ns = 1'688'669'000'000'000'000;

/// Time of trade `id` on the fake exchange: 1 ms apart, ids 2990-3005 all at the same instant.
std::int64_t ts_of(std::int64_t id) { return t0_ns + (id >= 2990 && id <= 3005 ? 2990 : id) * 1'000'000; }

/// "1688669597.827736" seconds text of a ns time (µs precision, as Kraken prints).
std::string seconds_text(std::int64_t ns) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(ns / s_ns),
                static_cast<long long>(ns % s_ns / 1000));
  return buf;
}

/// A /0/public/Trades page as Kraken serves it: up to 1000 trades with ts >= since (ids 1..newest), oldest first;
/// last = the time of the last trade returned (ns), or `since` when none.
std::string trades_page(std::int64_t since, std::int64_t newest) {
  std::vector<std::int64_t> ids;
  for (std::int64_t id = 1; id <= newest && ids.size() < 1000; ++id)
    if (ts_of(id) >= since)
      ids.push_back(id);
  const std::int64_t last = ids.empty() ? since : ts_of(ids.back());
  return R"({"error":[],"result":{"XXBTZUSD":[)" +
         join(ids,
              [](std::int64_t id) {
                return R"(["30243.40000","0.34507674",)" + seconds_text(ts_of(id)) + R"(,"b","m","",)" +
                       std::to_string(id) + "]";
              }) +
         R"(],"last":")" + std::to_string(last) + R"("}})";
}

} // namespace

TEST_CASE("kraken resolve: v2 pair for subscribe, altname for REST (XBT/XDG), listing once AssetPairs are loaded") {
  auto v = must_make("kraken");
  CHECK(v->instruments_request() == rest_request{"/0/public/AssetPairs"});
  CHECK(must_resolve(*v, "BTC/USD") == subscription{"BTC/USD", "BTCUSD", "BTC", "USD", "BTC/USD", "XBTUSD"});
  CHECK(must_resolve(*v, "DOGE/USD").rest == "XDGUSD");
  CHECK(must_resolve(*v, "XBT/USD").symbol == "BTCUSD");
  CHECK_FALSE(v->resolve("BTCUSD").has_value());
  auto err = v->load_instruments(R"({"error":["EGeneral:Temporary lockout"]})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "kraken AssetPairs: EGeneral:Temporary lockout");
  auto n = v->load_instruments(
    R"({"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","base":"XXBT","quote":"ZUSD","status":"online"},)"
    R"("ETHUSDT":{"altname":"ETHUSDT","wsname":"ETH/USDT","base":"XETH","quote":"USDT","status":"online"}}})");
  REQUIRE(n.has_value());
  CHECK(*n == 2);
  CHECK(must_resolve(*v, "ETH/USDT").rest == "ETHUSDT");
  CHECK(must_resolve(*v, "BTC/USD").rest == "XBTUSD");
  CHECK(v->resolve("DOGE/USD").err().message == "DOGE/USD: not listed by kraken");
}

TEST_CASE("kraken subscribe_requests: v2 trade channel, 50 symbols per request") {
  auto v = must_make("kraken");
  auto one = v->subscribe_requests({must_resolve(*v, "BTC/USD"), must_resolve(*v, "ETH/USD")});
  REQUIRE(one.size() == 1);
  CHECK(one[0] == R"({"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD","ETH/USD"]}})");
  std::vector<subscription> subs;
  for (int i = 0; i < 120; ++i)
    subs.push_back(must_resolve(*v, "A" + std::to_string(i) + "/USD"));
  auto many = v->subscribe_requests(subs);
  REQUIRE(many.size() == 3);
  CHECK(many[2].find(R"("A100/USD")") != std::string::npos);
  CHECK(many[2].find(R"("A99/USD")") == std::string::npos);
}

TEST_CASE("kraken decode: captured v2 trades, acks, errors with the rejected symbol, heartbeats and pongs") {
  auto v = must_make("kraken");
  const std::size_t compared = replay_trade_fixture(*v, "kraken");
  if (!mi::test::fixture_lines("kraken", "trades.jsonl").empty())
    CHECK(compared == 2);
  kind_counts c = replay_control_fixture(*v, "kraken");
  if (!mi::test::fixture_lines("kraken", "control.jsonl").empty()) {
    CHECK(c.ack == 2);
    CHECK(c.error == 1);
    CHECK(c.heartbeat == 2); // {"channel":"heartbeat"}, the pong
  }
  auto err = v->decode(
    R"({"error":"Currency pair not supported XYZ/USD","method":"subscribe","success":false,"symbol":"XYZ/USD","time_in":"2026-09-25T17:48:54.701041Z","time_out":"2026-09-25T17:48:54.701062Z"})",
    0);
  REQUIRE(err.has_value());
  CHECK(err->what == events::kind::error);
  CHECK(err->rejected == "XYZUSD");
  CHECK(err->message.find("XYZ/USD") != std::string::npos);
  auto xbt = v->decode(
    R"({"error":"Currency pair not supported XBT/USD","method":"subscribe","success":false,"symbol":"XBT/USD"})", 0);
  REQUIRE(xbt.has_value());
  CHECK(xbt->rejected == "BTCUSD");
  auto pong = v->decode(
    R"({"method":"pong","req_id":42,"time_in":"2023-09-25T09:05:00.123456Z","time_out":"2023-09-25T09:05:00.1235Z"})",
    0);
  REQUIRE(pong.has_value());
  CHECK(pong->what == events::kind::heartbeat);
}

TEST_CASE("kraken heartbeat: {\"method\":\"ping\"} every 30 s, dead 30 s after an unanswered one") {
  auto v = must_make("kraken");
  v->on_open(0);
  CHECK_FALSE(v->ping_due(29 * s_ns).has_value());
  auto ping = v->ping_due(30 * s_ns);
  REQUIRE(ping.has_value());
  CHECK(*ping == R"({"method":"ping","req_id":1})");
  CHECK_FALSE(v->heartbeat_timed_out(59 * s_ns));
  v->on_frame(31 * s_ns);
  CHECK(v->ping_due(60 * s_ns) == std::optional<std::string>(R"({"method":"ping","req_id":2})"));
  CHECK_FALSE(v->heartbeat_timed_out(89 * s_ns));
  CHECK(v->heartbeat_timed_out(90 * s_ns));
}

TEST_CASE("kraken history: /0/public/Trades paged forward by time over 3 pages, each trade once, ending at the gap") {
  auto v = must_make("kraken");
  CHECK(v->sequential_ids());
  CHECK(v->rest_min_interval_ns() == 1'000'000'000);
  const subscription s = must_resolve(*v, "BTC/USD");
  // Trades 1001..3500 are missing: the live trades around them are 1000 and 3501.
  const gap g{1001, 3500, ts_of(1000), ts_of(3501)};
  auto run =
    run_backfill(*v, s, g, [](const std::string& target) { return trades_page(query_int(target, "since"), 5000); });
  REQUIRE(run.targets.size() == 3);
  CHECK(run.targets[0] == "/0/public/Trades?pair=XBTUSD&since=" + std::to_string(ts_of(1000)) + "&count=1000");
  CHECK(run.targets[1] == "/0/public/Trades?pair=XBTUSD&since=" + std::to_string(ts_of(1999)) + "&count=1000");
  // The second page ends inside the instant of trades 2990-3005 and the third starts at it again.
  CHECK(run.targets[2] == "/0/public/Trades?pair=XBTUSD&since=" + std::to_string(ts_of(2998)) + "&count=1000");
  CHECK(ids_of(run.trades) == id_range(1001, 3500));
  const mi::trade& t = run.trades.front();
  CHECK(t.ts_ns == ts_of(1001));
  CHECK(t.price.to_string() == "30243.4");
  CHECK(t.taker_side == mi::side::buy);
  CHECK(t.symbol == "BTCUSD");
}

TEST_CASE("kraken history: the exchange runs out, error bodies name Kraken's message") {
  auto v = must_make("kraken");
  const subscription s = must_resolve(*v, "BTC/USD");
  const gap g{1001, 3500, ts_of(1000), 0};
  auto run =
    run_backfill(*v, s, g, [](const std::string& target) { return trades_page(query_int(target, "since"), 1500); });
  CHECK(ids_of(run.trades) == id_range(1001, 1500));
  CHECK_FALSE(v->history_request(s, gap{1001, 3500, 0, ts_of(3501)}).has_value()); // no time to start from
  auto err = v->parse_history(s, g, R"({"error":["EQuery:Unknown asset pair"]})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "kraken history: EQuery:Unknown asset pair");
}
