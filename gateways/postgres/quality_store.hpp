#pragma once

// The daily job's side of PostgreSQL (migration 0013; docs/operations.md "Alpaca daily job"): the platform's own 1d
// klines of a trading day (market_klines) to compare a source's daily bars with, and the comparison's rows
// (market_daily_quality). Blocking (libpqxx): call it from a detached actor or a tool.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/kline.hpp"
#include "messages/result.hpp"

namespace mi::gw {

/// One row of market_daily_quality: one symbol's comparison on one trading day.
struct quality_row {
  std::string venue, symbol, market;
  std::string trading_day;             ///< YYYY-MM-DD
  std::string source;                  ///< "alpaca"
  int mismatches = 0;                  ///< fields that differ
  std::string differences_json = "[]"; ///< [{"field":..,"source":..,"ours":..}]
  std::int64_t checked_at_ns = 0;
  bool operator==(const quality_row&) const = default;
};

/// Reads klines and writes quality rows on one connection (reconnects after an error); not thread-safe.
class quality_store {
public:
  explicit quality_store(std::string conninfo);
  ~quality_store();
  quality_store(const quality_store&) = delete;
  quality_store& operator=(const quality_store&) = delete;

  /// The stored 1d klines of `exchange` whose window opens at `open_time_ms` (the trading day's session open), for
  /// the `symbols` asked; a symbol without one is absent from the answer.
  mi::result<std::vector<mi::kline>> daily_klines(const std::string& exchange, const std::vector<std::string>& symbols,
                                                  std::int64_t open_time_ms);

  /// Upserts the rows in one transaction (a rerun of a day replaces its rows); the rows written.
  mi::result<std::size_t> write(const std::vector<quality_row>& rows);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace mi::gw
