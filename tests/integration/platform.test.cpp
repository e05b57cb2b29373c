// End-to-end tests of the platform on real components (DESIGN.md, issue 2):
// simulator (Binance protocol) -> market-ingestor run -> nats-server -js -> PostgreSQL -> push.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "gateways/jetstream/jetstream.hpp"
#include "gateways/jetstream/range_reader.hpp"
#include "messages/codec.hpp"
#include "messages/util/clock.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::test::canonical;
using mi::test::platform_env;

namespace {

// What a reader of a failed run needs to tell where klines stopped: the stage (finals counted),
// the stream (messages in MARKET_KLINE), the saver (rows, failures, lag), and the platform's complaints.
std::string diagnosis(platform_env& env) {
  std::ostringstream out;
  out << "\nMARKET_KLINE holds " << env.stream_messages("MARKET_KLINE") << " messages\n";
  std::istringstream metrics(env.scrape_metrics());
  for (std::string line; std::getline(metrics, line);)
    for (const char* family : {"mi_klines_final_total", "mi_rows_written_total", "mi_batch_failures_total",
                               "mi_dead_letters_total", "mi_consumer_lag", "mi_actor_restarts_total"})
      if (line.rfind(family, 0) == 0)
        out << line << "\n";
  std::istringstream log(env.platform_log());
  std::vector<std::string> complaints;
  for (std::string line; std::getline(log, line);)
    if (line.find("[warning]") != std::string::npos || line.find("[error]") != std::string::npos)
      complaints.push_back(line);
  auto from = complaints.size() > 40 ? complaints.size() - 40 : 0;
  out << complaints.size() << " warnings and errors in the platform log, the last " << complaints.size() - from
      << ":\n";
  for (auto i = from; i < complaints.size(); ++i)
    out << complaints[i] << "\n";
  return out.str();
}

// Waits until the database holds the expected trades and klines (the last 1m window closes by
// the wall clock, so this can take a minute), then checks them value for value.
void expect_complete(platform_env& env, std::size_t n_trades) {
  // Every trade generated (the simulator may keep serving REST history after that).
  REQUIRE(mi::test::eventually([&] { return env.recorded_trades().size() >= n_trades; }, 120s));
  auto recorded = env.recorded_trades();
  REQUIRE(recorded.size() == n_trades);
  auto want_trades = canonical(recorded);
  bool trades_ok = mi::test::eventually([&] { return env.stored_trades().size() >= n_trades; }, 60s);
  CHECK_MESSAGE(trades_ok, "stored " << env.stored_trades().size() << " of " << n_trades);
  CHECK(canonical(env.stored_trades()) == want_trades);
  CHECK(env.stream_messages("MARKET_RAW") == n_trades);

  auto want_klines = canonical(env.expected_klines());
  bool klines_ok = mi::test::eventually([&] { return canonical(env.stored_klines()) == want_klines; }, 100s);
  auto got = canonical(env.stored_klines());
  CHECK_MESSAGE(klines_ok, "klines stored " << got.size() << ", expected " << want_klines.size() << diagnosis(env));
  CHECK(got == want_klines);

  // The same candles from a reference that shares no code with the engine: SQL over the stored trades.
  for (const auto& iv : env.intervals()) {
    std::vector<mi::kline> stored;
    for (auto& k : env.stored_klines())
      if (k.interval == iv)
        stored.push_back(k);
    auto reference = canonical(env.sql_klines(iv));
    auto got = canonical(stored);
    CHECK_MESSAGE(!reference.empty(), iv);
    std::string first_diff; // the first candle that differs, both ways, for the failure message
    for (std::size_t i = 0; i < std::max(got.size(), reference.size()) && first_diff.empty(); ++i)
      if (i >= got.size() || i >= reference.size() || got[i] != reference[i])
        first_diff =
          "\nstored: " + (i < got.size() ? got[i] : "-") + "\nsql:    " + (i < reference.size() ? reference[i] : "-");
    CHECK_MESSAGE(got == reference, "interval " << iv << " differs from SQL over market_trades (" << got.size()
                                                << " vs " << reference.size() << " candles)" << first_diff);
  }
}

} // namespace

TEST_CASE("e2e: 10000 simulated trades are exactly once in MARKET_RAW and PostgreSQL with klines as aggregate computes "
          "and pushed live") {
  platform_env env;
  env.start_platform();
  // A WebSocket subscriber, before any trade flows: it must see the finals as they close.
  auto tail_log = env.dir() + "/tail.log";
  mi::test::child_process tail({mi::test::binary(), "tail", "kline.binance.BTCUSDT.1m", "kline.binance.ETHUSDT.1m",
                                "--url", "ws://127.0.0.1:" + std::to_string(env.push_port()) + "/"},
                               tail_log);
  REQUIRE(mi::test::eventually(
    [&] { return mi::test::read_file(tail_log).find("\"subscribed\"") != std::string::npos; }, 10s));

  env.start_simulator({"--count", "10000", "--rate", "5000"});
  expect_complete(env, 10000);

  // The subscriber received exactly the final 1m klines (plus live partials).
  std::set<std::string> pushed_finals;
  std::size_t pushed_partials = 0;
  std::istringstream in(mi::test::read_file(tail_log));
  std::string line;
  while (std::getline(in, line)) {
    auto at = line.find("\"data\":");
    if (line.rfind("{\"channel\":", 0) != 0 || at == std::string::npos)
      continue;
    auto k = mi::kline_from_json(line.substr(at + 7, line.size() - at - 8));
    REQUIRE(k.has_value());
    if (k->is_final)
      pushed_finals.insert(mi::kline_to_json(*k));
    else
      ++pushed_partials;
  }
  CHECK(pushed_partials > 0); // live partials reach the channel too (core NATS market.partial.>)
  std::set<std::string> want;
  for (auto& k : env.expected_klines())
    if (k.interval == "1m")
      want.insert(mi::kline_to_json(k));
  CHECK(pushed_finals == want);

  auto metrics = env.scrape_metrics();
  CHECK(metrics.find("mi_trades_published_total{exchange=\"binance\"} 10000") != std::string::npos);
  CHECK(metrics.find("mi_kline_final_latency_seconds_count") != std::string::npos);
  CHECK(env.stop_platform() == 0);

  // `replay` rebuilds the same klines from MARKET_RAW alone.
  env.pg.psql("DELETE FROM market_klines");
  REQUIRE(env.stored_klines().empty());
  auto rep = mi::test::run(
    {mi::test::binary(), "replay", "--config", env.config_path(), "--from", "0", "--to", "2100-01-01T00:00:00Z"}, {},
    true);
  CHECK_MESSAGE(rep.exit_code == 0, rep.output);
  CHECK(canonical(env.stored_klines()) == canonical(env.expected_klines()));
}

TEST_CASE("e2e: live partials go to core NATS market.partial and MARKET_KLINE holds only finals") {
  platform_env env({"1s"}, {}, "  partial_interval: 200ms\n");
  // A core NATS subscriber of its own, like any other team's: no stream, live only.
  mi::gw::jetstream::options o;
  o.url = env.nats.url();
  auto js = mi::gw::jetstream::connect(o);
  REQUIRE_MESSAGE(js.has_value(), (js ? "" : js.err().message));
  std::mutex mu;
  std::vector<mi::kline> partials;
  std::vector<std::string> wrong; // a message that is not a partial kline on its subject
  auto sub = mi::gw::core_subscription::start(**js, "market.partial.>", [&](mi::gw::js_message&& m) {
    auto k = mi::decode_kline_pb(m.data());
    std::lock_guard lock(mu);
    if (!k || k->is_final || mi::partial_subject(*k) != m.subject() ||
        m.header("Content-Type").value_or("") != mi::kline_content_type)
      wrong.push_back(std::string(m.subject()));
    else
      partials.push_back(*k);
  });
  REQUIRE_MESSAGE(sub.has_value(), (sub ? "" : sub.err().message));
  env.start_platform();
  env.start_simulator({"--count", "5000", "--rate", "1000"});
  REQUIRE(mi::test::eventually([&] { return env.simulator_done(); }, 60s));
  auto want = env.expected_klines();
  REQUIRE(mi::test::eventually([&] { return canonical(env.stored_klines()) == canonical(want); }, 60s));

  // MARKET_KLINE: exactly the finals, each once; not one partial.
  std::vector<mi::kline> stream;
  auto r = mi::gw::read_range(**js, {"MARKET_KLINE", "market.kline.>"}, [&](mi::gw::js_message&& m) {
    auto k = mi::decode_kline_pb(m.data());
    std::lock_guard lock(mu);
    if (k)
      stream.push_back(*k);
  });
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.err().message));
  REQUIRE(r->complete);
  std::lock_guard lock(mu);
  CHECK(stream.size() == want.size());
  CHECK(std::all_of(stream.begin(), stream.end(), [](const mi::kline& k) { return k.is_final; }));
  CHECK(canonical(stream) == canonical(want));

  // market.partial.>: live partials of the very windows that became those finals.
  CHECK(wrong.empty());
  REQUIRE(!partials.empty());
  std::set<std::tuple<std::string, std::string, std::int64_t>> windows;
  for (const auto& k : want)
    windows.emplace(k.symbol, k.interval, k.open_time_ms);
  for (const auto& k : partials)
    CHECK_MESSAGE(windows.count({k.symbol, k.interval, k.open_time_ms}) == 1, mi::kline_to_json(k));
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("e2e: the exchange drops the connection, resends a block and sends malformed frames: still one row and one "
          "message per trade") {
  platform_env env;
  env.start_platform();
  env.start_simulator(
    {"--count", "10000", "--rate", "5000", "--drop-after", "4000", "--resend", "1500", "--malformed-every", "1000"});
  expect_complete(env, 10000);
  auto metrics = env.scrape_metrics();
  CHECK(metrics.find("mi_reconnects_total{exchange=\"binance\"}") != std::string::npos);
  // Malformed frames were rejected and counted by their parser code (the simulator's price "not-a-price" is a
  // bad_number); every good trade still arrived (above).
  CHECK(metrics.find("mi_frames_rejected_total{exchange=\"binance\",reason=\"bad_number\"}") != std::string::npos);
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("e2e: planned rotation opens the new connection before closing the old: nothing lost or doubled") {
  platform_env env({"1s"}, "    rotate_after: 1500ms\n");
  env.start_platform();
  env.start_simulator({"--count", "12000", "--rate", "2000"});
  expect_complete(env, 12000);
  auto log = env.platform_log();
  CHECK(log.find("rotating connection") != std::string::npos);
  // Every rotation overlapped: no trade had to come back from REST (a test that only counted trades would
  // pass if a rotation cut the stream and the backfill refilled it). Counters never incremented are absent (-1).
  CHECK(env.metric("mi_gaps_detected_total{exchange=\"binance\"}") <= 0);
  CHECK(env.metric("mi_backfilled_trades_total{exchange=\"binance\"}") <= 0);
  CHECK(env.stream_messages("MARKET_GAP") == 0);
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("e2e: idle symbols give their actor back once their windows are final (memory stays bounded)") {
  platform_env env({"1s"}, {}, "  idle_after: 2s\n");
  env.start_platform();
  env.start_simulator({"--count", "4000", "--rate", "2000"});
  expect_complete(env, 4000);
  CHECK(mi::test::eventually([&] { return env.scrape_metrics().find("\nmi_symbol_windows 0\n") != std::string::npos; },
                             20s));
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("e2e: kill -9 mid-stream and restart: every trade once, klines as an uninterrupted run") {
  platform_env env;
  env.start_platform();
  // What was in flight when the platform died, and what the exchange traded while it was down,
  // comes back through REST backfill: the restarted connection starts from the last trade stored
  // in MARKET_RAW and fetches the gap from the simulator's historicalTrades.
  env.start_simulator({"--count", "20000", "--rate", "2500", "--linger-ms", "600000"});
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() >= 5000; }, 30s));
  env.kill_platform();
  env.start_platform();
  expect_complete(env, 20000);
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("e2e: the kline stage takes its node's trades as they are acked and reads MARKET_RAW for what another "
          "publisher stored: every candle as SQL computes it over the stored trades, with and without the feed's "
          "linger") {
  std::string linger; // klines.feed_linger
  SUBCASE("taken at once (feed_linger 0ms)") { linger = "0ms"; }
  SUBCASE("taken in bursts (feed_linger 5ms, the default)") { linger = "5ms"; }
  CAPTURE(linger);
  platform_env env({"1s"}, {}, "  feed_linger: " + linger + "\n");
  env.start_platform();
  env.start_simulator({"--count", "6000", "--rate", "2000"});
  // Once its reader is at the end of MARKET_RAW, the stage reads this node's trades from the local feed.
  REQUIRE_MESSAGE(
    mi::test::eventually([&] { return env.metric("mi_kline_reader_switches_total{to=\"local\"}") >= 1; }, 30s),
    env.platform_log());
  // Another publisher (as another ingest node would) stores trades of a symbol this node does not ingest, between
  // this node's trades: sequences the local feed never brings.
  mi::gw::jetstream::options o;
  o.url = env.nats_urls();
  auto js = mi::gw::jetstream::connect(o);
  REQUIRE_MESSAGE(js, js.err().message);
  const std::int64_t start_ms = mi::util::now_ns() / 1'000'000;
  constexpr int foreign = 20;
  for (int i = 0; i < foreign; ++i) {
    mi::trade t;
    t.exchange = "binance";
    t.symbol = "SOLUSDT";
    t.base = "SOL";
    t.quote = "USDT";
    t.trade_id = std::to_string(900000 + i);
    t.price = *mi::decimal::parse(std::to_string(150 + i % 7) + ".25");
    t.quantity = *mi::decimal::parse("0.5");
    t.taker_side = i % 2 == 0 ? mi::side::buy : mi::side::sell;
    t.ts_ns = (start_ms + i * 100) * 1'000'000;
    t.recv_ns = t.ts_ns;
    auto r = (*js)->publish_sync(mi::gw::outgoing{mi::raw_subject(t.exchange, t.symbol), mi::dedup_id(t),
                                                  std::string(mi::trade_content_type), mi::encode_trade_pb(t)});
    REQUIRE_MESSAGE(r, r.err().message);
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(mi::test::eventually([&] { return env.recorded_trades().size() >= 6000; }, 120s));
  const std::size_t want_trades = env.recorded_trades().size() + foreign;
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() >= want_trades; }, 60s));
  CHECK(env.stored_trades().size() == want_trades);
  // Every candle, the other publisher's symbol included, as SQL computes it from the stored trades (the last 1s
  // window closes by the wall clock).
  auto sql = [&] { return canonical(env.sql_klines("1s")); };
  bool same = mi::test::eventually([&] { return canonical(env.stored_klines()) == sql(); }, 60s);
  CHECK_MESSAGE(same, "klines stored " << env.stored_klines().size() << ", SQL " << sql().size() << diagnosis(env));
  std::size_t sol = 0;
  for (const auto& k : env.stored_klines())
    sol += k.symbol == "SOLUSDT" ? 1 : 0;
  CHECK(sol >= 2); // 20 trades 100 ms apart: at least two 1s windows
  // The stage noticed the sequences it was not given and read them from the stream.
  CHECK(env.metric("mi_kline_reader_switches_total{to=\"stream\"}") >= 1);
  const auto log = env.platform_log();
  CHECK_MESSAGE((log.find("did not come through the local feed") != std::string::npos ||
                 log.find("the local feed did not bring") != std::string::npos),
                log);
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("e2e: PostgreSQL down for 10 s mid-stream: the savers wait and resume, every trade stored once") {
  platform_env env({"1s"});
  env.start_platform();
  env.start_simulator({"--count", "50000", "--rate", "5000"});
  REQUIRE_MESSAGE(mi::test::eventually([&] { return env.stored_trades().size() >= 5000; }, 60s),
                  "stored " << env.stored_trades().size() << " trades, MARKET_RAW " << env.stream_messages("MARKET_RAW")
                            << diagnosis(env));
  env.pg.stop_immediate();
  // JetStream keeps taking trades while the database is away.
  auto raw_before = env.stream_messages("MARKET_RAW");
  REQUIRE_MESSAGE(mi::test::eventually([&] { return env.stream_messages("MARKET_RAW") > raw_before + 10000; }, 20s),
                  "MARKET_RAW " << env.stream_messages("MARKET_RAW") << ", " << raw_before << " when PostgreSQL stopped"
                                << diagnosis(env));
  std::this_thread::sleep_for(10s); // the outage itself: the thing under test, not a wait for a condition
  env.pg.start();
  expect_complete(env, 50000);
  auto m = env.scrape_metrics();
  CHECK_MESSAGE(m.find("mi_batch_failures_total{table=\"market_trades\"}") != std::string::npos, m);
  const int status = env.stop_platform();
  auto log = env.platform_log();
  CHECK_MESSAGE(status == 0, "exit status " << status << ", the platform log ends:\n"
                                            << log.substr(log.size() > 6000 ? log.size() - 6000 : 0));
}

TEST_CASE("bad input: a bad config is rejected before anything starts, every error with its key") {
  mi::test::temp_dir dir;
  auto path = dir.path() + "/bad.yaml";
  std::ofstream(path) << "nats:\n  urll: nats://x\nklines:\n  intervals: [2m]\n  grace: soon\n";
  auto r = mi::test::run({mi::test::binary(), "run", "--config", path}, {}, true);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("nats.urll") != std::string::npos);
  CHECK(r.output.find("klines.intervals") != std::string::npos);
  CHECK(r.output.find("klines.grace") != std::string::npos);
  CHECK(r.output.find("ready") == std::string::npos);
}

TEST_CASE("bad input: decode of a malformed frame gets a line-numbered error and the rest is still decoded") {
  std::string input =
    R"({"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true})"
    "\n{not json\n"
    R"({"e":"trade","E":1672515782137,"s":"BNBBTC","t":12346,"p":"0.002","q":"5","T":1672515782137,"m":false,"M":true})"
    "\n";
  auto out = mi::test::run({mi::test::binary(), "decode", "--exchange", "binance"}, input, false);
  CHECK(out.exit_code == 1);
  CHECK(
    out.output ==
    R"({"exchange":"binance","symbol":"BNBBTC","base":"BNB","quote":"BTC","trade_id":"12345","price":"0.001","quantity":"100","side":"sell","ts_ns":1672515782136000000})"
    "\n"
    R"({"exchange":"binance","symbol":"BNBBTC","base":"BNB","quote":"BTC","trade_id":"12346","price":"0.002","quantity":"5","side":"buy","ts_ns":1672515782137000000})"
    "\n");
  auto err = mi::test::run({"sh", "-c", mi::test::binary() + " decode --exchange binance 2>&1 >/dev/null"}, input);
  CHECK(err.output.find("line 2:") == 0);
}
