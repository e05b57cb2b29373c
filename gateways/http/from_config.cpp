#include "gateways/http/from_config.hpp"

#include "config/listen_address.hpp"

namespace mi::gw {

namespace {

/// A server listening on `listen` (validated by config load), other options at their defaults.
http_server_options listening_on(const std::string& listen) {
  const auto addr = *mi::cfg::parse_listen_address(listen);
  http_server_options o;
  o.host = addr.host;
  o.port = addr.port;
  return o;
}

} // namespace

api_options to_options(const mi::cfg::api_config& api, const mi::cfg::postgres_config& pg, bool with_push) {
  api_options o;
  o.conninfo = pg.dsn;
  o.auth_required = api.auth == mi::cfg::auth_mode::required;
  o.timestamp_window = std::chrono::duration_cast<std::chrono::milliseconds>(api.timestamp_window);
  o.default_quota_per_minute = api.default_quota_per_minute;
  o.connections = static_cast<std::size_t>(api.workers) + (with_push ? 1 : 0);
  o.statement_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(api.statement_timeout);
  o.pool_wait = std::chrono::duration_cast<std::chrono::milliseconds>(api.pool_wait);
  return o;
}

http_server_options to_server_options(const mi::cfg::api_config& api) {
  http_server_options o = listening_on(api.listen);
  o.workers = static_cast<std::size_t>(api.workers);
  o.max_connections = static_cast<std::size_t>(api.max_connections);
  o.queue_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(api.pool_wait);
  return o;
}

http_server_options to_server_options(const mi::cfg::metrics_config& m) {
  http_server_options o = listening_on(m.listen);
  o.workers = 1;
  o.server_name = "market-ingestor-metrics";
  return o;
}

} // namespace mi::gw
