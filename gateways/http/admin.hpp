#pragma once

// The operator's console and the admin API (role `admin`, its own listen address admin.listen;
// docs/operations.md "Operator's console"):
//
//   GET  /admin, /admin/console.js, /admin/console.css   the page (embedded in the binary; no token: it holds no data)
//   GET  /admin/api/<section>                             one section's JSON snapshot (actors, connections, ...)
//   GET  /admin/api/events[?chart=EX.SYMBOL.INTERVAL]     server-sent events: `event: <section>` whenever a
//                                                         section changed (checked every event_interval), and
//                                                         `event: candles` for the chart's newest candles
//   GET  /admin/api/history/<route>?...                   the REST API's /api/v1/<route> (klines, coverage, ...)
//   POST /admin/api/<action>                              an action (restart, pause, resume, disconnect, audit,
//                                                         redrive); its parameters as a flat JSON object
//
// Every /admin/api/ request carries `Authorization: Bearer <admin.token>`; anything else gets 401 and an
// error body, nothing more. The token is compared in constant time (through SHA-256, so its length does
// not leak either) and never logged. Each action is reported to on_action with who asked (the peer
// address) and its outcome, for the log line and the counter.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "gateways/http/http_server.hpp"

namespace mi::gw {

/// One section of the console: GET /admin/api/<name>, and `event: <name>` on the event stream.
struct admin_section {
  std::string name;                  ///< "actors", "connections", ...
  std::function<std::string()> json; ///< a snapshot as JSON (any thread; may block briefly)
};

/// An action's parameters (the request body's JSON object, values as text).
using admin_params = std::map<std::string, std::string>;

/// One action: POST /admin/api/<name>.
struct admin_action {
  std::string name; ///< "restart", "pause", ...
  /// Does it (a worker thread; may block); the answer goes to the client as is.
  std::function<http_response(const admin_params& p, const std::string& who)> run;
};

/// What the admin routes serve.
struct admin_options {
  std::string token; ///< the bearer token (admin.token, MI_ADMIN_TOKEN); never empty
  std::vector<admin_section> sections;
  std::vector<admin_action> actions;
  /// The REST API's answer to GET /api/v1/<route>?<query> (the chart's history, coverage); null: 404.
  std::function<http_response(const std::string& route, const std::string& query)> history;
  /// Called after each action: its name, who asked, the status answered, the request's parameters.
  std::function<void(const std::string& action, const std::string& who, int status, const admin_params& p)> on_action;
  std::chrono::milliseconds event_interval{1000}; ///< how often the event stream looks for changes
  std::chrono::milliseconds heartbeat{15000};     ///< longest silence on the event stream
};

/// Answers one admin request (a worker thread).
http_response handle_admin(const admin_options& o, const http_request& r);

/// `{"a":"x","n":5,"b":true}` → {a: x, n: 5, b: true}; nullopt for anything but a flat JSON object.
std::optional<admin_params> parse_admin_params(std::string_view body);

/// An embedded console file ("console.html", "console.js", "console.css"; generated from gateways/http/console/).
struct console_asset {
  std::string_view name;
  std::string_view content_type;
  std::string_view body;
};
/// The embedded file named `name`, or null.
const console_asset* find_console_asset(std::string_view name);

} // namespace mi::gw
