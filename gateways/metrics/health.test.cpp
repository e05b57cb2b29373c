#include "gateways/metrics/health.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("health: not ready until every declared check has passed") {
  mi::gw::health h;
  CHECK_FALSE(h.ready()); // nothing declared: not ready (a process that checks nothing is not known to be up)
  h.declare("nats");
  h.declare("database");
  CHECK_FALSE(h.ready());
  h.set("nats", true, "connected");
  CHECK_FALSE(h.ready());
  h.set("database", true, "reachable");
  CHECK(h.ready());
  h.set("database", false, "connection refused");
  CHECK_FALSE(h.ready());
  h.set("database", true, "reachable");
  CHECK(h.ready());
}

TEST_CASE("health: the listener hears each change between passing and failing once") {
  std::vector<std::string> heard;
  mi::gw::health h(
    [&](const mi::gw::health_check& c) { heard.push_back(c.name + (c.ok ? " up: " : " down: ") + c.detail); });
  h.declare("nats");
  h.set("nats", true, "connected");
  h.set("nats", true, "connected"); // no change
  h.set("nats", false, "disconnected");
  h.set("nats", false, "still disconnected"); // no change of ok: detail updated, not announced
  h.set("nats", true, "connected");
  CHECK(heard == std::vector<std::string>{"nats up: connected", "nats down: disconnected", "nats up: connected"});
  CHECK(h.checks().at(0).detail == "connected");
}

TEST_CASE("health: /readyz answers 503 with every check until ready, then 200, and /healthz is always 200") {
  mi::gw::health h;
  h.declare("nats");
  h.declare("role ingest");
  h.set("nats", false, "no \"server\"");
  auto r = mi::gw::answer_health(h, "/readyz");
  CHECK(r.status == 503);
  CHECK(r.body.rfind(
          R"({"status":"not ready","checks":[{"name":"nats","ok":false,"detail":"no \"server\"","since_ms":)", 0) == 0);
  CHECK(r.body.find(R"({"name":"role ingest","ok":false,"detail":"not checked yet","since_ms":)") != std::string::npos);
  CHECK(mi::gw::answer_health(h, "/healthz").status == 200);
  CHECK(mi::gw::answer_health(h, "/healthz").body == "{\"status\":\"alive\"}\n");
  h.set("nats", true, "connected");
  h.set("role ingest", true, "started");
  r = mi::gw::answer_health(h, "/readyz");
  CHECK(r.status == 200);
  CHECK(r.body.rfind(R"({"status":"ready",)", 0) == 0);
  CHECK(mi::gw::answer_health(h, "/metrics").status == 0);
}
