#pragma once

// Per-component probe objects (Redpanda's `*_probe`): each holds the series its component moves, bound to their
// label values once when the component starts (metrics::connection(exchange), metrics::saver(table, consumer), ...).
// An event is a call on the probe: no label lookup, no lock, no allocation. Every label value comes from a bounded
// set: exchanges from the venue registry, reasons and actions from enums, routes and statuses from closed lists;
// a value outside its set is counted under "other" and never creates a series of its own.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateways/metrics/series.hpp"
#include "messages/result.hpp"
#include "messages/trade_admission.hpp"

namespace mi::gw {

/// Why an exchange frame was rejected (mi_frames_rejected_total{reason}) besides the codec's own codes
/// (connection_probe::frame_malformed: reason = the mi::errc parser code).
enum class frame_reject : std::uint8_t {
  malformed,  ///< the codec could not decode it, with no parser code (unclassified)
  bad_symbol, ///< a trade whose symbol is not a legal NATS token
};
/// "malformed", "bad_symbol".
std::string_view to_string(frame_reject r);

/// What the connection watchdog did (mi_watchdog_actions_total{action}).
enum class watchdog_action : std::uint8_t {
  reconnect,   ///< a silent connection or a dead heartbeat
  resubscribe, ///< a silent symbol
};
/// "reconnect", "resubscribe".
std::string_view to_string(watchdog_action a);

/// Why the push gateway refused a connection, closed a client or refused a subscription
/// (mi_push_rejections_total{reason}).
enum class push_rejection : std::uint8_t {
  max_connections,   ///< upgrade refused with 503
  rate_limit,        ///< closed 1008
  message_too_large, ///< closed 1009
  api_key_revoked,   ///< closed 1008
  trade_feeds,       ///< a trade channel refused: the server-wide feed limit
  slow_consumer,     ///< closed 1008 after push.disconnect_after drops (policy disconnect)
  other,             ///< a reason this list does not name
};
/// The label of a reason ("max_connections", ...).
std::string_view to_string(push_rejection r);
/// The inverse of to_string; `other` for anything else.
push_rejection parse_push_rejection(std::string_view s);

/// A table the savers write (label `table`: market_trades | market_klines; `kind`: trades | klines).
enum class store_table : std::uint8_t { trades, klines };
/// "market_trades", "market_klines".
std::string_view to_string(store_table t);

/// Per exchange: its connection actors, their quarantine and its backfill actor
/// (metrics::connection(exchange); label exchange from the venue registry).
class connection_probe {
public:
  void trade_received(std::uint64_t n) { received_.inc(static_cast<double>(n)); }
  void frame_rejected(frame_reject r) { frames_rejected_[static_cast<std::size_t>(r)].inc(); }
  /// A frame the codec refused, by its parser code (mi_frames_rejected_total{reason="malformed_json"|...|
  /// "unsupported_message"}; a code outside mi::parse_errcs counts as reason "malformed").
  void frame_malformed(mi::errc code) {
    const auto i = static_cast<std::size_t>(code) - static_cast<std::size_t>(mi::parse_errcs[0]);
    (i < frames_malformed_.size() ? frames_malformed_[i] : frames_rejected_[0]).inc();
  }
  /// A trade refused at the edge and quarantined (mi_trades_rejected_total{exchange,reason}).
  void trade_rejected(mi::reject_reason r);
  void exchange_error() { errors_.inc(); }
  void symbol_rejected() { symbols_rejected_.inc(); }
  void reconnect() { reconnects_.inc(); }
  /// mi_exchange_connections: +1 when a connection comes up, -1 when it goes down.
  void connection_up(bool up) { up ? connections_.inc() : connections_.dec(); }
  /// A configured symbol's status (mi_symbol_up{exchange,symbol}): 1 subscribed, 0 refused. At start and when the
  /// exchange refuses one: not on the per-frame path, so the series is looked up here (symbols come from config).
  void symbol_status(std::string_view symbol, bool up);
  /// A jump in a symbol's sequential trade ids (mi_gaps_detected_total).
  void gap_detected() { gaps_.inc(); }
  void watchdog(watchdog_action a) { watchdog_[static_cast<std::size_t>(a)].inc(); }
  /// Trades recovered from the exchange's REST history (mi_backfilled_trades_total).
  void backfilled(std::uint64_t n) { backfilled_.inc(static_cast<double>(n)); }
  /// A 429 / 418 / 403 answer: the backfill waits its Retry-After (mi_backfill_throttled_total).
  void backfill_throttled() { throttled_.inc(); }
  /// A gap (part) reported on market.gap.* (mi_gaps_unfilled_total, mi_gap_missing_trades_total).
  void gap_unfilled(std::uint64_t missing) {
    gaps_unfilled_.inc();
    gap_missing_.inc(static_cast<double>(missing));
  }
  /// The `exchange` label value ("other" for a name the registry does not list).
  const std::string& exchange() const { return exchange_; }

private:
  friend class metrics;
  std::string exchange_;
  counter_series received_, errors_, symbols_rejected_, reconnects_, gaps_, backfilled_, throttled_, gaps_unfilled_,
    gap_missing_;
  gauge_series connections_;
  std::array<counter_series, 2> frames_rejected_;
  std::array<counter_series, std::size(mi::parse_errcs)> frames_malformed_; // by parser code, in enum order
  std::array<counter_series, mi::reject_reasons.size()> trades_rejected_;   // by mi::reject_reason (none included)
  std::array<counter_series, 2> watchdog_;
  prometheus::Family<prometheus::Gauge>* symbol_up_ = nullptr;
};

/// Per (exchange, symbol): its order book on the connection (metrics::book(exchange, symbol, reasons)).
class book_probe {
public:
  /// mi_book_resyncs_total{exchange,symbol,reason}; `reason` indexes the reasons the probe was made with.
  void resync(std::size_t reason) {
    if (reason < resyncs_.size())
      resyncs_[reason].inc();
  }
  /// mi_book_valid{exchange,symbol}.
  void valid(bool v) { valid_.set(v ? 1 : 0); }
  /// mi_book_messages_total{exchange,kind}.
  void published(bool snapshot) { snapshot ? snapshots_.inc() : deltas_.inc(); }

private:
  friend class metrics;
  std::vector<counter_series> resyncs_;
  gauge_series valid_;
  counter_series snapshots_, deltas_;
};

/// Per exchange: trades acked by JetStream and their latency (metrics::publish(exchange)).
class publish_probe {
public:
  void trade_published() { published_.inc(); }
  /// Exchange trade time -> JetStream ack, seconds (mi_ingest_latency_seconds).
  void ingest_latency(double seconds) { latency_.observe(seconds); }

private:
  friend class metrics;
  counter_series published_;
  histogram_series latency_;
};

/// The publisher's own counts (metrics::publisher()).
class publisher_probe {
public:
  /// A publish that failed permanently, by the stream its subject belongs to (mi_publish_failures_total{stream});
  /// the streams are those given to metrics::publish_streams(), any other name counts as "other".
  void publish_failed(std::string_view stream);
  /// A publish re-sent with the same Nats-Msg-Id (mi_publish_retries_total).
  void publish_retried() { retried_.inc(); }

private:
  friend class metrics;
  struct streams {
    label_set names;
    std::vector<counter_series> failed;
    explicit streams(label_set n) : names(std::move(n)), failed(names.size()) {}
  };
  counter_series retried_;
  std::atomic<streams*> streams_{nullptr};
};

/// The kline stage (metrics::kline()).
class kline_probe {
public:
  /// A final kline published (mi_klines_final_total{interval}); an interval outside the interval table counts as
  /// "other".
  void kline_final(std::string_view interval) { finals_[intervals_->index_of(interval)].inc(); }
  /// Close condition met -> final kline acked by JetStream, seconds.
  void final_latency(double seconds) { final_latency_.observe(seconds); }
  /// Live symbol_window actors (mi_symbol_windows).
  void symbol_windows(std::int64_t n) { windows_.set(static_cast<double>(n)); }
  /// A final MARKET_KLINE already held under its dedup id with other values, published again one revision above
  /// (mi_kline_finals_superseded_total).
  void final_superseded() { superseded_.inc(); }
  /// The kline stage went from reading MARKET_RAW to this node's acked trades (`to_local`) or back
  /// (mi_kline_reader_switches_total{to}).
  void reader_switched(bool to_local) { (to_local ? to_local_ : to_stream_).inc(); }

private:
  friend class metrics;
  const label_set* intervals_ = nullptr;
  std::vector<counter_series> finals_;
  histogram_series final_latency_;
  gauge_series windows_;
  counter_series superseded_;
  counter_series to_local_;
  counter_series to_stream_;
};

/// Per exchange: what the kline engine did with its trades (metrics::kline_trades(exchange)).
class kline_trades_probe {
public:
  /// A trade of MARKET_RAW the engine skipped (mi_kline_trades_skipped_total{exchange,reason}).
  void trade_skipped(mi::reject_reason r);
  /// A trade for an already final window (mi_late_trades_total).
  void late_trade() { late_.inc(); }
  /// A late trade that revised a final kline (mi_late_trades_revised_total).
  void kline_revised() { revised_.inc(); }
  /// A trade outside its market's sessions (mi_kline_trades_outside_session_total{exchange,reason}); `reason` is a
  /// mi::kline_engine::outside: 1 closed, 2 no_calendar.
  void outside_session(std::uint8_t reason) {
    if (reason >= 1 && reason <= outside_.size())
      outside_[reason - 1u].inc();
  }

  /// What the kline stage did with an amendment (Alpaca correction or cancel) of MARKET_RAW
  /// (mi_trade_amendments_total{exchange,result}): 0 applied (windows revised or replaced), 1 unmatched (the amended
  /// trade is not among the symbol's recent trades), 2 too_late (its windows are no longer kept), 3 failed (MARKET_RAW
  /// could not be read back).
  void amendment(std::size_t result) {
    if (result < amendments_.size())
      amendments_[result].inc();
  }
  static constexpr std::array<const char*, 4> amendment_results{"applied", "unmatched", "too_late", "failed"};

private:
  friend class metrics;
  counter_series late_, revised_;
  std::array<counter_series, 4> amendments_;
  std::array<counter_series, mi::reject_reasons.size()> skipped_; // by mi::reject_reason
  std::array<counter_series, 2> outside_;                         // closed, no_calendar
};

/// One batch saver: its table and its durable consumer (metrics::saver(table, consumer)).
class saver_probe {
public:
  void rows_written(std::uint64_t n) { rows_.inc(static_cast<double>(n)); }
  /// A batch that failed and will be retried (mi_batch_failures_total{table}).
  void batch_failed() { failed_.inc(); }
  void batch_seconds(double seconds) { duration_.observe(seconds); }
  /// A message published to market.dlq.{kind} (mi_dead_letters_total{kind}).
  void dead_letter() { dead_letters_.inc(); }
  /// Pending + ack-pending messages of the saver's durable consumer (mi_consumer_lag{consumer}).
  void consumer_lag(std::uint64_t n) { lag_.set(static_cast<double>(n)); }
  /// Messages skipped because their stream sequences were already stored (mi_saver_redelivered_total{table}).
  void redelivered(std::uint64_t n) { redelivered_.inc(static_cast<double>(n)); }
  /// A batch the fast COPY could not store (a trade already stored under another sequence), stored again through
  /// staging + ON CONFLICT (mi_saver_key_fallbacks_total{table}).
  void key_fallbacks(std::uint64_t n) { fallbacks_.inc(static_cast<double>(n)); }
  /// Messages stored (or dead-lettered) but not yet acked because a sequence below them is not done
  /// (saver.acks: batch; mi_saver_acks_held{consumer}).
  void acks_held(std::uint64_t n) { held_.set(static_cast<double>(n)); }

private:
  friend class metrics;
  counter_series rows_, failed_, dead_letters_, redelivered_, fallbacks_;
  histogram_series duration_;
  gauge_series lag_, held_;
};

/// One document source (metrics::source()): its requests by outcome, its circuit, what it published.
class source_probe {
public:
  /// One request ended with outcome number `outcome` (an index into the outcome names the probe was made with:
  /// mi_source_requests_total{source,outcome}).
  void request(std::size_t outcome) { requests_.at(outcome).inc(); }
  /// mi_source_circuit_state{source}: 0 closed, 1 open, 2 half_open.
  void circuit(int state) { circuit_.set(state); }
  /// Documents published to MARKET_DOC (mi_documents_published_total{source,path}): read by a poll, or received
  /// over a stream (`stream`: Alpaca's news WebSocket).
  void published(std::uint64_t n, bool stream = false) {
    (stream ? published_stream_ : published_).inc(static_cast<double>(n));
  }
  /// The source was unreachable beyond its backfill horizon (mi_source_gaps_total{source}).
  void gap() { gaps_.inc(); }

private:
  friend class metrics;
  std::vector<counter_series> requests_;
  gauge_series circuit_;
  counter_series published_, published_stream_, gaps_;
};

/// The storage maintainer (metrics::storage()).
class storage_probe {
public:
  /// Rows in a table's DEFAULT partition (mi_partition_default_rows{table}).
  void partition_default_rows(store_table t, std::uint64_t n) {
    default_rows_[static_cast<std::size_t>(t)].set(static_cast<double>(n));
  }
  /// Result of a scheduled audit: mi_audit_mismatches{kind}, mi_audit_checked{kind} and
  /// mi_audit_last_run_timestamp_seconds.
  void audit_result(std::uint64_t trade_mismatches, std::uint64_t kline_mismatches, std::uint64_t trade_cells,
                    std::uint64_t klines, double unix_seconds);
  /// Order-book samples written (storage.books): mi_book_samples_total{table="bbo"|"snapshots",outcome="stored"}.
  void book_samples_stored(std::uint64_t bbos, std::uint64_t snapshots) {
    book_samples_[0].inc(static_cast<double>(bbos));
    book_samples_[1].inc(static_cast<double>(snapshots));
  }
  /// Samples lost to a failed write: the same family, outcome="failed".
  void book_samples_failed(std::uint64_t bbos, std::uint64_t snapshots) {
    book_samples_[2].inc(static_cast<double>(bbos));
    book_samples_[3].inc(static_cast<double>(snapshots));
  }
  /// A documents batch stored: mi_documents_stored_total{result} (inserted, revised, unchanged).
  void documents_stored(std::uint64_t inserted, std::uint64_t revised, std::uint64_t unchanged) {
    documents_[0].inc(static_cast<double>(inserted));
    documents_[1].inc(static_cast<double>(revised));
    documents_[2].inc(static_cast<double>(unchanged));
  }

private:
  friend class metrics;
  std::array<gauge_series, 2> default_rows_, mismatches_, checked_; // by store_table
  gauge_series last_run_;
  std::array<counter_series, 4> book_samples_; // bbo stored, snapshots stored, bbo failed, snapshots failed
  std::array<counter_series, 3> documents_;    // inserted, revised, unchanged
};

/// The push gateway: hub, sessions and server (metrics::push()).
class push_probe {
public:
  void clients(std::int64_t n) { clients_.set(static_cast<double>(n)); }
  void dropped(std::uint64_t n) { dropped_.inc(static_cast<double>(n)); }
  /// A malformed client request by its push_error code (mi_push_bad_requests_total{code}); a code outside
  /// gateways/push's push_error counts as "other".
  void bad_request(std::string_view code) { bad_requests_[codes_->index_of(code)].inc(); }
  /// A client_session actor that died with an error (mi_push_sessions_failed_total).
  void session_failed() { sessions_failed_.inc(); }
  void rejected(push_rejection r) { rejections_[static_cast<std::size_t>(r)].inc(); }
  /// MARKET_RAW feeds open for trade.* channels (mi_push_trade_feeds).
  void trade_feeds(std::int64_t n) { trade_feeds_.set(static_cast<double>(n)); }
  /// A book frame a slow client's full queue dropped: it gets a fresh snapshot instead of the deltas
  /// (mi_push_book_resnapshots_total).
  void book_conflated() { book_conflated_.inc(); }
  /// Messages a slow client's queue replaced by a newer one of the same candle (mi_push_conflated_messages_total).
  void conflated(std::uint64_t n) { conflated_.inc(static_cast<double>(n)); }
  /// Stored messages replayed to a resuming client (mi_push_replayed_messages_total).
  void replayed(std::uint64_t n) { replayed_.inc(static_cast<double>(n)); }
  /// A resume that sent a gap message (mi_push_resume_gaps_total).
  void resume_gap() { resume_gaps_.inc(); }

private:
  friend class metrics;
  const label_set* codes_ = nullptr;
  gauge_series clients_, trade_feeds_;
  counter_series dropped_, sessions_failed_, book_conflated_, conflated_, replayed_, resume_gaps_;
  std::vector<counter_series> bad_requests_;
  std::array<counter_series, 7> rejections_; // by push_rejection
};

/// The REST API (metrics::api()): routes and authentication reasons are the closed lists the API names.
class api_probe {
public:
  /// One request answered: route (one of the API's routes, else "other"), HTTP status (a status outside the
  /// list the API answers with counts as "other"), seconds.
  void request(std::string_view route, int status, double seconds);
  /// A refused authentication by reason (one of the API's reason labels, else "other").
  void auth_rejected(std::string_view reason) { auth_rejected_[reasons_->index_of(reason)].inc(); }
  void key_lookup() { key_lookups_.inc(); }
  void connections(std::size_t open) { connections_.set(static_cast<double>(open)); }
  void connection_refused() { refused_.inc(); }
  void busy() { busy_.inc(); }
  void database_up(bool up) { database_up_.set(up ? 1.0 : 0.0); }

  /// The statuses counted under their own number.
  static constexpr std::array<int, 16> statuses{200, 204, 304, 400, 401, 403, 404, 405,
                                                408, 413, 422, 429, 500, 502, 503, 504};

private:
  friend class metrics;
  const label_set* routes_ = nullptr;
  const label_set* reasons_ = nullptr;
  std::vector<counter_series> requests_;  // routes x (statuses + other)
  std::vector<histogram_series> latency_; // by route
  std::vector<counter_series> auth_rejected_;
  counter_series key_lookups_, refused_, busy_;
  gauge_series connections_, database_up_;
};

/// One supervisor (metrics::supervisor(name)): mi_actor_restarts_total{supervisor}.
class supervisor_probe {
public:
  void restarted() { restarts_.inc(); }

private:
  friend class metrics;
  counter_series restarts_;
};

/// One console action and outcome (metrics::admin_action(action, ok)): mi_admin_actions_total{action,outcome}.
class admin_action_probe {
public:
  void counted() { count_.inc(); }

private:
  friend class metrics;
  counter_series count_;
};

/// One (venue, field) of mi_daily_bar_mismatches_total: a source's daily bar that differs from our 1d kline in that
/// field (the daily job; fields: connectors/alpaca difference_fields).
class daily_mismatch_probe {
public:
  void counted(std::uint64_t n = 1) { count_.inc(static_cast<double>(n)); }

private:
  friend class metrics;
  counter_series count_;
};

/// The periodic refresh of one market's calendar (calendars.alpaca_refresh_every):
/// mi_calendar_refreshes_total{market,outcome}, outcome changed (a new calendar in use), unchanged, or failed (the
/// source failed or answered nothing usable: the calendar in use is kept).
class calendar_refresh_probe {
public:
  void changed() { changed_.inc(); }
  void unchanged() { unchanged_.inc(); }
  void failed() { failed_.inc(); }

private:
  friend class metrics;
  counter_series changed_, unchanged_, failed_;
};

} // namespace mi::gw
