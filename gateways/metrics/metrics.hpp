#pragma once

#include <cstdint>
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
  /// A gap (part) that could not be filled and was reported on market.gap.* (mi_gaps_unfilled_total,
  /// mi_gap_missing_trades_total).
  void gap_unfilled(std::string_view exchange, std::uint64_t missing);
  /// A watchdog action: "reconnect" (silent connection, dead heartbeat) or "resubscribe" (silent symbol).
  void watchdog(std::string_view exchange, std::string_view action);
  // -- publish --------------------------------------------------------------------------
  void trade_published(std::string_view exchange);
  void publish_failed(std::string_view stream);
  void publish_retried();
  /// Exchange trade time -> JetStream ack, seconds.
  void ingest_latency(std::string_view exchange, double seconds);
  void publish_in_flight(std::int64_t n);
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
  /// Result of a scheduled audit: mi_audit_mismatches{kind=trades|klines} and
  /// mi_audit_last_run_timestamp_seconds.
  void audit_result(std::uint64_t trade_mismatches, std::uint64_t kline_mismatches, double unix_seconds);
  // -- push -----------------------------------------------------------------------------
  void push_clients(std::int64_t n);
  void push_dropped(std::uint64_t n);
  void push_bad_request(std::string_view code);
  // -- api ------------------------------------------------------------------------------
  /// One REST request answered: route ("/api/v1/klines" or "other"), HTTP status, seconds.
  void api_request(std::string_view route, int status, double seconds);
  /// A refused authentication (REST or push token), by reason ("bad_signature", ...).
  void api_auth_rejected(std::string_view reason);

  /// The text exposition of every metric (for tests and the admin console).
  std::string scrape() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace mi::gw
