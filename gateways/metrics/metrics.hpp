#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateways/metrics/probes.hpp"
#include "messages/result.hpp"

namespace mi::gw {

/// Every metric of the platform (prefix `mi_`, Prometheus naming), in one registry, served on `/metrics`.
/// It owns the registry and the families; components take their probes (probes.hpp) from it once, when they start,
/// and count through them. A probe lives as long as this object. Everything is thread-safe.
class metrics {
public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  /// Serves GET /metrics on `listen` ("host:port", port 0 = any); error if the port is taken.
  mi::result<std::uint16_t> serve(const std::string& listen);

  /// The probe of an exchange's connections, quarantine and backfill; a name the venue registry does not list
  /// gets the probe labelled "other".
  connection_probe& connection(std::string_view exchange);
  /// Trades acked by JetStream for an exchange (registry name, else "other"). A bounded match over the
  /// registry's names: cheap enough for the ack path, which reads the exchange from the subject.
  publish_probe& publish(std::string_view exchange);
  /// The publisher's failures and retries.
  publisher_probe& publisher();
  /// The stream names of mi_publish_failures_total{stream} (the configured streams); call once at start, before
  /// the first publish. Until then, and for any other name, a failure counts under "other".
  void publish_streams(std::vector<std::string> names);
  /// Where mi_publish_in_flight is read from at every scrape (the JetStream gateway's own counter), so the gauge is
  /// never stale. The source must outlive serving; null unhooks it.
  void publish_in_flight_source(std::function<std::int64_t()> source);
  /// Where mi_process_heap_bytes is read from at every scrape: the bytes the process's allocations hold, which the
  /// binary knows how to ask its allocator for. Without a source the gauge is not exported; null unhooks it.
  void heap_bytes_source(std::function<std::int64_t()> source);
  /// The kline stage's finals, their latency and its window count.
  kline_probe& kline();
  /// What the kline engine did with an exchange's trades (registry name, else "other").
  kline_trades_probe& kline_trades(std::string_view exchange);
  /// A batch saver of `table` reading the durable consumer `consumer` (a configured name). The same
  /// (table, consumer) always gets the same probe.
  saver_probe& saver(store_table table, std::string_view consumer);
  /// The order book of (exchange, symbol) on a connection: resyncs by reason (`reasons`: the closed list of
  /// connectors/venue resync_reason names), valid gauge, messages by kind. Symbols come from config (bounded);
  /// the same pair always gets the same probe.
  book_probe& book(std::string_view exchange, std::string_view symbol, const std::vector<std::string>& reasons);
  /// A document source (messages/document.hpp names; anything else counts as "other"): `outcomes` is the closed
  /// list of request outcome names (connectors/documents request_outcome); the same source always gets the same probe.
  source_probe& source(std::string_view source, const std::vector<std::string>& outcomes);
  /// The storage maintainer's partition and audit gauges.
  storage_probe& storage();
  /// The push gateway.
  push_probe& push();
  /// The REST API. `routes` and `auth_reasons` are the closed lists the API names (gateways/http: api_routes(),
  /// auth::reason_labels()); the first call fixes them, later calls return the same probe.
  api_probe& api(const std::vector<std::string>& routes, const std::vector<std::string>& auth_reasons);
  /// A supervisor (its name: a role, or "root"); the same name always gets the same probe.
  supervisor_probe& supervisor(std::string_view name);
  /// An operator's console action (its name from the console's closed list) that was done (`ok`) or refused; the
  /// same pair always gets the same probe. Actions are rare: a lookup per call is fine.
  admin_action_probe& admin_action(std::string_view action, bool ok);
  /// mi_daily_bar_mismatches_total{venue,field} (the daily job); the same pair always gets the same probe, which
  /// lists the series at 0 from its first call.
  daily_mismatch_probe& daily_mismatches(std::string_view venue, std::string_view field);
  /// mi_calendar_refreshes_total{market,outcome} of a market's periodic calendar refresh (its three outcomes listed
  /// at 0 from the first call); the same market always gets the same probe.
  calendar_refresh_probe& calendar_refresh(std::string_view market);

  /// The text exposition of every metric (for tests and the admin console).
  std::string scrape() const;

private:
  struct impl;
  struct probes;
  std::unique_ptr<impl> impl_;
  std::unique_ptr<probes> probes_;
};

} // namespace mi::gw
