#include "gateways/metrics/metrics.hpp"
#include "messages/kline/session_mapper.hpp"

#include <array>
#include <chrono>
#include <mutex>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/metric_family.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "messages/kline/interval.hpp"
#include "messages/trade_admission.hpp"
#include "messages/document.hpp"
#include "messages/venue_registry.hpp"

namespace mi::gw {

struct metrics::impl {
  std::shared_ptr<prometheus::Registry> reg = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;

  prometheus::Family<prometheus::Counter>& received = prometheus::BuildCounter()
                                                        .Name("mi_trades_received_total")
                                                        .Help("Trades decoded from exchange frames")
                                                        .Register(*reg);
  prometheus::Family<prometheus::Counter>& rejected =
    prometheus::BuildCounter()
      .Name("mi_frames_rejected_total")
      .Help("Exchange frames rejected, by reason (the codec's parser error code, or bad_symbol)")
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
  prometheus::Family<prometheus::Counter>& book_resyncs =
    prometheus::BuildCounter()
      .Name("mi_book_resyncs_total")
      .Help("Order books that lost sync (sequence break, checksum mismatch, stale snapshot, malformed, reconnect)")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& book_valid =
    prometheus::BuildGauge()
      .Name("mi_book_valid")
      .Help("Order book: 1 in sync and published valid, 0 waiting for a snapshot")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& book_messages = prometheus::BuildCounter()
                                                             .Name("mi_book_messages_total")
                                                             .Help("Order-book messages published, by kind")
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
  prometheus::Family<prometheus::Counter>& pub_retried_family = prometheus::BuildCounter()
                                                                  .Name("mi_publish_retries_total")
                                                                  .Help("Publishes retried with the same id")
                                                                  .Register(*reg);
  prometheus::Family<prometheus::Counter>& superseded_family =
    prometheus::BuildCounter()
      .Name("mi_kline_finals_superseded_total")
      .Help("Finals whose dedup id MARKET_KLINE already held with other values, published again one revision above")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& reader_switches_family =
    prometheus::BuildCounter()
      .Name("mi_kline_reader_switches_total")
      .Help("Kline stage switches between reading MARKET_RAW (to=stream) and this node's acked trades (to=local)")
      .Register(*reg);
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
  prometheus::Family<prometheus::Counter>& kline_outside =
    prometheus::BuildCounter()
      .Name("mi_kline_trades_outside_session_total")
      .Help("Trades outside their market's sessions (closed: pre/post market, breaks, holidays; no_calendar: a date "
            "the calendar has no data for), not aggregated")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& late = prometheus::BuildCounter()
                                                    .Name("mi_late_trades_total")
                                                    .Help("Trades for an already final window (dropped)")
                                                    .Register(*reg);
  prometheus::Family<prometheus::Counter>& revised = prometheus::BuildCounter()
                                                       .Name("mi_late_trades_revised_total")
                                                       .Help("Late trades that revised a final kline")
                                                       .Register(*reg);
  prometheus::Family<prometheus::Counter>& amendments =
    prometheus::BuildCounter()
      .Name("mi_trade_amendments_total")
      .Help("Trade amendments (corrections, cancels) the kline stage applied, could not match, found too late for its "
            "kept windows, or failed to apply")
      .Register(*reg);
  prometheus::Family<prometheus::Histogram>& final_lat_family =
    prometheus::BuildHistogram()
      .Name("mi_kline_final_latency_seconds")
      .Help("Close condition to final kline acked by JetStream")
      .Register(*reg);
  const std::vector<double> final_lat_buckets{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  prometheus::Family<prometheus::Gauge>& windows_family =
    prometheus::BuildGauge().Name("mi_symbol_windows").Help("Live symbol_window actors").Register(*reg);
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
  prometheus::Family<prometheus::Counter>& redelivered =
    prometheus::BuildCounter()
      .Name("mi_saver_redelivered_total")
      .Help("Messages a saver skipped because their stream sequences were already stored (redeliveries)")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& key_fallbacks =
    prometheus::BuildCounter()
      .Name("mi_saver_key_fallbacks_total")
      .Help("Batches stored again through staging + ON CONFLICT after the fast COPY hit a stored trade")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& lag =
    prometheus::BuildGauge()
      .Name("mi_consumer_lag")
      .Help("Messages of a durable consumer not yet acked (pending + ack pending)")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& acks_held =
    prometheus::BuildGauge()
      .Name("mi_saver_acks_held")
      .Help("Messages a saver stored but cannot ack yet: a sequence below them is not stored (saver.acks: batch)")
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
  prometheus::Family<prometheus::Counter>& source_requests =
    prometheus::BuildCounter()
      .Name("mi_source_requests_total")
      .Help("Requests to a document source, by outcome (ok, not_modified, rate_limited, server_error, ...)")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& source_circuit =
    prometheus::BuildGauge()
      .Name("mi_source_circuit_state")
      .Help("Circuit breaker of a document source: 0 closed, 1 open, 2 half_open")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& source_published =
    prometheus::BuildCounter()
      .Name("mi_documents_published_total")
      .Help("Documents a source published to MARKET_DOC (repeats included: JetStream drops them by Nats-Msg-Id)")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& source_gaps =
    prometheus::BuildCounter()
      .Name("mi_source_gaps_total")
      .Help("Times a document source was unreachable for longer than its backfill horizon")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& documents_stored =
    prometheus::BuildCounter()
      .Name("mi_documents_stored_total")
      .Help("Documents the store path wrote: inserted, revised (another revision), unchanged (a repeat)")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& audit_last_family = prometheus::BuildGauge()
                                                               .Name("mi_audit_last_run_timestamp_seconds")
                                                               .Help("Unix time the last scheduled audit completed")
                                                               .Register(*reg);
  prometheus::Family<prometheus::Counter>& book_samples_family =
    prometheus::BuildCounter()
      .Name("mi_book_samples_total")
      .Help("Order-book samples for PostgreSQL (storage.books): by table (bbo, snapshots) and outcome (stored, failed)")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& clients_family =
    prometheus::BuildGauge().Name("mi_push_clients").Help("Connected push WebSocket clients").Register(*reg);
  prometheus::Family<prometheus::Counter>& book_conflated_family =
    prometheus::BuildCounter()
      .Name("mi_push_book_resnapshots_total")
      .Help("Book frames dropped for a slow push client, which then got a fresh snapshot instead of the deltas")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& dropped_family =
    prometheus::BuildCounter()
      .Name("mi_push_dropped_messages_total")
      .Help("Push messages dropped because a client's queue was full")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& conflated_family =
    prometheus::BuildCounter()
      .Name("mi_push_conflated_messages_total")
      .Help("Push messages replaced in a client's queue by a newer one of the same candle (slow client, conflate)")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& replayed_family =
    prometheus::BuildCounter()
      .Name("mi_push_replayed_messages_total")
      .Help("Stored messages replayed to push clients that resumed with since")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& resume_gaps_family =
    prometheus::BuildCounter()
      .Name("mi_push_resume_gaps_total")
      .Help("Resumes that could not replay everything asked for (a gap message was sent)")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& bad_req =
    prometheus::BuildCounter().Name("mi_push_bad_requests_total").Help("Malformed push client requests").Register(*reg);
  prometheus::Family<prometheus::Counter>& sessions_failed_family =
    prometheus::BuildCounter()
      .Name("mi_push_sessions_failed_total")
      .Help("Push client sessions that died with an error (removed by the hub)")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& restarts = prometheus::BuildCounter()
                                                        .Name("mi_actor_restarts_total")
                                                        .Help("Children restarted by their supervisor")
                                                        .Register(*reg);
  prometheus::Family<prometheus::Counter>& admin_actions =
    prometheus::BuildCounter()
      .Name("mi_admin_actions_total")
      .Help("Operator's console actions, by action and outcome (done, refused)")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& daily_mismatches =
    prometheus::BuildCounter()
      .Name("mi_daily_bar_mismatches_total")
      .Help("Daily bars of a source (the daily job) that differ from our 1d kline of the day, by venue and field")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& calendar_refreshes =
    prometheus::BuildCounter()
      .Name("mi_calendar_refreshes_total")
      .Help("Periodic calendar refreshes, by market and outcome (changed, unchanged, failed: the calendar in use kept)")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& push_rejections =
    prometheus::BuildCounter()
      .Name("mi_push_rejections_total")
      .Help("Push connections refused, clients closed and subscriptions refused by a limit, by reason")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& trade_feeds_family =
    prometheus::BuildGauge()
      .Name("mi_push_trade_feeds")
      .Help("MARKET_RAW feeds open for subscribed trade channels")
      .Register(*reg);

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
  prometheus::Family<prometheus::Counter>& api_lookups_family =
    prometheus::BuildCounter()
      .Name("mi_api_key_lookups_total")
      .Help("API key lookups in PostgreSQL (authentication round trips)")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& api_conns_family =
    prometheus::BuildGauge().Name("mi_api_connections").Help("Open REST API connections").Register(*reg);
  prometheus::Family<prometheus::Counter>& api_refused_family =
    prometheus::BuildCounter()
      .Name("mi_api_connections_refused_total")
      .Help("REST connections refused at api.max_connections")
      .Register(*reg);
  prometheus::Family<prometheus::Counter>& api_busy_family =
    prometheus::BuildCounter()
      .Name("mi_api_busy_total")
      .Help("REST requests answered 503 because no worker was free within api.pool_wait")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& start_time_family =
    prometheus::BuildGauge()
      .Name("mi_process_start_time_seconds")
      .Help("When this process started, seconds since the Unix epoch (a change is a restart)")
      .Register(*reg);
  prometheus::Family<prometheus::Gauge>& api_db_up_family =
    prometheus::BuildGauge()
      .Name("mi_api_database_up")
      .Help("The REST API's health probe of PostgreSQL: 1 up, 0 down")
      .Register(*reg);

  // Gauges read from their source at collection time (a gauge set on events goes stale), in this order:
  // mi_publish_in_flight (0 without a source), mi_process_heap_bytes (absent without one).
  struct sampled_collectable : prometheus::Collectable {
    struct gauge {
      std::string_view name;
      const char* help;
      bool absent_without_source;
      std::function<std::int64_t()> source;
    };
    mutable std::mutex mu;
    std::vector<gauge> gauges{
      {"mi_publish_in_flight", "Async publishes awaiting a JetStream ack", false, nullptr},
      {"mi_process_heap_bytes",
       "Bytes the process's allocations hold (glibc mallinfo2 uordblks + hblkhd): VmRSS minus this is what the "
       "allocator keeps cached",
       true, nullptr}};
    std::vector<prometheus::MetricFamily> Collect() const override {
      std::vector<prometheus::MetricFamily> out;
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& g : gauges) {
        if (!g.source && g.absent_without_source)
          continue;
        prometheus::MetricFamily f;
        f.name = std::string(g.name);
        f.help = g.help;
        f.type = prometheus::MetricType::Gauge;
        prometheus::ClientMetric m;
        m.gauge.value = g.source ? static_cast<double>(g.source()) : 0.0;
        f.metric.push_back(std::move(m));
        out.push_back(std::move(f));
      }
      return out;
    }
    void set(std::string_view name, std::function<std::int64_t()> source) {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& g : gauges)
        if (g.name == name)
          g.source = std::move(source);
    }
  };
  std::shared_ptr<sampled_collectable> sampled = std::make_shared<sampled_collectable>();
};

namespace {
const std::vector<double> latency_buckets{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};
const std::vector<double> batch_buckets{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
// The codes of gateways/push's push_error (mi_push_bad_requests_total{code}); push_hub.test.cpp checks that every
// code it defines has its own series here.
const std::vector<std::string> push_error_codes{"bad_json",          "bad_op",    "bad_channel",  "too_many_channels",
                                                "message_too_large", "bad_since", "resume_failed"};

std::vector<std::string> registry_names() {
  std::vector<std::string> out;
  for (const auto& v : mi::venues())
    out.emplace_back(v.name);
  return out;
}
std::vector<std::string> interval_names() {
  std::vector<std::string> out;
  for (const auto& i : mi::kline_engine::all_intervals())
    out.emplace_back(i.name);
  return out;
}
} // namespace

// The probes, bound once; the exchange-indexed ones follow the venue registry's order, "other" last.
struct metrics::probes {
  label_set exchanges{registry_names()};
  label_set intervals{interval_names()};
  label_set push_codes{push_error_codes};
  std::vector<std::unique_ptr<connection_probe>> connections;
  std::vector<std::unique_ptr<publish_probe>> publishes;
  std::vector<std::unique_ptr<kline_trades_probe>> kline_trades;
  publisher_probe publisher;
  std::vector<std::unique_ptr<publisher_probe::streams>> streams; // every set ever given (a probe may hold the old)
  kline_probe kline;
  storage_probe storage;
  push_probe push;
  std::mutex mu; // guards what follows (creation only, never an event)
  std::vector<std::pair<std::string, std::unique_ptr<saver_probe>>> savers; // "table/consumer"
  std::vector<std::pair<std::string, std::unique_ptr<supervisor_probe>>> supervisors;
  std::vector<std::pair<std::string, std::unique_ptr<admin_action_probe>>> admin_actions; // "action/outcome"
  std::vector<std::pair<std::string, std::unique_ptr<daily_mismatch_probe>>> daily;       // "venue/field"
  std::vector<std::pair<std::string, std::unique_ptr<calendar_refresh_probe>>> calendars; // by market
  std::vector<std::pair<std::string, std::unique_ptr<book_probe>>> books;                 // "exchange/symbol"
  std::vector<std::pair<std::string, std::unique_ptr<source_probe>>> sources;
  std::unique_ptr<label_set> api_routes, api_reasons;
  std::unique_ptr<api_probe> api;
};

metrics::metrics() : impl_(std::make_unique<impl>()), probes_(std::make_unique<probes>()) {
  auto& f = *impl_;
  auto& p = *probes_;
  // Series without labels are listed from the start (0 until their first event), as they always were.
  f.pub_retried_family.Add({});
  f.superseded_family.Add({});
  for (const char* to : {"local", "stream"})
    f.reader_switches_family.Add({{"to", to}});
  f.final_lat_family.Add({}, f.final_lat_buckets);
  f.start_time_family.Add({}).Set(
    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  for (auto* g : {&f.windows_family, &f.audit_last_family, &f.clients_family, &f.trade_feeds_family,
                  &f.api_conns_family, &f.api_db_up_family})
    g->Add({});
  for (auto* c :
       {&f.dropped_family, &f.sessions_failed_family, &f.api_lookups_family, &f.api_refused_family, &f.api_busy_family})
    c->Add({});
  for (std::size_t i = 0; i < p.exchanges.size(); ++i) {
    const auto& ex = p.exchanges[i];
    auto c = std::make_unique<connection_probe>();
    c->exchange_ = ex;
    c->received_.bind(f.received, {{"exchange", ex}});
    c->errors_.bind(f.ex_errors, {{"exchange", ex}});
    c->symbols_rejected_.bind(f.sym_rejected, {{"exchange", ex}});
    c->reconnects_.bind(f.reconnects, {{"exchange", ex}});
    c->gaps_.bind(f.gaps, {{"exchange", ex}});
    c->backfilled_.bind(f.backfilled, {{"exchange", ex}});
    c->throttled_.bind(f.throttled, {{"exchange", ex}});
    c->gaps_unfilled_.bind(f.gaps_unfilled, {{"exchange", ex}});
    c->gap_missing_.bind(f.gap_missing, {{"exchange", ex}});
    c->connections_.bind(f.conn_up, {{"exchange", ex}});
    for (auto r : {frame_reject::malformed, frame_reject::bad_symbol})
      c->frames_rejected_[static_cast<std::size_t>(r)].bind(f.rejected,
                                                            {{"exchange", ex}, {"reason", std::string(to_string(r))}});
    for (std::size_t i = 0; i < std::size(mi::parse_errcs); ++i)
      c->frames_malformed_[i].bind(f.rejected, {{"exchange", ex}, {"reason", mi::to_string(mi::parse_errcs[i])}});
    for (auto r : mi::reject_reasons)
      c->trades_rejected_[static_cast<std::size_t>(r)].bind(
        f.trades_rejected, {{"exchange", ex}, {"reason", std::string(mi::to_string(r))}});
    for (auto a : {watchdog_action::reconnect, watchdog_action::resubscribe})
      c->watchdog_[static_cast<std::size_t>(a)].bind(f.watchdog,
                                                     {{"exchange", ex}, {"action", std::string(to_string(a))}});
    c->symbol_up_ = &f.symbol_up;
    p.connections.push_back(std::move(c));

    auto pub = std::make_unique<publish_probe>();
    pub->published_.bind(f.published, {{"exchange", ex}});
    pub->latency_.bind(f.latency, {{"exchange", ex}}, &latency_buckets);
    p.publishes.push_back(std::move(pub));

    auto k = std::make_unique<kline_trades_probe>();
    k->late_.bind(f.late, {{"exchange", ex}});
    k->revised_.bind(f.revised, {{"exchange", ex}});
    for (std::size_t a = 0; a < k->amendments_.size(); ++a)
      k->amendments_[a].bind(f.amendments, {{"exchange", ex}, {"result", kline_trades_probe::amendment_results[a]}});
    for (auto r : mi::reject_reasons)
      k->skipped_[static_cast<std::size_t>(r)].bind(f.kline_skipped,
                                                    {{"exchange", ex}, {"reason", std::string(mi::to_string(r))}});
    for (auto o : {mi::kline_engine::outside::closed, mi::kline_engine::outside::no_calendar})
      k->outside_[static_cast<std::size_t>(o) - 1].bind(
        f.kline_outside, {{"exchange", ex}, {"reason", std::string(mi::kline_engine::to_string(o))}});
    p.kline_trades.push_back(std::move(k));
  }

  p.publisher.retried_.bind(f.pub_retried_family, {});
  publish_streams({});

  p.kline.intervals_ = &p.intervals;
  p.kline.finals_ = std::vector<counter_series>(p.intervals.size());
  for (std::size_t i = 0; i < p.intervals.size(); ++i)
    p.kline.finals_[i].bind(f.finals, {{"interval", p.intervals[i]}});
  p.kline.final_latency_.bind(f.final_lat_family, {}, &f.final_lat_buckets);
  p.kline.windows_.bind(f.windows_family, {});
  p.kline.superseded_.bind(f.superseded_family, {});
  p.kline.to_local_.bind(f.reader_switches_family, {{"to", "local"}});
  p.kline.to_stream_.bind(f.reader_switches_family, {{"to", "stream"}});

  for (auto t : {store_table::trades, store_table::klines}) {
    const auto i = static_cast<std::size_t>(t);
    const std::string kind = t == store_table::trades ? "trades" : "klines";
    p.storage.default_rows_[i].bind(f.default_rows, {{"table", std::string(to_string(t))}});
    p.storage.mismatches_[i].bind(f.audit_mismatch, {{"kind", kind}});
    p.storage.checked_[i].bind(f.audit_checked, {{"kind", kind}});
  }
  p.storage.last_run_.bind(f.audit_last_family, {});
  for (std::size_t i = 0; i < p.storage.book_samples_.size(); ++i)
    p.storage.book_samples_[i].bind(
      f.book_samples_family, {{"table", i % 2 == 0 ? "bbo" : "snapshots"}, {"outcome", i < 2 ? "stored" : "failed"}});
  for (std::size_t i = 0; i < p.storage.documents_.size(); ++i)
    p.storage.documents_[i].bind(f.documents_stored,
                                 {{"result", std::array<const char*, 3>{"inserted", "revised", "unchanged"}[i]}});

  p.push.codes_ = &p.push_codes;
  p.push.clients_.bind(f.clients_family, {});
  p.push.trade_feeds_.bind(f.trade_feeds_family, {});
  p.push.dropped_.bind(f.dropped_family, {});
  p.push.book_conflated_.bind(f.book_conflated_family, {});
  p.push.conflated_.bind(f.conflated_family, {});
  p.push.replayed_.bind(f.replayed_family, {});
  p.push.resume_gaps_.bind(f.resume_gaps_family, {});
  p.push.sessions_failed_.bind(f.sessions_failed_family, {});
  p.push.bad_requests_ = std::vector<counter_series>(p.push_codes.size());
  for (std::size_t i = 0; i < p.push_codes.size(); ++i)
    p.push.bad_requests_[i].bind(f.bad_req, {{"code", p.push_codes[i]}});
  for (std::size_t i = 0; i < p.push.rejections_.size(); ++i)
    p.push.rejections_[i].bind(f.push_rejections, {{"reason", std::string(to_string(static_cast<push_rejection>(i)))}});
}

metrics::~metrics() = default;

mi::result<std::uint16_t> metrics::serve(const std::string& listen) {
  try {
    impl_->exposer = std::make_unique<prometheus::Exposer>(listen);
    impl_->exposer->RegisterCollectable(impl_->reg);
    impl_->exposer->RegisterCollectable(impl_->sampled);
    auto ports = impl_->exposer->GetListeningPorts();
    return ports.empty() ? std::uint16_t{0} : static_cast<std::uint16_t>(ports.front());
  } catch (const std::exception& e) {
    return mi::error{"cannot serve /metrics on " + listen + ": " + e.what()};
  }
}

connection_probe& metrics::connection(std::string_view exchange) {
  return *probes_->connections[probes_->exchanges.index_of(exchange)];
}
publish_probe& metrics::publish(std::string_view exchange) {
  return *probes_->publishes[probes_->exchanges.index_of(exchange)];
}
publisher_probe& metrics::publisher() { return probes_->publisher; }

void metrics::publish_streams(std::vector<std::string> names) {
  auto s = std::make_unique<publisher_probe::streams>(label_set(std::move(names)));
  for (std::size_t i = 0; i < s->names.size(); ++i)
    s->failed[i].bind(impl_->pub_failed, {{"stream", s->names[i]}});
  std::lock_guard<std::mutex> lock(probes_->mu);
  probes_->publisher.streams_.store(s.get(), std::memory_order_release);
  probes_->streams.push_back(std::move(s));
}

void metrics::publish_in_flight_source(std::function<std::int64_t()> source) {
  impl_->sampled->set("mi_publish_in_flight", std::move(source));
}
void metrics::heap_bytes_source(std::function<std::int64_t()> source) {
  impl_->sampled->set("mi_process_heap_bytes", std::move(source));
}

kline_probe& metrics::kline() { return probes_->kline; }
kline_trades_probe& metrics::kline_trades(std::string_view exchange) {
  return *probes_->kline_trades[probes_->exchanges.index_of(exchange)];
}

saver_probe& metrics::saver(store_table table, std::string_view consumer) {
  const std::string table_name(to_string(table));
  const std::string key = table_name + "/" + std::string(consumer);
  std::lock_guard<std::mutex> lock(probes_->mu);
  for (auto& [k, probe] : probes_->savers)
    if (k == key)
      return *probe;
  auto s = std::make_unique<saver_probe>();
  s->rows_.bind(impl_->rows, {{"table", table_name}});
  s->failed_.bind(impl_->batch_fail, {{"table", table_name}});
  s->duration_.bind(impl_->batch_dur, {{"table", table_name}}, &batch_buckets);
  s->dead_letters_.bind(impl_->dead_letters, {{"kind", table == store_table::trades ? "trades" : "klines"}});
  s->lag_.bind(impl_->lag, {{"consumer", std::string(consumer)}});
  s->held_.bind(impl_->acks_held, {{"consumer", std::string(consumer)}});
  s->redelivered_.bind(impl_->redelivered, {{"table", table_name}});
  s->fallbacks_.bind(impl_->key_fallbacks, {{"table", table_name}});
  probes_->savers.emplace_back(key, std::move(s));
  return *probes_->savers.back().second;
}

book_probe& metrics::book(std::string_view exchange, std::string_view symbol, const std::vector<std::string>& reasons) {
  const std::string ex = probes_->exchanges[probes_->exchanges.index_of(exchange)];
  const std::string key = ex + "/" + std::string(symbol);
  std::lock_guard<std::mutex> lock(probes_->mu);
  for (auto& [k, probe] : probes_->books)
    if (k == key)
      return *probe;
  auto b = std::make_unique<book_probe>();
  b->resyncs_ = std::vector<counter_series>(reasons.size());
  for (std::size_t i = 0; i < reasons.size(); ++i)
    b->resyncs_[i].bind(impl_->book_resyncs,
                        {{"exchange", ex}, {"symbol", std::string(symbol)}, {"reason", reasons[i]}});
  b->valid_.bind(impl_->book_valid, {{"exchange", ex}, {"symbol", std::string(symbol)}});
  b->snapshots_.bind(impl_->book_messages, {{"exchange", ex}, {"kind", "snapshot"}});
  b->deltas_.bind(impl_->book_messages, {{"exchange", ex}, {"kind", "delta"}});
  probes_->books.emplace_back(key, std::move(b));
  return *probes_->books.back().second;
}

source_probe& metrics::source(std::string_view source, const std::vector<std::string>& outcomes) {
  // A bounded label set: the document sources, the A-share venue's polled sources (connectors/cn), the Alpaca daily
  // job's bar requests, else "other".
  constexpr std::string_view cn_sources[] = {"cn.tencent", "cn.sina", "cn.eastmoney", "alpaca.daily"};
  const bool known = mi::find_document_source(source) ||
                     std::find(std::begin(cn_sources), std::end(cn_sources), source) != std::end(cn_sources);
  const std::string name = known ? std::string(source) : std::string("other");
  std::lock_guard<std::mutex> lock(probes_->mu);
  for (auto& [k, probe] : probes_->sources)
    if (k == name)
      return *probe;
  auto s = std::make_unique<source_probe>();
  s->requests_ = std::vector<counter_series>(outcomes.size());
  for (std::size_t i = 0; i < outcomes.size(); ++i)
    s->requests_[i].bind(impl_->source_requests, {{"source", name}, {"outcome", outcomes[i]}});
  s->circuit_.bind(impl_->source_circuit, {{"source", name}});
  s->published_.bind(impl_->source_published, {{"source", name}, {"path", "poll"}});
  s->published_stream_.bind(impl_->source_published, {{"source", name}, {"path", "stream"}});
  s->gaps_.bind(impl_->source_gaps, {{"source", name}});
  probes_->sources.emplace_back(name, std::move(s));
  return *probes_->sources.back().second;
}

storage_probe& metrics::storage() { return probes_->storage; }
push_probe& metrics::push() { return probes_->push; }

api_probe& metrics::api(const std::vector<std::string>& routes, const std::vector<std::string>& auth_reasons) {
  std::lock_guard<std::mutex> lock(probes_->mu);
  auto& p = *probes_;
  if (p.api)
    return *p.api;
  p.api_routes = std::make_unique<label_set>(routes);
  p.api_reasons = std::make_unique<label_set>(auth_reasons);
  auto a = std::make_unique<api_probe>();
  a->routes_ = p.api_routes.get();
  a->reasons_ = p.api_reasons.get();
  const auto per_route = api_probe::statuses.size() + 1;
  a->requests_ = std::vector<counter_series>(p.api_routes->size() * per_route);
  a->latency_ = std::vector<histogram_series>(p.api_routes->size());
  for (std::size_t r = 0; r < p.api_routes->size(); ++r) {
    const auto& route = (*p.api_routes)[r];
    for (std::size_t s = 0; s < per_route; ++s)
      a->requests_[r * per_route + s].bind(
        impl_->api_requests,
        {{"route", route},
         {"status", s < api_probe::statuses.size() ? std::to_string(api_probe::statuses[s]) : "other"}});
    a->latency_[r].bind(impl_->api_latency, {{"route", route}}, &latency_buckets);
  }
  a->auth_rejected_ = std::vector<counter_series>(p.api_reasons->size());
  for (std::size_t i = 0; i < p.api_reasons->size(); ++i)
    a->auth_rejected_[i].bind(impl_->api_rejected, {{"reason", (*p.api_reasons)[i]}});
  a->key_lookups_.bind(impl_->api_lookups_family, {});
  a->refused_.bind(impl_->api_refused_family, {});
  a->busy_.bind(impl_->api_busy_family, {});
  a->connections_.bind(impl_->api_conns_family, {});
  a->database_up_.bind(impl_->api_db_up_family, {});
  p.api = std::move(a);
  return *p.api;
}

supervisor_probe& metrics::supervisor(std::string_view name) {
  std::lock_guard<std::mutex> lock(probes_->mu);
  for (auto& [n, probe] : probes_->supervisors)
    if (n == name)
      return *probe;
  auto s = std::make_unique<supervisor_probe>();
  s->restarts_.bind(impl_->restarts, {{"supervisor", std::string(name)}});
  probes_->supervisors.emplace_back(std::string(name), std::move(s));
  return *probes_->supervisors.back().second;
}

admin_action_probe& metrics::admin_action(std::string_view action, bool ok) {
  const std::string outcome = ok ? "done" : "refused";
  const std::string key = std::string(action) + "/" + outcome;
  std::lock_guard<std::mutex> lock(probes_->mu);
  for (auto& [k, probe] : probes_->admin_actions)
    if (k == key)
      return *probe;
  auto a = std::make_unique<admin_action_probe>();
  a->count_.bind(impl_->admin_actions, {{"action", std::string(action)}, {"outcome", outcome}});
  probes_->admin_actions.emplace_back(key, std::move(a));
  return *probes_->admin_actions.back().second;
}

daily_mismatch_probe& metrics::daily_mismatches(std::string_view venue, std::string_view field) {
  const std::string key = std::string(venue) + "/" + std::string(field);
  std::lock_guard<std::mutex> lock(probes_->mu);
  for (auto& [k, probe] : probes_->daily)
    if (k == key)
      return *probe;
  auto a = std::make_unique<daily_mismatch_probe>();
  a->count_.bind(impl_->daily_mismatches, {{"venue", std::string(venue)}, {"field", std::string(field)}});
  a->count_.inc(0); // listed at 0 from the start
  probes_->daily.emplace_back(key, std::move(a));
  return *probes_->daily.back().second;
}

calendar_refresh_probe& metrics::calendar_refresh(std::string_view market) {
  std::lock_guard<std::mutex> lock(probes_->mu);
  for (auto& [k, probe] : probes_->calendars)
    if (k == market)
      return *probe;
  auto a = std::make_unique<calendar_refresh_probe>();
  const std::string m(market);
  a->changed_.bind(impl_->calendar_refreshes, {{"market", m}, {"outcome", "changed"}});
  a->unchanged_.bind(impl_->calendar_refreshes, {{"market", m}, {"outcome", "unchanged"}});
  a->failed_.bind(impl_->calendar_refreshes, {{"market", m}, {"outcome", "failed"}});
  a->changed_.inc(0);
  a->unchanged_.inc(0);
  a->failed_.inc(0);
  probes_->calendars.emplace_back(m, std::move(a));
  return *probes_->calendars.back().second;
}

std::string metrics::scrape() const {
  prometheus::TextSerializer ser;
  auto families = impl_->reg->Collect();
  auto more = impl_->sampled->Collect();
  families.insert(families.end(), more.begin(), more.end());
  return ser.Serialize(families);
}

} // namespace mi::gw
