#pragma once

// The REST history API: routes, parameter validation, authentication and JSON bodies
// (docs/api.md). Transport-free: `handle` takes a parsed request and returns a response, so the
// same object serves the Beast server (http_server.hpp) and direct tests. `handle` blocks on
// PostgreSQL: call it from http_server's worker threads.
//
// Database access: a pool of `connections` history_db connections (one per worker is enough);
// a request borrows one for its queries and gives it back, so no connection is shared between
// threads. Every limit is bounded: a borrow waits at most `pool_wait` (then 503), every statement
// at most `statement_timeout` (then 504), and /api/v1/health reads the state a prober thread keeps
// (its own connection, never the pool) without waiting for anything.
//
// Authentication: the checks that need no key (formats, timestamp window) run before the key is
// looked up, so a flood of unsigned or stale requests never reaches PostgreSQL. The key's signing
// key is stored sealed (key_crypto.hpp) and opened with `master_key`; nonces go to `nonces` (a
// JetStream KV bucket shared by every API process in production).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateways/http/auth.hpp"
#include "gateways/http/http_server.hpp"
#include "gateways/http/key_crypto.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/calendar/calendar_feed.hpp"

namespace mi::gw {

/// Settings of the API service.
struct api_options {
  std::string conninfo;      ///< PostgreSQL
  bool auth_required = true; ///< false: every endpoint is anonymous (api.auth: off)
  std::chrono::milliseconds timestamp_window{5000};
  std::int64_t default_quota_per_minute = 1200;
  std::size_t connections = 2; ///< PostgreSQL connections in the pool
  /// Opens the sealed signing keys; without it (auth required) no key can be used.
  std::optional<auth::master_key> master_key;
  /// Where nonces are remembered; nullptr: this process's memory (one process only).
  std::shared_ptr<auth::nonce_store> nonces;
  std::chrono::milliseconds statement_timeout{3000}; ///< every API query (SET statement_timeout)
  std::chrono::milliseconds pool_wait{2000};         ///< longest wait for a pooled connection, then 503
  std::chrono::milliseconds health_interval{2000};   ///< database probe for /health (0: none, health "down")
  std::chrono::seconds connect_timeout{3};           ///< libpq connect_timeout of every connection
  /// Clock in ms since the epoch (tests may pin it); default: system_clock.
  std::function<std::int64_t()> now_ms;
  /// The markets' calendars served by GET /api/v1/calendar (the feed's snapshot per request: a refresh is served
  /// from the next request on); nullptr: CRYPTO only.
  std::shared_ptr<const mi::calendar::calendar_feed> calendars;
  /// Called after each request: route ("/api/v1/klines", or "other"), status, seconds spent.
  std::function<void(std::string_view route, int status, double seconds)> on_request;
  /// Called with the text of each database error (the client only gets a 503) and of each
  /// internal error (500).
  std::function<void(std::string_view message)> on_error;
  /// Called for each refused authentication with the reason's label.
  std::function<void(std::string_view reason)> on_auth_rejected;
  /// Called for each api_keys lookup (one database round trip).
  std::function<void()> on_key_lookup;
  /// Called after each health probe (prober thread) with its outcome.
  std::function<void(bool up)> on_database_state;
};

/// The routes the API answers ("/api/v1/klines", ...): the `route` label values of its metrics (anything else is
/// reported as "other").
std::vector<std::string> api_routes();
/// Every reason on_auth_rejected reports ("missing_credentials", ..., "unusable_key"): the `reason` label values.
std::vector<std::string> api_auth_reasons();

/// The `venue` parameter of the equities routes (/quotes, /daily_bars, /quality) against the venue registry,
/// streamed and polled venues (messages/venue_registry.hpp): nullopt when known, else the 400's message naming them.
std::optional<std::string> unknown_venue(std::string_view venue);

/// GET /api/v1/calendar's answer for query parameters `p` (market, from, to): 200 with the sessions, or 400 naming the
/// bad parameter. Pure (no database).
http_response calendar_response(const mi::calendar::calendar_set& set, const std::map<std::string, std::string>& p);

/// The service behind the routes. Thread-safe.
class api_service {
public:
  explicit api_service(api_options o);
  ~api_service();
  api_service(const api_service&) = delete;
  api_service& operator=(const api_service&) = delete;

  /// Answers one request (never throws).
  http_response handle(const http_request& req);

  /// The answer to a request that must not wait for a worker (GET /api/v1/health) or nullopt.
  /// Never blocks: for http_server_options::inline_handler.
  std::optional<http_response> handle_inline(const http_request& req);

  /// The database as the health prober last saw it (false before the first probe, or when the
  /// last probe is too old).
  bool database_up() const;

  /// Checks the signed token of a push WebSocket upgrade (`GET path?key=..&ts=..&nonce=..&sig=..`,
  /// signed like a REST request over the canonical query of the other parameters). Blocks on the
  /// key lookup. Returns status 200 when the upgrade may proceed, else the error response to send
  /// (401, 429 with Retry-After, 400 for a malformed query, 503 when the database is down). With
  /// auth off every request passes.
  http_response check_push_token(std::string_view target);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace mi::gw
