#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <class T>
class Family;
} // namespace prometheus

namespace mi::gw {

/// Every metric of the platform (prefix `mi_`, Prometheus naming), in one registry, served
/// on `/metrics`. All methods are thread-safe (prometheus-cpp metrics are atomics).
class metrics {
public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  /// Serves GET /metrics on `listen` ("host:port", port 0 = any); error if the port is taken.
  mi::result<std::uint16_t> serve(const std::string& listen);

  // -- ingest ---------------------------------------------------------------------------
  void trade_received(std::string_view exchange, std::uint64_t n = 1);
  void frame_rejected(std::string_view exchange, std::string_view reason);
  /// A trade refused at the edge and quarantined on market.rejected.{exchange}.{symbol}
  /// (mi_trades_rejected_total{exchange,reason}; reason from mi::reject_reason).
  void trade_rejected(std::string_view exchange, std::string_view reason);
  /// A trade of MARKET_RAW the kline engine skipped (mi_kline_trades_skipped_total{exchange,reason}).
  void kline_trade_skipped(std::string_view exchange, std::string_view reason);
  void exchange_error(std::string_view exchange);
  void symbol_rejected(std::string_view exchange);
  void reconnect(std::string_view exchange);
  void connection_up(std::string_view exchange, bool up);
  /// A configured symbol's status (mi_symbol_up{exchange,symbol}): true = subscribed, false = refused
  /// (not listed by the exchange, or refused at subscription).
  void symbol_status(std::string_view exchange, std::string_view symbol, bool up);
  /// A jump in a symbol's sequential trade ids (mi_gaps_detected_total).
  void gap_detected(std::string_view exchange);
  /// Trades recovered from the exchange's REST history (mi_backfilled_trades_total).
  void backfilled(std::string_view exchange, std::uint64_t n);
  /// A REST answer that said "too many requests" (429) or "banned" (Binance 418, Bybit 403): the
  /// backfill waits its Retry-After (mi_backfill_throttled_total).
  void backfill_throttled(std::string_view exchange);
  /// A gap (part) that could not be filled and was reported on market.gap.* (mi_gaps_unfilled_total,
  /// mi_gap_missing_trades_total).
  void gap_unfilled(std::string_view exchange, std::uint64_t missing);
  /// A watchdog action: "reconnect" (silent connection, dead heartbeat) or "resubscribe" (silent symbol).
  void watchdog(std::string_view exchange, std::string_view action);
  // -- publish --------------------------------------------------------------------------
  void trade_published(std::string_view exchange);
  void publish_failed(std::string_view stream);
  /// A publish re-sent with the same Nats-Msg-Id after an ack timeout or "no responders"
  /// (mi_publish_retries_total); counted by the JetStream gateway's on_retry hook.
  void publish_retried();
  /// Exchange trade time -> JetStream ack, seconds.
  void ingest_latency(std::string_view exchange, double seconds);
  /// Where mi_publish_in_flight is read from at every scrape (the JetStream gateway's own
  /// counter), so the gauge is never stale. Set once; the source must outlive serving.
  void publish_in_flight_source(std::function<std::int64_t()> source);
  // -- klines ---------------------------------------------------------------------------
  void kline_final(std::string_view interval);
  void late_trade(std::string_view exchange);
  void kline_revised(std::string_view exchange);
  /// Close condition met -> final kline acked by JetStream, seconds.
  void final_latency(double seconds);
  void symbol_windows(std::int64_t n);
  // -- store ----------------------------------------------------------------------------
  void rows_written(std::string_view table, std::uint64_t n);
  void batch_failed(std::string_view table);
  void batch_seconds(std::string_view table, double seconds);
  /// A message published to market.dlq.{kind} (kind: trades | klines).
  void dead_letter(std::string_view kind);
  /// Pending + ack-pending messages of a durable consumer (mi_consumer_lag{consumer}).
  void consumer_lag(std::string_view consumer, std::uint64_t n);
  /// Rows in a table's DEFAULT partition (mi_partition_default_rows{table}).
  void partition_default_rows(std::string_view table, std::uint64_t n);
  /// Result of a scheduled audit: mi_audit_mismatches{kind=trades|klines},
  /// mi_audit_checked{kind=trades|klines} (cells and klines compared) and
  /// mi_audit_last_run_timestamp_seconds.
  void audit_result(std::uint64_t trade_mismatches, std::uint64_t kline_mismatches, std::uint64_t trade_cells,
                    std::uint64_t klines, double unix_seconds);
  // -- push -----------------------------------------------------------------------------
  void push_clients(std::int64_t n);
  void push_dropped(std::uint64_t n);
  void push_bad_request(std::string_view code);
  /// A client_session actor that died with an error; the hub removed it (mi_push_sessions_failed_total).
  void push_session_failed();
  // -- supervision ----------------------------------------------------------------------
  /// A child restarted by a supervisor (mi_actor_restarts_total{supervisor}); the label is the
  /// role (ingest, kline, store, push, publish), a bounded set.
  void actor_restart(std::string_view supervisor);
  /// A push limit acted (mi_push_rejections_total{reason}): max_connections (upgrade refused with 503),
  /// rate_limit (closed 1008), message_too_large (closed 1009), api_key_revoked (closed 1008),
  /// trade_feeds (a trade channel refused: the server-wide feed limit).
  void push_rejected(std::string_view reason);
  /// MARKET_RAW feeds open for trade.* channels (mi_push_trade_feeds).
  void push_trade_feeds(std::int64_t n);
  // -- api ------------------------------------------------------------------------------
  /// One REST request answered: route ("/api/v1/klines" or "other"), HTTP status, seconds.
  void api_request(std::string_view route, int status, double seconds);
  /// A refused authentication (REST or push token), by reason ("bad_signature", ...).
  void api_auth_rejected(std::string_view reason);
  /// One api_keys lookup (a database round trip for authentication): mi_api_key_lookups_total.
  void api_key_lookup();
  /// Open REST connections now: mi_api_connections.
  void api_connections(std::size_t open);
  /// A REST connection refused at api.max_connections: mi_api_connections_refused_total.
  void api_connection_refused();
  /// A request answered 503 because no worker took it within api.pool_wait (or the queue was full):
  /// mi_api_busy_total.
  void api_busy();
  /// The health prober's view of the database: mi_api_database_up 1/0.
  void api_database_up(bool up);

  /// The text exposition of every metric (for tests and the admin console).
  std::string scrape() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace mi::gw
