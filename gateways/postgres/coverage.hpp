#pragma once

// Coverage (migration 0006): the gap reports of MARKET_GAP and the audits' verdicts, written per (exchange, symbol,
// UTC hour); read back by history_db::coverage (GET /api/v1/coverage). Blocking (libpqxx); never throw.

#include <cstdint>
#include <string>
#include <vector>

#include "messages/result.hpp"

namespace mi::gw {

/// One gap report (a row of market_gaps).
struct gap_record {
  std::string id; ///< the report's Nats-Msg-Id (unique: a redelivery inserts nothing)
  std::string exchange;
  std::string symbol;
  std::string outcome; ///< "detected", "filled", "unfillable"
  std::int64_t first_id = 0;
  std::int64_t last_id = 0;
  std::int64_t trades = 0; ///< ids missing (detected), recovered (filled), lost (unfillable)
  std::int64_t after_ts_ns = 0;
  std::int64_t before_ts_ns = 0;
  std::string reason;
  /// The hour the report counts in (ms since the epoch): the hour of the middle between the last trade before the
  /// gap and the first after it (the one known when the other is 0).
  std::int64_t hour_ms() const;
};

/// Inserts the reports (one transaction; those already stored are skipped); the number inserted.
mi::result<std::size_t> write_gaps(const std::string& conninfo, const std::vector<gap_record>& gaps);

/// One audited cell: distinct trades in MARKET_RAW and rows of market_trades of (exchange, symbol, hour).
struct audit_cell {
  std::string exchange;
  std::string symbol;
  std::int64_t hour_ms = 0;
  std::uint64_t stream_trades = 0;
  std::uint64_t stored_trades = 0;
};

/// Upserts the verdicts into market_audits (the latest audit of a cell wins).
mi::result<std::size_t> record_audit(const std::string& conninfo, const std::vector<audit_cell>& cells);

} // namespace mi::gw
