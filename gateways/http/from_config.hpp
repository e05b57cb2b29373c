#pragma once

// The config -> HTTP gateway mappings (REST API service, its server, the /metrics server), beside the gateway
// (one place for every role and tool, like gateways/jetstream/from_config and gateways/push/from_config).

#include "config/config.hpp"
#include "gateways/http/api.hpp"
#include "gateways/http/http_server.hpp"

namespace mi::gw {

/// `api.*` and `postgres.dsn` as the API service takes them. `with_push`: the push gateway shares the service
/// (its token checks), which takes one more pooled connection. The master key, the nonce store and the callbacks
/// (metrics, logging) are the caller's.
api_options to_options(const mi::cfg::api_config& api, const mi::cfg::postgres_config& pg, bool with_push);

/// `api.*` as the REST API's HTTP server takes it; `api.listen` must have been validated (config load does).
/// The handlers and callbacks are the caller's.
http_server_options to_server_options(const mi::cfg::api_config& api);

/// `metrics.listen` as the /metrics HTTP server takes it (one worker); validated by config load.
http_server_options to_server_options(const mi::cfg::metrics_config& m);

} // namespace mi::gw
