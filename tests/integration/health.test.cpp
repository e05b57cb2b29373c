// /healthz and /readyz of a running platform (issue 11, item 3): readiness follows nats-server and
// PostgreSQL going away and coming back; liveness does not.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <map>
#include <string>

#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::test::platform_env;

namespace {

// name -> ok of each check in a /readyz body; fails the test when the body is not the documented JSON.
std::map<std::string, bool> checks_of(const std::string& body) {
  std::map<std::string, bool> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  REQUIRE_MESSAGE(!ec, "/readyz body is not JSON: " << body);
  const auto& o = v.as_object();
  REQUIRE(o.contains("status"));
  REQUIRE(o.contains("checks"));
  for (const auto& c : o.at("checks").as_array()) {
    const auto& co = c.as_object();
    REQUIRE(co.at("detail").is_string());
    REQUIRE(co.at("since_ms").is_int64());
    out[std::string(co.at("name").as_string())] = co.at("ok").as_bool();
  }
  return out;
}

// Waits until /readyz answers `status` (and the checks satisfy `pred`); the last reply.
template <class Pred>
mi::test::http_reply wait_readyz(const platform_env& env, int status, Pred pred, std::chrono::seconds timeout) {
  mi::test::http_reply last;
  mi::test::eventually(
    [&] {
      last = mi::test::http_get(env.metrics_port(), "/readyz");
      return last.status == status && pred(checks_of(last.body));
    },
    timeout);
  return last;
}

} // namespace

TEST_CASE("health: /readyz goes 503 while nats-server or PostgreSQL is stopped and 200 again when each returns") {
  platform_env env;
  env.start_platform({"--roles", "ingest,kline,store,push,api"});

  auto all_ok = [](const std::map<std::string, bool>& cs) {
    for (const auto& [name, ok] : cs)
      if (!ok)
        return false;
    return true;
  };
  auto r = wait_readyz(env, 200, all_ok, 30s);
  REQUIRE_MESSAGE(r.status == 200, "never ready: " << r.body);
  auto cs = checks_of(r.body);
  // What the roles need, each listed (stream names of the default configuration).
  for (const char* name :
       {"nats", "database", "stream MARKET_RAW", "stream MARKET_KLINE", "stream MARKET_GAP", "stream MARKET_DLQ",
        "stream MARKET_REJECTED", "role publish", "role ingest", "role kline", "role store", "role push", "role api"})
    CHECK_MESSAGE(cs.count(name) == 1, name << " missing from " << r.body);
  CHECK(mi::test::http_get(env.metrics_port(), "/healthz").status == 200);

  // nats-server stopped: not ready (nats failing), still alive.
  env.nats.stop();
  r = wait_readyz(
    env, 503, [](const auto& c) { return !c.at("nats"); }, 20s);
  CHECK_MESSAGE(r.status == 503, r.body);
  CHECK(r.body.find("\"status\":\"not ready\"") != std::string::npos);
  auto h = mi::test::http_get(env.metrics_port(), "/healthz");
  CHECK(h.status == 200);
  CHECK(h.body.find("alive") != std::string::npos);
  env.nats.start();
  r = wait_readyz(env, 200, all_ok, 30s);
  CHECK_MESSAGE(r.status == 200, r.body);

  // PostgreSQL stopped: not ready (database failing), NATS still fine.
  env.pg.stop_immediate();
  r = wait_readyz(
    env, 503, [](const auto& c) { return !c.at("database") && c.at("nats"); }, 20s);
  CHECK_MESSAGE(r.status == 503, r.body);
  CHECK(mi::test::http_get(env.metrics_port(), "/healthz").status == 200);
  env.pg.start();
  r = wait_readyz(env, 200, all_ok, 30s);
  CHECK_MESSAGE(r.status == 200, r.body);

  auto log = env.platform_log();
  CHECK(log.find("readiness: database failing") != std::string::npos);
  CHECK(log.find("readiness: database ok") != std::string::npos);
  CHECK(log.find("nats: disconnected") != std::string::npos);
  CHECK(log.find("nats: reconnected") != std::string::npos);
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("health: a kline-only process needs no database and is ready without one") {
  platform_env env;
  env.pg.stop_immediate();
  env.start_platform({"--roles", "kline"});
  auto r = wait_readyz(
    env, 200, [](const auto& c) { return c.count("database") == 0; }, 30s);
  CHECK_MESSAGE(r.status == 200, r.body);
  CHECK(r.body.find("\"role kline\"") != std::string::npos);
  CHECK(env.stop_platform() == 0);
}
