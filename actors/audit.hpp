#pragma once

// Stream-versus-database audit: per (exchange, symbol, UTC hour) the distinct trades in
// MARKET_RAW against the rows of market_trades, and each stored kline's trade_count against the
// trades stored for its window. Used by `market-ingestor audit` and the scheduled audit of `run`.

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "gateways/postgres/coverage.hpp"
#include "messages/result.hpp"

namespace mi::gw {
class jetstream;
} // namespace mi::gw

namespace mi::actors {

/// (exchange, symbol, hour start in ms since the epoch).
using hour_key = std::tuple<std::string, std::string, std::int64_t>;
/// Trades per hour_key.
using hour_counts = std::map<hour_key, std::uint64_t>;

/// What an audit found.
struct audit_report {
  std::uint64_t stream_trades = 0;       ///< distinct trades in the range read from the stream
  std::uint64_t hours_checked = 0;       ///< (exchange, symbol, hour) cells compared
  std::uint64_t klines_checked = 0;      ///< stored klines compared with their trades
  std::uint64_t trade_mismatches = 0;    ///< cells whose counts differ
  std::uint64_t kline_mismatches = 0;    ///< klines whose trade_count differs
  std::vector<std::string> lines;        ///< one human-readable line per mismatch
  std::vector<mi::gw::audit_cell> cells; ///< every cell compared, with both counts (market_audits, coverage)
  /// True when nothing differs.
  bool clean() const { return trade_mismatches == 0 && kline_mismatches == 0; }
};

/// Compares per-hour counts of the stream and the database, appending every cell to `report.cells` and one line
/// per cell that differs (a cell missing on one side counts 0 there) to `report.lines`. Pure.
void compare_hours(const hour_counts& stream, const hour_counts& db, audit_report& report);

/// Runs the whole audit of trade times in [from_ms, to_ms): scans `raw_stream` from the first
/// message stored at or after from_ms - 5 min (a trade is stored after it happened; the margin
/// absorbs exchange clock skew) up to its last message at the start of the audit, counting
/// distinct trade ids per cell (JetStream may hold a late resend twice; the database never
/// does), then queries PostgreSQL. An error means the audit could not run (connection, stream).
mi::result<audit_report> run_audit(mi::gw::jetstream& js, const std::string& raw_stream, const std::string& dsn,
                                   std::int64_t from_ms, std::int64_t to_ms);

} // namespace mi::actors
