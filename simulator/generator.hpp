#pragma once

#include <cstdint>
#include <string>

#include "connectors/binance/instruments.hpp"
#include "messages/trade.hpp"

namespace mi::sim {

/// Deterministic synthetic trades of one symbol: ids first_id, first_id + 1, ...; the price is a random walk in
/// ticks of 0.01 and the quantity a multiple of 0.00001, both built from integers (never through
/// double); the taker side is random. Same seed, same sequence.
class symbol_generator {
public:
  /// `meta` gives symbol, base and quote; the walk starts near a price typical of the base asset.
  /// Trades carry `exchange` and ids from `first_id` (>= 1) up.
  symbol_generator(binance::instrument meta, std::uint64_t seed, std::string exchange = "binance",
                   std::uint64_t first_id = 1);

  /// The next trade, stamped with `ts_ns` (the caller passes the wall clock at the exchange's resolution: ms or µs).
  mi::trade next(std::int64_t ts_ns);

  /// Trades generated so far.
  std::uint64_t generated() const { return last_id_ + 1 - first_id_; }

private:
  std::uint64_t random();

  binance::instrument meta_;
  std::string exchange_;
  std::uint64_t state_;
  std::uint64_t first_id_;
  std::uint64_t last_id_;    ///< first_id_ - 1 before the first trade
  std::int64_t price_ticks_; ///< price in units of 0.01
};

/// Wall clock now, truncated to whole milliseconds, in ns since the epoch.
std::int64_t wall_ms_as_ns();

} // namespace mi::sim
