// The Alpaca daily job end to end (issue 13, item 4): real nats-server, PostgreSQL, the simulator speaking Alpaca
// (WebSocket and REST) and `market-ingestor run`. Hand-made trades of seven XNYS trading days go through the
// platform (ingest, kline, store: our 1d klines); the simulator serves its daily bars from the same trades, one bar
// deliberately one share off. The role `daily` then runs the newest due day and backfills the six before it: the
// stored bars equal the trades' own, the different bar is in the report (core NATS market.quality.alpaca, the
// market_daily_quality table, GET /api/v1/quality, mi_daily_bar_mismatches_total), and a kill -9 mid-backfill
// costs at most the day in flight again, no day skipped (the simulator's request log).
#include <doctest/doctest.h>

#include "tests/harness/scoped_env.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/codec.hpp"
#include "messages/util/civil_time.hpp"
#include "tests/harness/process.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;

namespace {

/// An environment variable of the test process (the `run` and `simulate` children inherit it), removed at the end.
using mi::test::scoped_env;

std::string date_of(std::int64_t day) { return mi::util::date_text(mi::util::civil_from_days(day)); }

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// One expected daily bar, from the trades (by hand: first, max, min, last, sum, count).
struct day_bar {
  std::string open, high, low, close;
  long volume = 0;
  int count = 0;
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty())
      out.push_back(l);
  return out;
}

/// The platform_env's exchange is binance: make it alpaca on the same simulator port, AAPL and MSFT.
void use_alpaca(mi::test::platform_env& env) {
  auto text = mi::test::read_file(env.config_path());
  const std::string port = std::to_string(env.sim_port());
  const std::string from = "  binance:\n    enabled: true\n    ws_url: ws://127.0.0.1:" + port + "/stream\n";
  REQUIRE(text.find(from) != std::string::npos);
  text.replace(text.find(from), from.size(),
               "  binance:\n    enabled: false\n  alpaca:\n    enabled: true\n    ws_url: ws://127.0.0.1:" + port +
                 "/v2/iex\n");
  const std::string syms = "symbols: [BTC/USDT, ETH/USDT]";
  REQUIRE(text.find(syms) != std::string::npos);
  text.replace(text.find(syms), syms.size(), "symbols: [AAPL, MSFT]");
  std::ofstream(env.config_path(), std::ios::trunc) << text;
}

} // namespace

TEST_CASE("alpaca daily job: bars stored as Alpaca serves them, the different bar reported on NATS, in the table, "
          "the API and the counter, and a kill -9 mid-backfill refetches only the day in flight") {
  scoped_env key("MI_ALPACA_KEY_ID", "PKSIMULATOR");
  scoped_env secret("MI_ALPACA_SECRET_KEY", "simulator-secret");
  scoped_env auth("MI_API_AUTH", "off"); // the API is read without signing here (its auth is the other routes')
  scoped_env raw_age("MI_NATS_STREAMS_RAW_MAX_AGE", "30d"); // the trades are up to 11 days old (7 days: too_old)
  // 20 requests a minute: one every 3 s, so the backfill is still going when it is killed.
  mi::test::platform_env env({"1d"}, "    rest_requests_per_minute: 20\n    daily_job:\n      at: \"20:05\"\n"
                                     "      backfill_days: 6\n");
  use_alpaca(env);

  // The days: the newest XNYS trading day whose 20:05 New York has passed, and the six trading days before it
  // (the calendar's sessions, read here without the job's code).
  auto set = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE(set.has_value());
  const auto* ny = set->find("XNYS");
  REQUIRE(ny != nullptr);
  std::vector<std::int64_t> days; // newest first
  std::map<std::int64_t, std::int64_t> open_ns;
  const auto now = now_ns();
  for (auto d = ny->local_day_of(now); days.size() < 7; --d) {
    auto s = ny->session_on_day(d);
    REQUIRE(s.has_value());
    if (!*s)
      continue;
    // 20:05 is 10 h 35 min after the 09:30 open (no DST switch falls on a weekday evening).
    if (days.empty() && (*s)->open_ns + (10 * 60 + 35) * 60'000'000'000LL > now)
      continue;
    days.push_back(d);
    open_ns[d] = (*s)->open_ns;
  }
  const auto live = days.front();
  MESSAGE("live day " << date_of(live) << ", backfill " << date_of(days[1]) << " .. " << date_of(days.back()));

  // Five trades a symbol a day, an hour after the open and 7 minutes apart, oldest day first; ids 1..35 a symbol
  // (the simulator's stream cancels and corrects only from id 89 and 97 on).
  std::map<std::pair<std::string, std::int64_t>, day_bar> expected;
  {
    std::ofstream f(env.dir() + "/trades.jsonl");
    std::map<std::string, std::uint64_t> next_id;
    int k = 0;
    for (auto it = days.rbegin(); it != days.rend(); ++it, ++k) {
      for (int i = 0; i < 5; ++i) {
        for (const std::string sym : {"AAPL", "MSFT"}) {
          mi::trade t;
          t.exchange = "alpaca";
          t.symbol = sym;
          t.base = sym;
          t.quote = "USD";
          t.trade_id = std::to_string(++next_id[sym]);
          // Prices in cents around 100 (AAPL) and 300 (MSFT), moving with the day and the trade.
          const int cents = (sym == "AAPL" ? 10000 : 30000) + k * 37 + ((i * 53) % 7 - 3) * 25;
          t.price = *mi::decimal::from_parts(cents, 2);
          t.quantity = *mi::decimal::from_parts(i + 1 + k, 0);
          t.ts_ns = open_ns[*it] + (60 + i * 7) * 60'000'000'000LL;
          t.recv_ns = t.ts_ns;
          f << mi::trade_to_json(t) << "\n";
          auto& b = expected[{sym, *it}];
          const auto px = t.price.to_string();
          if (b.count == 0)
            b.open = b.high = b.low = px;
          if (t.price > *mi::decimal::parse(b.high))
            b.high = px;
          if (t.price < *mi::decimal::parse(b.low))
            b.low = px;
          b.close = px;
          b.volume += i + 1 + k;
          ++b.count;
        }
      }
    }
  }

  // 1. The trades through the platform: our 1d klines of the seven days.
  scoped_env off("ALPACA_SIM_BAR_OFF", "AAPL:" + date_of(live));
  scoped_env page("ALPACA_SIM_BARS_PAGE", "1"); // one bar a page: the job follows the page tokens
  env.start_platform({"--roles", "ingest,kline,store"});
  env.start_simulator({"--exchange", "alpaca", "--symbols", "AAPL,MSFT", "--input", env.dir() + "/trades.jsonl",
                       "--rate", "0", "--linger-ms", "600000"});
  const std::string count_1d = "SELECT count(*) FROM market_klines WHERE exchange = 'alpaca' AND interval = '1d'";
  REQUIRE_MESSAGE(mi::test::eventually([&] { return env.pg.psql(count_1d) == "14"; }, 90s), env.pg.psql(count_1d)
                                                                                              << " 1d klines\n"
                                                                                              << env.platform_log());
  REQUIRE(env.stop_platform() == 0);

  // 2. The daily job: the report of each day on core NATS.
  mi::gw::jetstream::options o;
  o.url = env.nats_urls();
  auto js = mi::gw::jetstream::connect(o);
  REQUIRE(js.has_value());
  std::mutex mu;
  std::vector<std::string> reports;
  auto sub = mi::gw::core_subscription::start(**js, "market.quality.alpaca", [&](mi::gw::js_message&& m) {
    std::lock_guard lock(mu);
    reports.emplace_back(m.data());
  });
  REQUIRE(sub.has_value());
  scoped_env enabled("MI_EXCHANGES_ALPACA_DAILY_JOB_ENABLED", "true");
  // Alpaca over its rate limit at the first request: 429 with Retry-After 2 s, then the same request again.
  REQUIRE(mi::test::http_get(env.sim_port(), "/sim/fault?action=throttle&count=1&retry_after=2").status == 200);
  env.start_platform({"--roles", "store,api,daily"});
  const auto quality_days = [&] {
    try {
      return std::stoi(env.pg.psql("SELECT count(DISTINCT trading_day) FROM market_daily_quality"));
    } catch (const std::exception&) {
      return 0;
    }
  };
  REQUIRE_MESSAGE(mi::test::eventually([&] { return quality_days() >= 1; }, 60s), env.platform_log());
  // The live day first, with the deliberate difference: one message, one mismatched row, the counter.
  REQUIRE(mi::test::eventually(
    [&] {
      std::lock_guard lock(mu);
      return !reports.empty();
    },
    10s));
  {
    std::lock_guard lock(mu);
    const auto r = boost::json::parse(reports.front()).as_object();
    CHECK(r.at("trading_day").as_string() == date_of(live));
    CHECK(r.at("run").as_string() == "live");
    CHECK(r.at("symbols").as_int64() == 2);
    CHECK(r.at("mismatched").as_int64() == 1);
    const auto& d = r.at("differences").as_array();
    REQUIRE(d.size() == 1);
    CHECK(d[0].at("symbol").as_string() == "AAPL");
    CHECK(d[0].at("field").as_string() == "volume");
    const auto want = expected[{"AAPL", live}].volume;
    CHECK(d[0].at("alpaca").as_string() == std::to_string(want + 1));
    CHECK(d[0].at("ours").as_string() == std::to_string(want));
  }
  CHECK(env.metric(R"(mi_daily_bar_mismatches_total{field="volume",venue="alpaca"})") == 1);
  CHECK(env.metric(R"(mi_daily_bar_mismatches_total{field="close",venue="alpaca"})") == 0);
  CHECK(env.metric(R"(mi_source_requests_total{outcome="ok",source="alpaca.daily"})") >= 2); // the live day's pages
  CHECK(env.metric(R"(mi_source_requests_total{outcome="rate_limited",source="alpaca.daily"})") == 1);

  // kill -9 in the middle of the backfill (three of seven days done), then start again.
  REQUIRE_MESSAGE(mi::test::eventually([&] { return quality_days() >= 3; }, 60s), env.platform_log());
  env.kill_platform();
  const int at_kill = quality_days();
  CHECK(at_kill < 7);
  env.start_platform({"--roles", "store,api,daily"});
  REQUIRE_MESSAGE(mi::test::eventually([&] { return quality_days() == 7; }, 90s), env.platform_log());
  std::this_thread::sleep_for(4s); // one more request would be paced within 3 s: none may come

  // Each day answered once (page 1 of 2: one bar a page, two symbols), only the day in flight at the kill twice; the
  // one 429 was the live day's first request, asked again after its Retry-After.
  const auto log = boost::json::parse(
    mi::test::run({"curl", "-fsS", "http://127.0.0.1:" + std::to_string(env.sim_port()) + "/sim/requests"}).output);
  std::map<std::string, int> first_pages, all_pages;
  std::vector<std::string> throttled;
  for (const auto& e : log.at("requests").as_array()) {
    const std::string path(e.at("path").as_string());
    if (path.rfind("/v2/stocks/bars?start=", 0) != 0)
      continue;
    const auto d = path.substr(22, 10);
    if (e.at("status").as_int64() == 429) {
      throttled.push_back(d);
      continue;
    }
    CHECK(e.at("status").as_int64() == 200);
    ++all_pages[d];
    if (path.find("&page_token=") == std::string::npos)
      ++first_pages[d];
  }
  CHECK(throttled == std::vector<std::string>{date_of(live)});
  std::set<std::string> want_days;
  for (auto d : days)
    want_days.insert(date_of(d));
  std::set<std::string> asked;
  int twice = 0;
  for (const auto& [d, n] : first_pages) {
    asked.insert(d);
    CHECK_MESSAGE(n <= 2, d << " asked " << n << " times");
    twice += n == 2 ? 1 : 0;
  }
  CHECK(asked == want_days); // none skipped, none outside the horizon
  CHECK(twice <= 1);
  for (const auto& [d, n] : all_pages)
    CHECK(n == 2 * first_pages[d]); // every day: its two pages

  // Stored: Alpaca's bars as served (the trades' own values, AAPL's live volume one share more), beside our klines.
  for (const auto& [key, b] : expected) {
    const auto& [sym, d] = key;
    const long vol = b.volume + (sym == "AAPL" && d == live ? 1 : 0);
    CHECK(env.pg.psql("SELECT open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || "
                      "trade_count || ' ' || market || ' ' || adjustment FROM market_daily_bars WHERE venue = "
                      "'alpaca' AND source = 'alpaca' AND symbol = '" +
                      sym + "' AND trading_day = '" + date_of(d) + "'") == b.open + " " + b.high + " " + b.low + " " +
                                                                             b.close + " " + std::to_string(vol) + " " +
                                                                             std::to_string(b.count) + " XNYS none");
  }
  CHECK(env.pg.psql("SELECT count(*) FROM market_daily_quality") == "14");
  CHECK(env.pg.psql("SELECT symbol || ' ' || trading_day || ' ' || differences::text FROM market_daily_quality "
                    "WHERE mismatches > 0") ==
        "AAPL " + date_of(live) + R"( [{"ours": ")" + std::to_string(expected[{"AAPL", live}].volume) +
          R"(", "field": "volume", "source": ")" + std::to_string(expected[{"AAPL", live}].volume + 1) + R"("}])");
  // The reports: every day once at least (the in-flight day twice at most), backfill newest first.
  {
    std::lock_guard lock(mu);
    std::vector<std::string> order;
    for (const auto& r : reports) {
      const auto obj = boost::json::parse(r).as_object();
      order.emplace_back(obj.at("trading_day").as_string());
    }
    CHECK(std::set<std::string>(order.begin(), order.end()) == want_days);
    CHECK(order.size() <= 8);
  }

  // The API: the mismatched row, then every row of a symbol in a day range; bad parameters are 400s.
  const int api = env.api_port();
  auto r = mi::test::http_get(api, "/api/v1/quality?venue=alpaca&mismatched=true");
  REQUIRE(r.status == 200);
  auto arr = boost::json::parse(r.body).as_array();
  REQUIRE(arr.size() == 1);
  CHECK(arr[0].at("symbol").as_string() == "AAPL");
  CHECK(arr[0].at("trading_day").as_string() == date_of(live));
  CHECK(arr[0].at("mismatches").as_int64() == 1);
  CHECK(arr[0].at("differences").as_array()[0].at("field").as_string() == "volume");
  r = mi::test::http_get(api, "/api/v1/quality?venue=alpaca&symbol=MSFT&start=" + date_of(days[2]) +
                                "&end=" + date_of(days[1]));
  REQUIRE(r.status == 200);
  arr = boost::json::parse(r.body).as_array();
  REQUIRE(arr.size() == 2);
  CHECK(arr[0].at("trading_day").as_string() == date_of(days[2])); // oldest first
  CHECK(arr[1].at("mismatches").as_int64() == 0);
  CHECK(arr[1].at("differences").as_array().empty());
  for (const char* bad :
       {"/api/v1/quality?symbol=AAPL", "/api/v1/quality?venue=alpaca&mismatched=yes",
        "/api/v1/quality?venue=alpaca&start=2026-13-01", "/api/v1/quality?venue=alpaca&day=x",
        "/api/v1/quality?venue=alpaca&start=2026-12-02&end=2026-12-01", "/api/v1/quality?venue=alpaca&symbol=aapl"}) {
    auto b = mi::test::http_get(api, bad);
    CHECK_MESSAGE(b.status == 400, bad << " -> " << b.status << " " << b.body);
  }
  CHECK(env.stop_platform() == 0);

  // 3. An operator's rerun of the live day: the same code, one more request, exit 1 (a difference), the report.
  auto rerun =
    mi::test::run({mi::test::binary(), "alpaca-daily", "--config", env.config_path(), "--date", date_of(live)});
  CHECK_MESSAGE(rerun.exit_code == 1, rerun.output);
  std::vector<std::string> out; // the report lines (the log's lines go to stdout too)
  for (const auto& l : lines(rerun.output))
    if (l.front() == '{')
      out.push_back(l);
  REQUIRE_MESSAGE(out.size() == 1, rerun.output);
  CHECK(out[0].find(R"("run":"rerun","symbols":2,"mismatched":1)") != std::string::npos);
  // A range without a trading day, and a bad date: usage errors, nothing fetched.
  auto sunday = mi::test::run(
    {mi::test::binary(), "alpaca-daily", "--config", env.config_path(), "--date", "2026-11-29"}, {}, true);
  CHECK_MESSAGE(sunday.exit_code == 2, sunday.output);
  CHECK(sunday.output.find("no XNYS trading day from 2026-11-29 to 2026-11-29") != std::string::npos);
  CHECK(mi::test::run({mi::test::binary(), "alpaca-daily", "--config", env.config_path(), "--date", "2026-11-31"})
          .exit_code == 2);
  CHECK(env.platform_log().find("simulator-secret") == std::string::npos); // the secret is never logged
}

TEST_CASE("alpaca statuses on the push channel status.alpaca.AAPL: each trading halt of the symbol, as sent") {
  scoped_env key("MI_ALPACA_KEY_ID", "PKSIMULATOR");
  scoped_env secret("MI_ALPACA_SECRET_KEY", "simulator-secret");
  mi::test::platform_env env({"1m"});
  use_alpaca(env);
  env.start_platform({"--roles", "ingest,push"});
  // A push client first (the channel sends new messages only), then the simulator: it halts a symbol after every
  // 211th trade id of it (reason T12), so ids 1..500 of AAPL carry two halts.
  mi::test::child_process tail({mi::test::binary(), "tail", "status.alpaca.AAPL", "--url",
                                "ws://127.0.0.1:" + std::to_string(env.push_port()) + "/", "--count", "2"},
                               env.dir() + "/tail.log");
  std::this_thread::sleep_for(1s);
  env.start_simulator({"--exchange", "alpaca", "--symbols", "AAPL,MSFT", "--count", "1000", "--rate", "500"});
  REQUIRE_MESSAGE(tail.wait_for(60s) != -1, mi::test::read_file(env.dir() + "/tail.log") << env.platform_log());
  int frames = 0;
  for (const auto& l : lines(mi::test::read_file(env.dir() + "/tail.log"))) {
    if (l.rfind(R"({"channel":"status.alpaca.AAPL")", 0) != 0)
      continue;
    ++frames;
    CHECK(l.find(R"("symbol":"AAPL","status_code":"H","status_message":"Trading Halt","reason_code":"T12")") !=
          std::string::npos);
    CHECK(l.find(R"("halted":true,"tape":"C")") != std::string::npos);
  }
  CHECK_MESSAGE(frames == 2, mi::test::read_file(env.dir() + "/tail.log"));
  CHECK(env.stop_platform() == 0);
}
