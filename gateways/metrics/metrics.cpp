#include "gateways/metrics/metrics.hpp"

#include <mutex>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/metric_family.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace mi::gw {

struct metrics::impl {
  std::shared_ptr<prometheus::Registry> reg = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;

  prometheus::Family<prometheus::Counter>& received = prometheus::BuildCounter()
                                                        .Name("mi_trades_received_total")
                                                        .Help("Trades decoded from exchange frames")
                                                        .Register(*reg);
  prometheus::Family<prometheus::Counter>& rejected = prometheus::BuildCounter()
                                                        .Name("mi_frames_rejected_total")
                                                        .Help("Exchange frames rejected as malformed")
                                                        .Register(*reg);
  prometheus::Family<prometheus::Counter>& ex_errors =
    prometheus::BuildCounter().Name("mi_exchange_errors_total").Help("Error frames sent by exchanges").Register(*reg);
  prometheus::Family<prometheus::Counter>& sym_rejected = prometheus::BuildCounter()
                                                            .Name("mi_symbols_rejected_total")
                                                            .Help("Configured symbols the exchange does not list")
                                                            .Register(*reg);
  prometheus::Family<prometheus::Counter>& reconnects =
    prometheus::BuildCounter().Name("mi_reconnects_total").Help("Exchange connection reconnects").Register(*reg);
  prometheus::Family<prometheus::Gauge>& symbol_up =
    prometheus::BuildGauge()
      .Name("mi_symbol_up")
      .Help("Configured symbol: 1 subscribed, 0 refused by the exchange")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& gaps =
    prometheus::BuildCounter().Name("mi_gaps_detected_total").Help("Jumps in sequential trade ids").Register(*reg);
  prometheus::Family<prometheus::Counter>& backfilled = prometheus::BuildCounter()
                                                          .Name("mi_backfilled_trades_total")
                                                          .Help("Trades recovered from REST history")
                                                          .Register(*reg);
  prometheus::Family<prometheus::Counter>& gaps_unfilled =
    prometheus::BuildCounter().Name("mi_gaps_unfilled_total").Help("Gaps reported on market.gap.*").Register(*reg);
  prometheus::Family<prometheus::Counter>& throttled = prometheus::BuildCounter()
                                                         .Name("mi_backfill_throttled_total")
                                                         .Help("REST 429/418 answers: backfill waited")
                                                         .Register(*reg);
  prometheus::Family<prometheus::Counter>& gap_missing = prometheus::BuildCounter()
                                                           .Name("mi_gap_missing_trades_total")
                                                           .Help("Trades lost for good (in reported gaps)")
                                                           .Register(*reg);
  prometheus::Family<prometheus::Counter>& watchdog = prometheus::BuildCounter()
                                                        .Name("mi_watchdog_actions_total")
                                                        .Help("Watchdog reconnects and resubscribes")
                                                        .Register(*reg);
  prometheus::Family<prometheus::Gauge>& conn_up =
    prometheus::BuildGauge().Name("mi_exchange_connections").Help("Open exchange connections").Register(*reg);
  prometheus::Family<prometheus::Counter>& published =
    prometheus::BuildCounter().Name("mi_trades_published_total").Help("Trades acked by JetStream").Register(*reg);
  prometheus::Family<prometheus::Counter>& pub_failed = prometheus::BuildCounter()
                                                          .Name("mi_publish_failures_total")
                                                          .Help("Publishes that failed permanently")
                                                          .Register(*reg);
  prometheus::Counter& pub_retried = prometheus::BuildCounter()
                                       .Name("mi_publish_retries_total")
                                       .Help("Publishes retried with the same id")
                                       .Register(*reg)
                                       .Add({});
  prometheus::Family<prometheus::Histogram>& latency = prometheus::BuildHistogram()
                                                         .Name("mi_ingest_latency_seconds")
                                                         .Help("Exchange trade time to JetStream ack")
                                                         .Register(*reg);
  prometheus::Family<prometheus::Counter>& finals =
    prometheus::BuildCounter().Name("mi_klines_final_total").Help("Final klines published").Register(*reg);
  prometheus::Family<prometheus::Counter>& trades_rejected =
    prometheus::BuildCounter()
      .Name("mi_trades_rejected_total")
      .Help("Trades refused at the edge and quarantined on market.rejected.{exchange}.{symbol}")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& kline_skipped =
    prometheus::BuildCounter()
      .Name("mi_kline_trades_skipped_total")
      .Help("Trades of MARKET_RAW the kline engine skipped (unrepresentable, clock_skew)")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& late = prometheus::BuildCounter()
                                                    .Name("mi_late_trades_total")
                                                    .Help("Trades for an already final window (dropped)")
                                                    .Register(*reg);
  prometheus::Family<prometheus::Counter>& revised = prometheus::BuildCounter()
                                                       .Name("mi_late_trades_revised_total")
                                                       .Help("Late trades that revised a final kline")
                                                       .Register(*reg);
  prometheus::Histogram& final_lat =
    prometheus::BuildHistogram()
      .Name("mi_kline_final_latency_seconds")
      .Help("Close condition to final kline acked by JetStream")
      .Register(*reg)
      .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  prometheus::Gauge& windows =
    prometheus::BuildGauge().Name("mi_symbol_windows").Help("Live symbol_window actors").Register(*reg).Add({});
  prometheus::Family<prometheus::Counter>& rows =
    prometheus::BuildCounter().Name("mi_rows_written_total").Help("Rows inserted into PostgreSQL").Register(*reg);
  prometheus::Family<prometheus::Counter>& batch_fail = prometheus::BuildCounter()
                                                          .Name("mi_batch_failures_total")
                                                          .Help("Database batches that failed and will be retried")
                                                          .Register(*reg);
  prometheus::Family<prometheus::Histogram>& batch_dur =
    prometheus::BuildHistogram().Name("mi_batch_duration_seconds").Help("Time to write one batch").Register(*reg);
  prometheus::Family<prometheus::Counter>& dead_letters =
    prometheus::BuildCounter()
      .Name("mi_dead_letters_total")
      .Help("Messages the savers could not store, published to market.dlq.{kind}")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& lag =
    prometheus::BuildGauge()
      .Name("mi_consumer_lag")
      .Help("Messages of a durable consumer not yet acked (pending + ack pending)")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& default_rows =
    prometheus::BuildGauge()
      .Name("mi_partition_default_rows")
      .Help("Rows in a table's DEFAULT partition (no partition for their time)")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& audit_mismatch = prometheus::BuildGauge()
                                                            .Name("mi_audit_mismatches")
                                                            .Help("Mismatches found by the last scheduled audit")
                                                            .Register(*reg);
  prometheus::Family<prometheus::Gauge>& audit_checked =
    prometheus::BuildGauge()
      .Name("mi_audit_checked")
      .Help("What the last scheduled audit compared: (exchange, symbol, hour) cells of trades, stored klines")
      .Register(*reg);
  prometheus::Gauge& audit_last = prometheus::BuildGauge()
                                    .Name("mi_audit_last_run_timestamp_seconds")
                                    .Help("Unix time the last scheduled audit completed")
                                    .Register(*reg)
                                    .Add({});
  prometheus::Gauge& clients =
    prometheus::BuildGauge().Name("mi_push_clients").Help("Connected push WebSocket clients").Register(*reg).Add({});
  prometheus::Counter& dropped = prometheus::BuildCounter()
                                   .Name("mi_push_dropped_messages_total")
                                   .Help("Push messages dropped because a client's queue was full")
                                   .Register(*reg)
                                   .Add({});
  prometheus::Family<prometheus::Counter>& bad_req =
    prometheus::BuildCounter().Name("mi_push_bad_requests_total").Help("Malformed push client requests").Register(*reg);
  prometheus::Counter& sessions_failed = prometheus::BuildCounter()
                                           .Name("mi_push_sessions_failed_total")
                                           .Help("Push client sessions that died with an error (removed by the hub)")
                                           .Register(*reg)
                                           .Add({});
  prometheus::Family<prometheus::Counter>& restarts = prometheus::BuildCounter()
                                                        .Name("mi_actor_restarts_total")
                                                        .Help("Children restarted by their supervisor")
                                                        .Register(*reg);
  prometheus::Family<prometheus::Counter>& push_rejections =
    prometheus::BuildCounter()
      .Name("mi_push_rejections_total")
      .Help("Push connections refused, clients closed and subscriptions refused by a limit, by reason")
      .Register(*reg);
  prometheus::Gauge& trade_feeds = prometheus::BuildGauge()
                                     .Name("mi_push_trade_feeds")
                                     .Help("MARKET_RAW feeds open for subscribed trade channels")
                                     .Register(*reg)
                                     .Add({});

  prometheus::Family<prometheus::Counter>& api_requests = prometheus::BuildCounter()
                                                            .Name("mi_api_requests_total")
                                                            .Help("REST API requests by route and status")
                                                            .Register(*reg);
  prometheus::Family<prometheus::Histogram>& api_latency = prometheus::BuildHistogram()
                                                             .Name("mi_api_request_duration_seconds")
                                                             .Help("REST API request handling time by route")
                                                             .Register(*reg);
  prometheus::Family<prometheus::Counter>& api_rejected = prometheus::BuildCounter()
                                                            .Name("mi_api_auth_rejections_total")
                                                            .Help("Refused API authentications by reason")
                                                            .Register(*reg);
  prometheus::Counter& api_lookups = prometheus::BuildCounter()
                                       .Name("mi_api_key_lookups_total")
                                       .Help("API key lookups in PostgreSQL (authentication round trips)")
                                       .Register(*reg)
                                       .Add({});
  prometheus::Gauge& api_conns =
    prometheus::BuildGauge().Name("mi_api_connections").Help("Open REST API connections").Register(*reg).Add({});
  prometheus::Counter& api_refused = prometheus::BuildCounter()
                                       .Name("mi_api_connections_refused_total")
                                       .Help("REST connections refused at api.max_connections")
                                       .Register(*reg)
                                       .Add({});
  prometheus::Counter& api_busy = prometheus::BuildCounter()
                                    .Name("mi_api_busy_total")
                                    .Help("REST requests answered 503 because no worker was free within api.pool_wait")
                                    .Register(*reg)
                                    .Add({});
  prometheus::Gauge& api_db_up = prometheus::BuildGauge()
                                   .Name("mi_api_database_up")
                                   .Help("The REST API's health probe of PostgreSQL: 1 up, 0 down")
                                   .Register(*reg)
                                   .Add({});

  std::mutex hist_mu; // Family::Add of histograms builds bucket vectors; serialize creation

  // mi_publish_in_flight: read from its source at collection time (a gauge set on events goes stale).
  struct in_flight_collectable : prometheus::Collectable {
    std::mutex mu;
    std::function<std::int64_t()> source;
    std::vector<prometheus::MetricFamily> Collect() const override {
      prometheus::MetricFamily f;
      f.name = "mi_publish_in_flight";
      f.help = "Async publishes awaiting a JetStream ack";
      f.type = prometheus::MetricType::Gauge;
      prometheus::ClientMetric m;
      {
        std::lock_guard<std::mutex> lock(const_cast<std::mutex&>(mu));
        m.gauge.value = source ? static_cast<double>(source()) : 0.0;
      }
      f.metric.push_back(std::move(m));
      return {std::move(f)};
    }
  };
  std::shared_ptr<in_flight_collectable> in_flight = std::make_shared<in_flight_collectable>();
};

namespace {
const prometheus::Histogram::BucketBoundaries latency_buckets{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                              0.1,    0.2,   0.5,   1,     2,    5};
const prometheus::Histogram::BucketBoundaries batch_buckets{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
std::string s(std::string_view v) { return std::string(v); }
} // namespace

metrics::metrics() : impl_(std::make_unique<impl>()) {}
metrics::~metrics() = default;

mi::result<std::uint16_t> metrics::serve(const std::string& listen) {
  try {
    impl_->exposer = std::make_unique<prometheus::Exposer>(listen);
    impl_->exposer->RegisterCollectable(impl_->reg);
    impl_->exposer->RegisterCollectable(impl_->in_flight);
    auto ports = impl_->exposer->GetListeningPorts();
    return ports.empty() ? std::uint16_t{0} : static_cast<std::uint16_t>(ports.front());
  } catch (const std::exception& e) {
    return mi::error{"cannot serve /metrics on " + listen + ": " + e.what()};
  }
}

void metrics::trade_received(std::string_view ex, std::uint64_t n) {
  impl_->received.Add({{"exchange", s(ex)}}).Increment(static_cast<double>(n));
}
void metrics::frame_rejected(std::string_view ex, std::string_view reason) {
  impl_->rejected.Add({{"exchange", s(ex)}, {"reason", s(reason)}}).Increment();
}
void metrics::trade_rejected(std::string_view ex, std::string_view reason) {
  impl_->trades_rejected.Add({{"exchange", s(ex)}, {"reason", s(reason)}}).Increment();
}
void metrics::kline_trade_skipped(std::string_view ex, std::string_view reason) {
  impl_->kline_skipped.Add({{"exchange", s(ex)}, {"reason", s(reason)}}).Increment();
}
void metrics::exchange_error(std::string_view ex) { impl_->ex_errors.Add({{"exchange", s(ex)}}).Increment(); }
void metrics::symbol_rejected(std::string_view ex) { impl_->sym_rejected.Add({{"exchange", s(ex)}}).Increment(); }
void metrics::reconnect(std::string_view ex) { impl_->reconnects.Add({{"exchange", s(ex)}}).Increment(); }
void metrics::connection_up(std::string_view ex, bool up) {
  auto& g = impl_->conn_up.Add({{"exchange", s(ex)}});
  up ? g.Increment() : g.Decrement();
}
void metrics::symbol_status(std::string_view ex, std::string_view symbol, bool up) {
  impl_->symbol_up.Add({{"exchange", s(ex)}, {"symbol", s(symbol)}}).Set(up ? 1 : 0);
}
void metrics::gap_detected(std::string_view ex) { impl_->gaps.Add({{"exchange", s(ex)}}).Increment(); }
void metrics::backfilled(std::string_view ex, std::uint64_t n) {
  impl_->backfilled.Add({{"exchange", s(ex)}}).Increment(static_cast<double>(n));
}
void metrics::backfill_throttled(std::string_view ex) { impl_->throttled.Add({{"exchange", s(ex)}}).Increment(); }
void metrics::gap_unfilled(std::string_view ex, std::uint64_t missing) {
  impl_->gaps_unfilled.Add({{"exchange", s(ex)}}).Increment();
  impl_->gap_missing.Add({{"exchange", s(ex)}}).Increment(static_cast<double>(missing));
}
void metrics::watchdog(std::string_view ex, std::string_view action) {
  impl_->watchdog.Add({{"exchange", s(ex)}, {"action", s(action)}}).Increment();
}
void metrics::trade_published(std::string_view ex) { impl_->published.Add({{"exchange", s(ex)}}).Increment(); }
void metrics::publish_failed(std::string_view stream) { impl_->pub_failed.Add({{"stream", s(stream)}}).Increment(); }
void metrics::publish_retried() { impl_->pub_retried.Increment(); }
void metrics::ingest_latency(std::string_view ex, double seconds) {
  prometheus::Histogram* h;
  {
    std::lock_guard<std::mutex> lock(impl_->hist_mu);
    h = &impl_->latency.Add({{"exchange", s(ex)}}, latency_buckets);
  }
  h->Observe(seconds);
}
void metrics::publish_in_flight_source(std::function<std::int64_t()> source) {
  std::lock_guard<std::mutex> lock(impl_->in_flight->mu);
  impl_->in_flight->source = std::move(source);
}
void metrics::kline_final(std::string_view iv) { impl_->finals.Add({{"interval", s(iv)}}).Increment(); }
void metrics::late_trade(std::string_view ex) { impl_->late.Add({{"exchange", s(ex)}}).Increment(); }
void metrics::kline_revised(std::string_view ex) { impl_->revised.Add({{"exchange", s(ex)}}).Increment(); }
void metrics::final_latency(double seconds) { impl_->final_lat.Observe(seconds); }
void metrics::symbol_windows(std::int64_t n) { impl_->windows.Set(static_cast<double>(n)); }
void metrics::rows_written(std::string_view table, std::uint64_t n) {
  impl_->rows.Add({{"table", s(table)}}).Increment(static_cast<double>(n));
}
void metrics::batch_failed(std::string_view table) { impl_->batch_fail.Add({{"table", s(table)}}).Increment(); }
void metrics::batch_seconds(std::string_view table, double seconds) {
  prometheus::Histogram* h;
  {
    std::lock_guard<std::mutex> lock(impl_->hist_mu);
    h = &impl_->batch_dur.Add({{"table", s(table)}}, batch_buckets);
  }
  h->Observe(seconds);
}
void metrics::dead_letter(std::string_view kind) { impl_->dead_letters.Add({{"kind", s(kind)}}).Increment(); }
void metrics::consumer_lag(std::string_view consumer, std::uint64_t n) {
  impl_->lag.Add({{"consumer", s(consumer)}}).Set(static_cast<double>(n));
}
void metrics::partition_default_rows(std::string_view table, std::uint64_t n) {
  impl_->default_rows.Add({{"table", s(table)}}).Set(static_cast<double>(n));
}
void metrics::audit_result(std::uint64_t trade_mismatches, std::uint64_t kline_mismatches, std::uint64_t trade_cells,
                           std::uint64_t klines, double unix_seconds) {
  impl_->audit_checked.Add({{"kind", "trades"}}).Set(static_cast<double>(trade_cells));
  impl_->audit_checked.Add({{"kind", "klines"}}).Set(static_cast<double>(klines));
  impl_->audit_mismatch.Add({{"kind", "trades"}}).Set(static_cast<double>(trade_mismatches));
  impl_->audit_mismatch.Add({{"kind", "klines"}}).Set(static_cast<double>(kline_mismatches));
  impl_->audit_last.Set(unix_seconds);
}
void metrics::push_clients(std::int64_t n) { impl_->clients.Set(static_cast<double>(n)); }
void metrics::push_dropped(std::uint64_t n) { impl_->dropped.Increment(static_cast<double>(n)); }
void metrics::push_bad_request(std::string_view code) { impl_->bad_req.Add({{"code", s(code)}}).Increment(); }
void metrics::push_session_failed() { impl_->sessions_failed.Increment(); }
void metrics::actor_restart(std::string_view supervisor) {
  impl_->restarts.Add({{"supervisor", s(supervisor)}}).Increment();
}
void metrics::push_rejected(std::string_view reason) {
  impl_->push_rejections.Add({{"reason", s(reason)}}).Increment();
}
void metrics::push_trade_feeds(std::int64_t n) { impl_->trade_feeds.Set(static_cast<double>(n)); }

void metrics::api_request(std::string_view route, int status, double seconds) {
  impl_->api_requests.Add({{"route", s(route)}, {"status", std::to_string(status)}}).Increment();
  prometheus::Histogram* h;
  {
    std::lock_guard<std::mutex> lock(impl_->hist_mu);
    h = &impl_->api_latency.Add({{"route", s(route)}}, latency_buckets);
  }
  h->Observe(seconds);
}
void metrics::api_auth_rejected(std::string_view reason) {
  impl_->api_rejected.Add({{"reason", s(reason)}}).Increment();
}
void metrics::api_key_lookup() { impl_->api_lookups.Increment(); }
void metrics::api_connections(std::size_t open) { impl_->api_conns.Set(static_cast<double>(open)); }
void metrics::api_connection_refused() { impl_->api_refused.Increment(); }
void metrics::api_busy() { impl_->api_busy.Increment(); }
void metrics::api_database_up(bool up) { impl_->api_db_up.Set(up ? 1.0 : 0.0); }

std::string metrics::scrape() const {
  prometheus::TextSerializer ser;
  auto families = impl_->reg->Collect();
  auto more = impl_->in_flight->Collect();
  families.insert(families.end(), more.begin(), more.end());
  return ser.Serialize(families);
}

} // namespace mi::gw
