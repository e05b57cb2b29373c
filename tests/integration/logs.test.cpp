// log.format: json (issue 11, item 4): every line the platform logs is one JSON object, state changes
// are logged once each, and a warning repeated during a PostgreSQL outage is summarised with a count.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::test::platform_env;

TEST_CASE("logs: with log.format json every line parses as JSON, and repeats are summarised with a count") {
  platform_env env({"1s", "1m"}, {}, {}, {}, "log:\n  format: json\n");
  env.start_platform();
  env.start_simulator({"--count", "4000", "--rate", "1000"});
  REQUIRE(mi::test::eventually([&] { return env.metric("mi_rows_written_total{table=\"market_trades\"}") > 0; }, 30s));
  // A 13 s outage: the savers retry and warn each time; the repeats must come out as a summary.
  env.pg.stop_immediate();
  std::this_thread::sleep_for(13s);
  env.pg.start();
  REQUIRE(
    mi::test::eventually([&] { return env.platform_log().find("readiness: database ok") != std::string::npos; }, 30s));
  std::this_thread::sleep_for(2s); // the summaries of windows that ended are written within a second
  CHECK(env.stop_platform() == 0);

  std::istringstream in(env.platform_log());
  int objects = 0, repeated = 0, role_started = 0, nats_connected = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("ready", 0) == 0)
      line.erase(0, 5); // the stdout line scripts wait for (a log line may follow it before its newline)
    if (line.empty())
      continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    REQUIRE_MESSAGE(!ec, "not JSON: " << line);
    REQUIRE_MESSAGE(v.is_object(), "not an object: " << line);
    const auto& o = v.as_object();
    REQUIRE_MESSAGE(o.contains("ts"), line);
    REQUIRE_MESSAGE(o.contains("level"), line);
    REQUIRE_MESSAGE(o.contains("msg"), line);
    CHECK(o.at("ts").as_string().size() >= 20); // 2026-12-02T14:00:00Z at least
    const std::string msg(o.at("msg").as_string());
    ++objects;
    if (msg.find(" times in ") != std::string::npos && msg.find("(repeated ") != std::string::npos)
      ++repeated;
    if (msg.rfind("role ", 0) == 0 && msg.find(" started") != std::string::npos)
      ++role_started;
    if (msg.rfind("nats: connected to ", 0) == 0)
      ++nats_connected;
  }
  CHECK(objects > 10);
  CHECK_MESSAGE(repeated >= 1, env.platform_log());
  CHECK(role_started == 5); // push, publish, store, kline, ingest: once each
  CHECK(nats_connected == 1);
}
