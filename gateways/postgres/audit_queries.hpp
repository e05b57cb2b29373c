#pragma once

// Read-only queries of the stream-versus-database audit (`market-ingestor audit`, scheduled
// audit of `run`). Blocking (libpqxx); never throw.

#include <cstdint>
#include <string>
#include <vector>

#include "messages/result.hpp"

namespace mi::gw {

/// Stored trades of one (exchange, symbol, UTC hour).
struct hour_count {
  std::string exchange;     ///< "binance"
  std::string symbol;       ///< "BTCUSDT"
  std::int64_t hour_ms = 0; ///< start of the hour, ms since the epoch
  std::uint64_t count = 0;  ///< rows in market_trades
};

/// Rows of market_trades with trade time in [from_ms, to_ms), per (exchange, symbol, hour).
mi::result<std::vector<hour_count>> trade_counts_by_hour(const std::string& conninfo, std::int64_t from_ms,
                                                         std::int64_t to_ms);

/// A stored kline whose trade_count differs from the trades stored for its window.
struct kline_count_mismatch {
  std::string exchange;            ///< "binance"
  std::string symbol;              ///< "BTCUSDT"
  std::string interval;            ///< "1m"
  std::int64_t open_time_ms = 0;   ///< window start
  std::uint64_t trade_count = 0;   ///< the kline's trade_count
  std::uint64_t stored_trades = 0; ///< rows of market_trades in [open_time, close_time]
};

/// Result of kline_trade_counts.
struct kline_check {
  std::uint64_t checked = 0;                    ///< klines compared
  std::vector<kline_count_mismatch> mismatches; ///< ordered by exchange, symbol, interval, open time
};

/// Compares every stored kline opening in [from_ms, to_ms) with the trades of its window.
mi::result<kline_check> kline_trade_counts(const std::string& conninfo, std::int64_t from_ms, std::int64_t to_ms);

} // namespace mi::gw
