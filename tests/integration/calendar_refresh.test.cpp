// The periodic XNYS calendar refresh (issue 13, calendars.alpaca_refresh_every): a changed answer of the simulator's
// /v2/calendar reaches the kline stage's session mapping and GET /api/v1/calendar without a restart; an empty answer
// keeps the calendar in use. Real nats-server, PostgreSQL, `market-ingestor simulate --exchange alpaca` and
// `market-ingestor run --roles kline,api,store`; the answers are tests/data/alpaca/calendar/v2_calendar_2026-11-30_*,
// the expected bars computed by hand below.
#include <doctest/doctest.h>

#include "tests/harness/iso_time.hpp"
#include "tests/harness/scoped_env.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/codec.hpp"
#include "messages/kline.hpp"
#include "messages/trade.hpp"
#include "messages/util/civil_time.hpp"
#include "tests/harness/process.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;

namespace {

using mi::test::scoped_env;

const std::string data_dir = std::string(MI_SOURCE_DIR) + "/tests/data/alpaca/calendar/";

using mi::test::iso_ms;

mi::trade trade(const std::string& id, const std::string& at, const std::string& price, const std::string& qty) {
  mi::trade t;
  t.exchange = "alpaca";
  t.symbol = "AAPL";
  t.base = "AAPL";
  t.quote = "USD";
  t.trade_id = id;
  t.price = *mi::decimal::parse(price);
  t.quantity = *mi::decimal::parse(qty);
  t.ts_ns = iso_ms(at) * 1'000'000;
  return t;
}

std::string show(const mi::kline& k) {
  return k.interval + " " + std::to_string(k.open_time_ms) + " " + std::to_string(k.close_time_ms) + " " +
         k.open.to_string() + " " + k.close.to_string() + " " + k.volume.to_string() + " " +
         std::to_string(k.trade_count);
}

// "1h 2026-12-01T17:30:00.000Z 2026-12-01T17:59:59.999Z 101 101 5 1" in show()'s form.
std::string bar(const std::string& iv, const std::string& open, const std::string& close, const std::string& rest) {
  return iv + " " + std::to_string(iso_ms(open)) + " " + std::to_string(iso_ms(close)) + " " + rest;
}

// Every final of MARKET_KLINE, shown.
struct finals_reader {
  std::mutex mu;
  std::vector<std::string> finals;
  std::unique_ptr<mi::gw::ordered_consumer> consumer;
  explicit finals_reader(mi::gw::jetstream& js) {
    auto c = mi::gw::ordered_consumer::start(js, "MARKET_KLINE", "market.kline.>", 1, [this](mi::gw::js_message&& m) {
      auto k = mi::decode_kline_pb(std::string(m.data()));
      if (!k || !k->is_final)
        return;
      std::lock_guard lock(mu);
      finals.push_back(show(*k));
    });
    REQUIRE_MESSAGE(c.has_value(), "consume MARKET_KLINE");
    consumer = std::move(*c);
  }
  std::vector<std::string> sorted() {
    std::lock_guard lock(mu);
    auto out = finals;
    std::sort(out.begin(), out.end());
    return out;
  }
};

void publish(mi::gw::jetstream& js, const mi::trade& t) {
  mi::gw::outgoing o{mi::raw_subject(t.exchange, t.symbol), mi::dedup_id(t), std::string(mi::trade_content_type),
                     mi::encode_trade_pb(t)};
  REQUIRE_MESSAGE(js.publish_sync(o).has_value(), "publish " << t.trade_id);
}

} // namespace

TEST_CASE("calendar refresh: a new early close reaches the kline sessions and /api/v1/calendar without a restart, "
          "an empty answer keeps it") {
  scoped_env key("MI_ALPACA_KEY_ID", "PKSIMULATOR");
  scoped_env secret("MI_ALPACA_SECRET_KEY", "simulator-secret");
  scoped_env auth("MI_API_AUTH", "off"); // the calendar is read without signing here (api.test.cpp signs it)
  mi::test::platform_env env({"1m", "1h", "1d"});
  const std::string answer = env.dir() + "/calendar.json";
  std::ofstream(answer) << mi::test::read_file(data_dir + "v2_calendar_2026-11-30_12-04.json");
  std::ofstream(env.config_path(), std::ios::app)
    << "calendars:\n  alpaca_refresh: true\n  alpaca_url: http://127.0.0.1:" << env.sim_port()
    << "\n  alpaca_refresh_every: 1s\n";
  {
    scoped_env sim_answer("ALPACA_SIM_CALENDAR", answer); // the simulator child reads it at every request
    env.start_simulator(
      {"--exchange", "alpaca", "--symbols", "AAPL", "--count", "1", "--rate", "1", "--linger-ms", "600000"});
  }
  const std::vector<std::string> roles{"--roles", "kline,api,store"};
  env.start_platform(roles);
  mi::gw::jetstream::options o;
  o.url = env.nats_urls();
  auto js = mi::gw::jetstream::connect(o);
  REQUIRE(js.has_value());
  finals_reader finals(**js);

  const std::string day_query = "/api/v1/calendar?market=XNYS&from=2026-12-01&to=2026-12-01";
  auto close_served = [&] { return mi::test::http_get(env.api_port(), day_query).body; };
  REQUIRE_MESSAGE(close_served().find(R"("close":"16:00")") != std::string::npos, close_served());

  // Monday 2026-11-30 15:00 New York (EST: 20:00Z), before the refresh: the file's 09:30-16:00 day.
  publish(**js, trade("1", "2026-11-30T20:00:00.000Z", "100", "10"));
  REQUIRE_MESSAGE(mi::test::eventually([&] { return finals.sorted().size() >= 3; }, 30s), env.platform_log());

  // Alpaca now says Tuesday 2026-12-01 closes at 13:00: the next refresh (every second) publishes a new calendar.
  std::ofstream(answer, std::ios::trunc) << mi::test::read_file(data_dir +
                                                                "v2_calendar_2026-11-30_12-04_early_close.json");
  REQUIRE_MESSAGE(
    mi::test::eventually([&] { return close_served().find(R"("close":"13:00")") != std::string::npos; }, 30s),
    close_served() << "\n"
                   << env.platform_log());
  CHECK(env.metric(R"(mi_calendar_refreshes_total{market="XNYS",outcome="changed"})") == 1);
  CHECK(env.platform_log().find("changed: version 2 in use") != std::string::npos);

  // Tuesday 13:30 New York (18:30Z): inside the file's session, after the new close: no bar. 12:45 (17:45Z): its
  // 1h window is 12:30-13:00 and its day 09:30-13:00 (the file would say 12:30-13:30 and 09:30-16:00).
  publish(**js, trade("2", "2026-12-01T18:30:00.000Z", "102", "1"));
  publish(**js, trade("3", "2026-12-01T17:45:00.000Z", "101", "5"));
  std::vector<std::string> expected{
    bar("1d", "2026-11-30T14:30:00.000Z", "2026-11-30T20:59:59.999Z", "100 100 10 1"),
    bar("1d", "2026-12-01T14:30:00.000Z", "2026-12-01T17:59:59.999Z", "101 101 5 1"),
    bar("1h", "2026-11-30T19:30:00.000Z", "2026-11-30T20:29:59.999Z", "100 100 10 1"),
    bar("1h", "2026-12-01T17:30:00.000Z", "2026-12-01T17:59:59.999Z", "101 101 5 1"),
    bar("1m", "2026-11-30T20:00:00.000Z", "2026-11-30T20:00:59.999Z", "100 100 10 1"),
    bar("1m", "2026-12-01T17:45:00.000Z", "2026-12-01T17:45:59.999Z", "101 101 5 1"),
  };
  std::sort(expected.begin(), expected.end());
  REQUIRE_MESSAGE(mi::test::eventually([&] { return finals.sorted().size() >= expected.size(); }, 30s),
                  env.platform_log());
  std::this_thread::sleep_for(3s); // a bar of the 13:30 trade would be final by now (its windows ended long ago)
  CHECK(finals.sorted() == expected);

  // An empty answer: counted and logged, the calendar in use is kept.
  std::ofstream(answer, std::ios::trunc) << "[]";
  REQUIRE_MESSAGE(
    mi::test::eventually(
      [&] { return env.metric(R"(mi_calendar_refreshes_total{market="XNYS",outcome="failed"})") >= 1; }, 30s),
    env.platform_log());
  CHECK(env.platform_log().find("calendars: XNYS refresh: alpaca /v2/calendar: no trading day in the answer") !=
        std::string::npos);
  CHECK(close_served().find(R"("close":"13:00")") != std::string::npos);
  CHECK(env.platform_log().find("simulator-secret") == std::string::npos); // the key headers are never logged
  CHECK(env.stop_platform() == 0);
}
