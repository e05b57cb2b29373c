#pragma once

// The operator's console's sections (GET /admin/api/<section>, docs/operations.md "Operator's console") as
// JSON, built from what the process already keeps: the inspection registry (actors/inspection.hpp), its own
// metrics (the text of /metrics, parsed back: every counter the console shows is the one Prometheus scrapes,
// so the two never disagree) and the JetStream streams' state. Pure: unit-tested without a server.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "actors/inspection.hpp"

namespace mi::actors {

/// One sample of the Prometheus text exposition.
struct metric_sample {
  std::string name;                          ///< "mi_reconnects_total", "mi_batch_duration_seconds_bucket"
  std::map<std::string, std::string> labels; ///< {"exchange": "binance"}
  double value = 0;
};

/// The samples of a Prometheus text exposition (comments and malformed lines skipped).
std::vector<metric_sample> parse_exposition(std::string_view text);

/// A stream's counters (from the JetStream server).
struct stream_row {
  std::string name;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::string error; ///< "" unless the server could not be asked
};

/// A consumer's counters (from the JetStream server).
struct consumer_row {
  std::string stream;
  std::string name;
  std::uint64_t pending = 0;     ///< not yet delivered
  std::uint64_t ack_pending = 0; ///< delivered, not yet acked
  std::uint64_t redelivered = 0; ///< delivered more than once, not yet acked
};

/// A paused symbol (the console's pause action).
struct paused_symbol {
  std::string exchange;
  std::string symbol;
  std::int64_t since_ms = 0;
};

/// {"exchanges":[{"exchange", "connections":[{"id","name","state","last_message_age_ms","handled","last_error",
/// "last_error_ms"}], "trades_received", "reconnects", "gaps_detected", "backfilled_trades", "gaps_unfillable",
/// "missing_trades", "symbols_rejected", "frames_rejected", "symbols":[{"symbol","up"}], "paused":[{"symbol",
/// "since_ms"}]}]}: one entry per exchange that has a connection or a counter.
std::string connections_json(const std::vector<actor_info>& actors, const std::vector<metric_sample>& m,
                             const std::vector<paused_symbol>& paused, std::int64_t now_ms);

/// {"streams":[{"name","messages","bytes","first_seq","last_seq","error"}], "consumers":[{"stream","name","pending",
/// "ack_pending","lag","redelivered"}], "dead_letters":{kind: n}, "publish":{"in_flight","retries","failures"}};
/// a consumer's lag is pending + ack_pending.
std::string jetstream_json(const std::vector<stream_row>& streams, const std::vector<consumer_row>& consumers,
                           const std::vector<metric_sample>& m);

/// {"savers":[{"id","name","table","state","handled","last_error","last_error_ms","rows","batches",
/// "batch_failures","batch_mean_ms","batch_p99_ms"}], "api_database_up", "default_partition_rows":{table: n},
/// "partitions":[...], "audit":{"checked":{kind: n},"mismatches":{kind: n},"last_run_s"}}. `partitions` is a
/// JSON array given by the caller (the database's own list), "[]" when unknown.
std::string database_json(const std::vector<actor_info>& actors, const std::vector<metric_sample>& m,
                          std::string_view partitions_json);

/// {"clients","dropped","rejections":{reason: n},"sessions_failed","slowest":<the hub's list, a JSON array>}.
std::string push_json(const std::vector<metric_sample>& m, std::string_view slowest_json);

/// The value estimated at quantile q (0..1) of a Prometheus histogram's cumulative buckets ({le, count},
/// sorted by le; the last one +Inf), by linear interpolation inside the bucket as histogram_quantile() does;
/// 0 when empty.
double histogram_quantile(double q, const std::vector<std::pair<double, double>>& buckets);

} // namespace mi::actors
