#pragma once

// Indicators over kline closes for GET /api/v1/indicators. Pure functions, no I/O.
//
// - SMA(N): exact sum of the last N closes divided by N, truncated to 18 fraction digits.
// - EMA(N): seeded with SMA(N) of the first N closes, then ema = (2 * close + (N - 1) * ema) / (N + 1)
//   (the same as ema + 2/(N+1) * (close - ema)), each step truncated toward zero to 18 fraction
//   digits: exact decimal arithmetic apart from that documented truncation.
// - RV(N): realized volatility sqrt(sum of the last N squared log returns ln(c_i / c_{i-1})), in
//   double: the only floating-point statistic of the API (a logarithm has no exact decimal value).

#include <cstdint>
#include <string>
#include <vector>

#include "messages/decimal.hpp"
#include "messages/result.hpp"

namespace mi::gw::ind {

/// Fraction digits of SMA and EMA values (truncated toward zero).
inline constexpr int fraction_digits = 18;

/// One output point: the candle's open time and the indicator's value as text.
struct point {
  std::int64_t open_time_ms = 0;
  std::string value; ///< canonical decimal text (sma, ema) or shortest round-trip double text (rv)
  /// Field-wise equality.
  bool operator==(const point&) const = default;
};

/// SMA(period) at every candle from index period-1 on. `closes[i]` belongs to `open_times[i]`.
/// Error on overflow or a period < 1.
mi::result<std::vector<point>> sma(const std::vector<std::int64_t>& open_times, const std::vector<mi::decimal>& closes,
                                   int period);
/// EMA(period) from index period-1 on (seeded with the SMA there).
mi::result<std::vector<point>> ema(const std::vector<std::int64_t>& open_times, const std::vector<mi::decimal>& closes,
                                   int period);
/// RV(period) from index period on (needs period returns). Error if a close is not positive.
mi::result<std::vector<point>> realized_volatility(const std::vector<std::int64_t>& open_times,
                                                   const std::vector<mi::decimal>& closes, int period);

} // namespace mi::gw::ind
