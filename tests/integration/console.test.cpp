// The operator's console (issue 11) in a real headless browser: Debian's chromium driven by playwright-core
// (tests/browser/console.mjs) against a platform started here with the simulator. The script does what an operator
// does and writes what the page showed (result.json, screenshots) to the test's output directory; this test
// compares it with references that share no code with the console: the simulator's record of every trade, and
// what PostgreSQL holds.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/util/civil_time.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::test::platform_env;

namespace {

const std::string token = "console-token-for-the-browser-test-5c1e";

std::string output_dir(const std::string& name) {
  const std::string dir = std::string(MI_TEST_OUTPUT_DIR) + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs the browser script; its result.json. A missing node, chromium or node_modules is a failure, never a skip.
boost::json::value run_browser(int admin_port, const std::string& out, const std::string& mode, int push_port = 0) {
  const std::string dir = std::string(MI_SOURCE_DIR) + "/tests/browser";
  REQUIRE_MESSAGE(std::filesystem::exists(dir + "/node_modules/playwright-core"),
                  "tests/browser/node_modules missing: run scripts/setup (npm ci in tests/browser)");
  REQUIRE_MESSAGE(std::filesystem::exists("/usr/bin/chromium"), "chromium missing: run scripts/setup");
  mi::test::child_process node({"node", dir + "/console.mjs", "--url", "http://127.0.0.1:" + std::to_string(admin_port),
                                "--token", token, "--out", out, "--mode", mode, "--push", std::to_string(push_port)},
                               out + "/node.log");
  const int st = node.wait_for(240s);
  const auto log = mi::test::read_file(out + "/node.log");
  REQUIRE_MESSAGE(st == 0, "the browser script failed (exit " << st << "):\n" << log);
  boost::system::error_code ec;
  auto v = boost::json::parse(mi::test::read_file(out + "/result.json"), ec);
  REQUIRE_MESSAGE(!ec, "result.json: " << ec.message());
  REQUIRE_MESSAGE(v.at("ok").as_bool(), log);
  return v;
}

// POST with a JSON body through curl; {status, body}.
mi::test::http_reply http_post(int port, const std::string& path, const std::string& body) {
  auto r = mi::test::run({"curl", "-sS", "-m", "60", "-o", "-", "-w", "\n%{http_code}", "-H",
                          "Authorization: Bearer " + token, "-H", "Content-Type: application/json", "--data", body,
                          "http://127.0.0.1:" + std::to_string(port) + path});
  mi::test::http_reply out;
  const auto nl = r.output.rfind('\n');
  if (nl == std::string::npos)
    return out;
  out.body = r.output.substr(0, nl);
  out.status = std::atoi(r.output.c_str() + nl + 1);
  return out;
}

std::int64_t num(const boost::json::value& v) {
  if (v.is_int64())
    return v.as_int64();
  if (v.is_string())
    return std::stoll(std::string(v.as_string()));
  return static_cast<std::int64_t>(v.as_double());
}

} // namespace

TEST_CASE("console: in chromium a wrong token gets nothing, the tree shows the real actors, a restarted connection "
          "and a paused then resumed symbol lose no trade, a push client is disconnected, the chart draws the stored "
          "candles") {
  const int admin_port = mi::test::free_port();
  ::setenv("MI_ADMIN_TOKEN", token.c_str(), 1);
  platform_env env({"1s", "1m"}, "    backfill_max_trades: 100000\n", {}, {},
                   "admin:\n  listen: 127.0.0.1:" + std::to_string(admin_port) + "\n");
  env.start_platform({"--roles", "ingest,kline,store,push,api,admin"});
  ::unsetenv("MI_ADMIN_TOKEN");
  env.start_simulator({"--count", "7000", "--rate", "100"});
  const auto out = output_dir("console_ui");
  auto r = run_browser(admin_port, out, "ui", env.push_port());

  // A wrong token: the page stays on the login form, no actor is shown, the API answers 401 with nothing in it.
  const auto& wrong = r.at("wrong_token");
  CHECK(wrong.at("console_hidden").as_bool());
  CHECK(wrong.at("actor_nodes").as_int64() == 0);
  CHECK(wrong.at("api").at("status").as_int64() == 401);
  CHECK(std::string(wrong.at("api").at("body").as_string()).find("connection") == std::string::npos);
  CHECK(wrong.at("events").at("status").as_int64() == 401);

  // The tree: every role supervisor under root, and the platform's actors under them.
  std::map<std::string, std::string> parent_of, kind_of;
  for (const auto& n : r.at("tree").as_array()) {
    const std::string name(n.at("name").as_string());
    parent_of[name] = n.at("parent").is_null() ? "" : std::string(n.at("parent").as_string());
    kind_of[name] = std::string(n.at("kind").as_string());
  }
  for (const char* role : {"ingest", "kline", "store", "publish", "push"})
    CHECK_MESSAGE(parent_of[role] == "root", role);
  for (const auto& [name, parent] : std::map<std::string, std::string>{{"backfill.binance", "ingest"},
                                                                       {"publisher", "publish"},
                                                                       {"saver_trades", "store"},
                                                                       {"saver_klines", "store"},
                                                                       {"saver_gaps", "store"},
                                                                       {"storage", "store"},
                                                                       {"kline_stage", "kline"},
                                                                       {"binance.BTCUSDT", "kline_stage"},
                                                                       {"push_hub", "push"}})
    CHECK_MESSAGE(parent_of[name] == parent, name);
  CHECK(std::count_if(kind_of.begin(), kind_of.end(), [](const auto& k) { return k.second == "connection"; }) >= 1);

  // Restart: a new connection actor, the reconnect counter moved, the supervisor recorded it.
  const auto& restart = r.at("restart");
  CHECK(restart.at("after").at("actor").as_int64() != restart.at("before").at("actor").as_int64());
  CHECK(restart.at("after").at("reconnects").as_int64() > restart.at("before").at("reconnects").as_int64());
  CHECK(env.metric("mi_actor_restarts_total{supervisor=\"ingest\"}") >= 1);

  // Pause: ETHUSDT's stored trades did not move for 3 s while BTCUSDT's did.
  const auto& pause = r.at("pause");
  CHECK(pause.at("eth_after").as_int64() == pause.at("eth_before").as_int64());
  CHECK(pause.at("btc_after").as_int64() > pause.at("btc_before").as_int64());

  // Disconnect: the push client the page opened was closed by the gateway with 1008 and the operator's reason.
  CHECK(r.at("disconnect").at("code").as_int64() == 1008);
  CHECK(r.at("disconnect").at("reason").as_string() == "disconnected by an operator");

  // No trade lost: every trade the simulator generated is stored once (the restart's gap and the pause were
  // backfilled from the exchange's REST history).
  REQUIRE(mi::test::eventually([&] { return env.simulator_done(); }, 120s));
  const auto expected = mi::test::canonical(env.recorded_trades());
  REQUIRE(expected.size() == 7000);
  bool complete = mi::test::eventually([&] { return mi::test::canonical(env.stored_trades()) == expected; }, 60s);
  const auto stored = mi::test::canonical(env.stored_trades());
  CHECK_MESSAGE(complete, "stored " << stored.size() << " of " << expected.size());
  CHECK(env.metric("mi_backfilled_trades_total{exchange=\"binance\"}") > 0);

  // The chart: every candle drawn is the candle PostgreSQL holds for that second.
  std::map<std::int64_t, mi::kline> db;
  for (auto& k : env.stored_klines())
    if (k.symbol == "BTCUSDT" && k.interval == "1s")
      db[k.open_time_ms] = k;
  const auto& candles = r.at("candles").as_array();
  CHECK(candles.size() >= 10);
  for (const auto& c : candles) {
    const auto t = num(c.at("open_time_ms"));
    auto it = db.find(t);
    REQUIRE_MESSAGE(it != db.end(), "candle " << t << " on the page is not stored");
    CHECK(std::string(c.at("open").as_string()) == it->second.open.to_string());
    CHECK(std::string(c.at("high").as_string()) == it->second.high.to_string());
    CHECK(std::string(c.at("low").as_string()) == it->second.low.to_string());
    CHECK(std::string(c.at("close").as_string()) == it->second.close.to_string());
  }
  CHECK(std::filesystem::file_size(out + "/console.png") > 10000);
  // Every action counted by outcome.
  CHECK(env.metric("mi_admin_actions_total{action=\"pause\",outcome=\"done\"}") == 1);
  CHECK(env.metric("mi_admin_actions_total{action=\"resume\",outcome=\"done\"}") == 1);
  CHECK(env.metric("mi_admin_actions_total{action=\"restart\",outcome=\"done\"}") == 1);
  CHECK(env.metric("mi_admin_actions_total{action=\"disconnect\",outcome=\"done\"}") == 1);

  CHECK(env.stop_platform() == 0);
  const auto log = env.platform_log();
  CHECK(log.find("admin: restart actor=") != std::string::npos);
  CHECK(log.find("admin: pause exchange=binance symbol=ETH/USDT by peer 127.0.0.1:") != std::string::npos);
  CHECK(log.find("admin: resume exchange=binance symbol=ETH/USDT by peer 127.0.0.1:") != std::string::npos);
  CHECK(log.find(token) == std::string::npos); // never logged
}

TEST_CASE("console: coverage shows a gap backfill filled and one beyond backfill_max_trades as unfillable in the "
          "right hour, and the audit action's verdict, in the API and on the page") {
  const int admin_port = mi::test::free_port();
  platform_env env({"1s"}, "    backfill_max_trades: 100\n", {}, {},
                   "admin:\n  listen: 127.0.0.1:" + std::to_string(admin_port) + "\n  token: " + token + "\n");
  env.start_platform({"--roles", "ingest,kline,store,api,admin"});
  env.start_simulator({"--count", "4000", "--rate", "200"});
  REQUIRE(mi::test::eventually([&] { return env.stored_trades().size() >= 600; }, 60s));
  // 40 ids of BTCUSDT skipped (backfilled: a filled gap), then 300 of ETHUSDT (the newest 100 backfilled, the 200
  // older ones reported lost).
  const auto sim = [&](const std::string& q) { return mi::test::http_get(env.sim_port(), "/sim/fault?" + q).status; };
  REQUIRE(sim("action=skip&count=40&symbol=BTCUSDT") == 200);
  std::this_thread::sleep_for(2s);
  REQUIRE(sim("action=skip&count=300&symbol=ETHUSDT") == 200);
  REQUIRE(mi::test::eventually([&] { return env.simulator_done(); }, 120s));

  // The reference: the simulator's record against PostgreSQL. A recorded trade not stored is lost; its hour is
  // where the unfillable gap must show.
  const auto recorded = env.recorded_trades();
  std::set<std::string> stored_keys;
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> stored_per_hour;
  auto settle = [&] {
    stored_keys.clear();
    stored_per_hour.clear();
    for (const auto& t : env.stored_trades()) {
      stored_keys.insert(t.symbol + ":" + t.trade_id);
      ++stored_per_hour[{t.symbol, t.ts_ns / 3'600'000'000'000 * 3'600'000}];
    }
    return stored_keys.size() == recorded.size() - 200;
  };
  REQUIRE_MESSAGE(mi::test::eventually(settle, 60s), "stored " << stored_keys.size() << " of " << recorded.size());
  std::map<std::string, std::set<std::int64_t>> lost_hours; // symbol -> the hours of its lost trades
  std::int64_t lost = 0;
  for (const auto& t : recorded)
    if (!stored_keys.count(t.symbol + ":" + t.trade_id)) {
      ++lost;
      lost_hours[t.symbol].insert(t.ts_ns / 3'600'000'000'000 * 3'600'000);
    }
  REQUIRE(lost == 200);
  REQUIRE(lost_hours.size() == 1);
  REQUIRE(lost_hours.count("ETHUSDT") == 1);

  // The API (GET /api/v1/coverage's handler, behind the admin token at /admin/api/coverage).
  const std::string bearer = "Authorization: Bearer " + token;
  boost::json::value cov;
  std::map<std::string, boost::json::object> row; // symbol -> its row with gaps
  auto reported = [&] {
    auto reply = mi::test::http_get(admin_port, "/admin/api/coverage?exchange=binance", {bearer});
    boost::system::error_code ec;
    cov = boost::json::parse(reply.body, ec);
    if (reply.status != 200 || ec)
      return false;
    row.clear();
    for (const auto& h : cov.at("hours").as_array())
      if (h.at("gaps_detected").as_int64() > 0)
        row[std::string(h.at("symbol").as_string())] = h.as_object();
    return row.count("BTCUSDT") && row.count("ETHUSDT") && row["ETHUSDT"].at("gaps_unfillable").as_int64() > 0 &&
           row["BTCUSDT"].at("gaps_filled").as_int64() > 0 && row["ETHUSDT"].at("gaps_filled").as_int64() > 0;
  };
  REQUIRE_MESSAGE(mi::test::eventually(reported, 30s), boost::json::serialize(cov));
  const auto btc = row["BTCUSDT"]; // copies: row is refilled below
  const auto eth = row["ETHUSDT"];
  CHECK(btc.at("gaps_unfillable").as_int64() == 0);
  CHECK(btc.at("missing_trades").as_int64() == 0);
  CHECK(btc.at("recovered_trades").as_int64() == 40);
  // In the hour of the lost trades (2 s of them: across an hour boundary, in one of their two hours).
  CHECK(lost_hours["ETHUSDT"].count(eth.at("hour_ms").as_int64()) == 1);
  CHECK(eth.at("missing_trades").as_int64() == 200);
  CHECK(eth.at("recovered_trades").as_int64() == 100);
  // Trades stored per hour as PostgreSQL counts them.
  for (const auto& h : cov.at("hours").as_array()) {
    const std::string sym(h.at("symbol").as_string());
    CHECK(h.at("trades").as_int64() == stored_per_hour[{sym, h.at("hour_ms").as_int64()}]);
  }

  // The audit action: the hour's verdict shows in the coverage (MARKET_RAW never held the lost trades either).
  const auto audited =
    http_post(admin_port, "/admin/api/audit", "{\"hour\":" + std::to_string(eth.at("hour_ms").as_int64()) + "}");
  CHECK_MESSAGE(audited.status == 200, audited.body);
  CHECK(audited.body.find("CLEAN") != std::string::npos);
  CHECK(http_post(admin_port, "/admin/api/audit", "{\"hour\":\"yesterday\"}").status == 400);
  REQUIRE(reported());
  CHECK(row["ETHUSDT"].at("audit").as_string() == "ok");
  CHECK(row["ETHUSDT"].at("audit_stored_trades").as_int64() == row["ETHUSDT"].at("trades").as_int64());

  // The page's heat-map: the same cells.
  const auto out = output_dir("console_coverage");
  auto r = run_browser(admin_port, out, "coverage");
  std::map<std::string, boost::json::object> cell;
  for (const auto& c : r.at("coverage").as_array())
    cell[std::string(c.at("series").as_string()) + "@" + std::string(c.at("hour").as_string())] = c.as_object();
  const auto key = [](const char* s, const boost::json::object& h) {
    return std::string("binance.") + s + "@" + mi::util::iso8601_ms(h.at("hour_ms").as_int64());
  };
  REQUIRE_MESSAGE(cell.count(key("ETHUSDT", eth)), key("ETHUSDT", eth));
  REQUIRE_MESSAGE(cell.count(key("BTCUSDT", btc)), key("BTCUSDT", btc));
  CHECK(num(cell[key("ETHUSDT", eth)].at("unfillable")) == eth.at("gaps_unfillable").as_int64());
  CHECK(num(cell[key("ETHUSDT", eth)].at("filled")) == eth.at("gaps_filled").as_int64());
  CHECK(num(cell[key("BTCUSDT", btc)].at("filled")) == btc.at("gaps_filled").as_int64());
  CHECK(num(cell[key("BTCUSDT", btc)].at("unfillable")) == 0);
  CHECK(num(cell[key("ETHUSDT", eth)].at("trades")) == eth.at("trades").as_int64());
  CHECK(std::string(cell[key("ETHUSDT", eth)].at("audit").as_string()) == "ok");
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("console: the redrive action puts a dead letter back on its stream, removes it from MARKET_DLQ and is "
          "counted") {
  const int admin_port = mi::test::free_port();
  platform_env env({"1m"}, {}, {}, "  max_attempts: 2\n",
                   "admin:\n  listen: 127.0.0.1:" + std::to_string(admin_port) + "\n  token: " + token + "\n");
  env.start_platform({"--roles", "store,admin"});
  mi::gw::jetstream::options o;
  o.url = env.nats.url();
  auto js = mi::gw::jetstream::connect(o);
  REQUIRE(js.has_value());
  // Not a protobuf Trade: the trade saver dead-letters it after 2 attempts.
  const std::string junk = "\xff\xff not a trade";
  REQUIRE((*js)->publish_sync({"market.raw.binance.BTCUSDT", "junk-1", "application/x-protobuf", junk}).has_value());
  REQUIRE(mi::test::eventually([&] { return env.stream_messages("MARKET_DLQ") == 1; }, 60s));
  const auto raw_before = env.stream_messages("MARKET_RAW");

  CHECK(http_post(admin_port, "/admin/api/redrive", R"({"kind":"klines"})").body.find("0 dead letters") !=
        std::string::npos);
  CHECK(http_post(admin_port, "/admin/api/redrive", R"({"kind":"books"})").status == 400);
  const auto r = http_post(admin_port, "/admin/api/redrive", R"({"kind":"trades"})");
  CHECK_MESSAGE(r.status == 200, r.body);
  CHECK(r.body.find("1 dead letters redriven") != std::string::npos);
  // Back on MARKET_RAW with its payload; the DLQ's copy is gone (until the saver refuses it again).
  CHECK(env.stream_messages("MARKET_RAW") == raw_before + 1);
  auto last = (*js)->last_message("MARKET_RAW", "market.raw.binance.BTCUSDT");
  REQUIRE(last.has_value());
  REQUIRE(last->has_value());
  CHECK((**last).data() == junk);
  auto first = (*js)->get_message("MARKET_DLQ", 1);
  REQUIRE(first.has_value());
  CHECK_FALSE(first->has_value());
  CHECK(env.metric("mi_admin_actions_total{action=\"redrive\",outcome=\"done\"}") == 2);
  CHECK(env.metric("mi_admin_actions_total{action=\"redrive\",outcome=\"refused\"}") == 1);
  CHECK(env.stop_platform() == 0);
  CHECK(env.platform_log().find("admin: redrive kind=trades by peer 127.0.0.1:") != std::string::npos);
}
