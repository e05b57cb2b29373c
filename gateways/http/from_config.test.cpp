#include "gateways/http/from_config.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;

// Expected values are the documented defaults of config/config.hpp and http_server.hpp, written out by hand.

TEST_CASE("http from config: the default api section maps onto the API service and its server") {
  const mi::cfg::api_config api;
  mi::cfg::postgres_config pg;
  pg.dsn = "host=db port=5433 dbname=market";
  const auto ao = mi::gw::to_options(api, pg, false);
  CHECK(ao.conninfo == "host=db port=5433 dbname=market");
  CHECK(ao.auth_required);
  CHECK(ao.timestamp_window == 5000ms);
  CHECK(ao.default_quota_per_minute == 1200);
  CHECK(ao.connections == 2); // one per worker
  CHECK(ao.statement_timeout == 3000ms);
  CHECK(ao.pool_wait == 2000ms);
  CHECK(!ao.master_key);
  CHECK(!ao.nonces);

  const auto ho = mi::gw::to_server_options(api);
  CHECK(ho.host == "127.0.0.1");
  CHECK(ho.port == 8081);
  CHECK(ho.workers == 2);
  CHECK(ho.max_connections == 512);
  CHECK(ho.queue_timeout == 2000ms);
  CHECK(ho.server_name == "market-ingestor-api");

  const auto mo = mi::gw::to_server_options(mi::cfg::metrics_config{});
  CHECK(mo.host == "127.0.0.1");
  CHECK(mo.port == 9464);
  CHECK(mo.workers == 1);
  CHECK(mo.server_name == "market-ingestor-metrics");
}

TEST_CASE("http from config: each changed value reaches its option") {
  mi::cfg::api_config api;
  api.listen = "[::1]:9100";
  api.auth = mi::cfg::auth_mode::off;
  api.timestamp_window = 30s;
  api.default_quota_per_minute = 77;
  api.workers = 5;
  api.max_connections = 9;
  api.statement_timeout = 750ms;
  api.pool_wait = 4s;
  const auto ao = mi::gw::to_options(api, mi::cfg::postgres_config{}, true);
  CHECK(!ao.auth_required);
  CHECK(ao.timestamp_window == 30000ms);
  CHECK(ao.default_quota_per_minute == 77);
  CHECK(ao.connections == 6); // 5 workers + the push gateway's token checks
  CHECK(ao.statement_timeout == 750ms);
  CHECK(ao.pool_wait == 4000ms);

  const auto ho = mi::gw::to_server_options(api);
  CHECK(ho.host == "::1");
  CHECK(ho.port == 9100);
  CHECK(ho.workers == 5);
  CHECK(ho.max_connections == 9);
  CHECK(ho.queue_timeout == 4000ms);

  mi::cfg::metrics_config m;
  m.listen = ":9999";
  const auto mo = mi::gw::to_server_options(m);
  CHECK(mo.host == "0.0.0.0");
  CHECK(mo.port == 9999);
}
