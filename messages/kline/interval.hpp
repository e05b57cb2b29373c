#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace mi::kline_engine {

/// A Binance kline interval: 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M.
/// Windows are aligned to UTC: fixed-length ones to the epoch, `1w` to Monday 00:00 UTC,
/// `1M` to the first day of the calendar month.
struct interval {
  enum class unit : std::uint8_t { fixed, week, month };
  std::string name;
  unit kind = unit::fixed;
  std::int64_t length_ms = 0; ///< for fixed and week

  /// Open time (ms) of the window holding `ts_ms`.
  std::int64_t open_of(std::int64_t ts_ms) const;
  /// Open time of the window after the one opening at `open_ms`.
  std::int64_t next_open(std::int64_t open_ms) const;
};

/// One line of the interval table.
struct interval_spec {
  std::string_view name;      ///< "1m": the {interval} of `market.kline.{exchange}.{symbol}.{interval}`
  interval::unit kind;        ///< how windows are aligned
  std::int64_t length_ms = 0; ///< fixed and week: the window's length; month: 0 (calendar months)
};

/// Every interval, shortest first: the one table that config validation, the API's parameter check, the CLI help
/// and parse_interval() iterate. A new interval is one line in interval.cpp.
std::span<const interval_spec> all_intervals();
/// The names of all_intervals() joined with `separator`: "1s 1m 3m ... 1M".
std::string interval_names(std::string_view separator = " ");

/// Parses one of Binance's interval names; error names the accepted set.
mi::result<interval> parse_interval(std::string_view name);

} // namespace mi::kline_engine
