#include <doctest/doctest.h>

#include "connectors/venue/test_support.hpp"

using namespace mi::venue;
using namespace mi::venue::test;

namespace {

constexpr std::int64_t s_ns = 1'000'000'000;

/// A /products/BTC-USD/trades page as Coinbase Exchange serves it: up to 1000 ids below `after` (down to
/// `oldest`), newest first, side = the maker's.
std::string coinbase_page(std::int64_t after, std::int64_t oldest) {
  std::vector<std::int64_t> ids;
  for (std::int64_t id = after - 1; id >= oldest && ids.size() < 1000; --id)
    ids.push_back(id);
  return "[" +
         join(ids,
              [](std::int64_t id) {
                return R"({"time":"2026-11-22T07:00:00.)" + std::to_string(100000 + id % 900000) + R"(Z","trade_id":)" +
                       std::to_string(id) + R"(,"price":"10.00000000","size":"0.01000000","side":"sell"})";
              }) +
         "]";
}

} // namespace

TEST_CASE("coinbase resolve: product id for subscribe and REST, listing checked once products are loaded") {
  auto v = must_make("coinbase");
  CHECK(v->instruments_request() == rest_request{"/products"});
  CHECK(must_resolve(*v, "BTC/USD") == subscription{"BTC/USD", "BTCUSD", "BTC", "USD", "BTC-USD", "BTC-USD"});
  CHECK_FALSE(v->resolve("BTC-USD").has_value());
  auto err = v->load_instruments(R"({"message":"Internal server error"})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "coinbase products: Internal server error");
  auto n = v->load_instruments(R"([{"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD","status":"online"},)"
                               R"({"id":"ETH-USD","base_currency":"ETH","quote_currency":"USD","status":"online"}])");
  REQUIRE(n.has_value());
  CHECK(*n == 2);
  CHECK(v->resolve("eth/usd").has_value());
  CHECK(v->resolve("XYZ/USD").err().message == "XYZ/USD: not listed by coinbase");
}

TEST_CASE("coinbase subscribe_requests: market_trades then heartbeats, one channel per message") {
  auto v = must_make("coinbase");
  auto msgs = v->subscribe_requests({must_resolve(*v, "BTC/USD"), must_resolve(*v, "ETH/USD")});
  CHECK(msgs == std::vector<std::string>{
                  R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"market_trades"})",
                  R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"heartbeats"})"});
  CHECK(v->subscribe_requests({}).empty());
}

TEST_CASE("coinbase decode: captured Advanced Trade and legacy trades, acks, heartbeats, errors") {
  auto v = must_make("coinbase");
  const std::size_t compared = replay_trade_fixture(*v, "coinbase");
  // The legacy expectations were cut to the millisecond by their source (the codec's tests compare them):
  // here every legacy frame must simply come out as trades.
  replay_trade_fixture(*v, "coinbase/legacy_exchange", false);
  if (!mi::test::fixture_lines("coinbase", "trades.jsonl").empty())
    CHECK(compared > 0);
  kind_counts c = replay_control_fixture(*v, "coinbase");
  if (!mi::test::fixture_lines("coinbase", "control.jsonl").empty()) {
    CHECK(c.ack == 5);
    CHECK(c.heartbeat == 5);
    CHECK(c.error == 0);
  }
  auto err = v->decode(R"({"type":"error","message":"Failed to subscribe","reason":"Invalid product ID provided"})", 0);
  REQUIRE(err.has_value());
  CHECK(err->what == events::kind::error);
  CHECK(err->message.find("Failed to subscribe") != std::string::npos);
  CHECK(err->rejected.empty());
  auto empty = v->decode(
    R"({"channel":"market_trades","timestamp":"2026-08-09T21:05:48.2Z","sequence_num":9,"events":[{"type":"update","trades":[]}]})",
    0);
  REQUIRE(empty.has_value());
  CHECK(empty->what == events::kind::ignored);
}

TEST_CASE("coinbase heartbeat: never pings, dead after 30 s of silence once heartbeats were flowing") {
  auto v = must_make("coinbase");
  v->on_open(0);
  CHECK_FALSE(v->ping_due(100 * s_ns).has_value());
  CHECK_FALSE(v->heartbeat_timed_out(100 * s_ns)); // no heartbeats seen: no judgement
  const std::string hb =
    R"({"channel":"heartbeats","timestamp":"2026-08-09T21:05:48.856364007Z","sequence_num":35,"events":[{"current_time":"x","heartbeat_counter":1}]})";
  auto r = v->decode(hb, 101 * s_ns);
  REQUIRE(r.has_value());
  CHECK(r->what == events::kind::heartbeat);
  v->on_frame(101 * s_ns);
  CHECK_FALSE(v->heartbeat_timed_out(130 * s_ns));
  CHECK(v->heartbeat_timed_out(131 * s_ns));
  v->on_open(200 * s_ns); // a new connection starts without judgement
  CHECK_FALSE(v->heartbeat_timed_out(300 * s_ns));
}

TEST_CASE("coinbase history: /products/<id>/trades paged backward over 3 pages, ending exactly at the gap's ends") {
  auto v = must_make("coinbase");
  CHECK(v->sequential_ids());
  CHECK(v->rest_min_interval_ns() == 150'000'000);
  const subscription s = must_resolve(*v, "BTC/USD");
  const gap g{1001, 4000, 0, 0};
  auto run =
    run_backfill(*v, s, g, [](const std::string& target) { return coinbase_page(query_int(target, "after"), 1); });
  CHECK(run.targets == std::vector<std::string>{"/products/BTC-USD/trades?after=4001&limit=1000",
                                                "/products/BTC-USD/trades?after=3001&limit=1000",
                                                "/products/BTC-USD/trades?after=2001&limit=1000"});
  auto ids = ids_of(run.trades);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == id_range(1001, 4000));
  const mi::trade& t = run.trades.front();
  CHECK(t.trade_id == "3001");          // the first page, oldest first
  CHECK(t.taker_side == mi::side::buy); // the maker sold
  CHECK(t.symbol == "BTCUSD");

  auto err = v->parse_history(s, g, R"({"message":"NotFound"})");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.err().message == "coinbase history: NotFound");
  auto zero =
    v->parse_history(s, g, R"([{"time":"2026-11-22T07:00:00Z","trade_id":1500,"price":"10","size":"0","side":"buy"}])");
  REQUIRE_FALSE(zero.has_value());
  CHECK(zero.err().message.find("size must be > 0") != std::string::npos);
}
