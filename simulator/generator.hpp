#pragma once

#include <cstdint>
#include <string>

#include "connectors/binance/instruments.hpp"
#include "messages/trade.hpp"

namespace mi::sim {

/// Deterministic synthetic trades of one symbol: ids 1, 2, 3, ...; the price is a random walk in
/// ticks of 0.01 and the quantity a multiple of 0.00001, both built from integers (never through
/// double); the taker side is random. Same seed, same sequence.
class symbol_generator {
public:
  /// `meta` gives symbol, base and quote; the walk starts near a price typical of the base asset.
  symbol_generator(binance::instrument meta, std::uint64_t seed);

  /// The next trade, stamped with `ts_ns` (the caller passes the wall clock, in ms precision like Binance's T).
  mi::trade next(std::int64_t ts_ns);

  /// Trades generated so far (the id of the last one).
  std::uint64_t generated() const { return last_id_; }

private:
  std::uint64_t random();

  binance::instrument meta_;
  std::uint64_t state_;
  std::uint64_t last_id_ = 0;
  std::int64_t price_ticks_; ///< price in units of 0.01
};

/// Wall clock now, truncated to whole milliseconds, in ns since the epoch.
std::int64_t wall_ms_as_ns();

} // namespace mi::sim
