#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages/trade.hpp"

namespace mi {

/// Why a trade is not admitted to MARKET_RAW (the `reason` label of mi_trades_rejected_total and
/// the `Mi-Reject-Reason` header of a quarantined trade). A closed set.
enum class reject_reason : std::uint8_t {
  none = 0,        ///< admitted
  unrepresentable, ///< price or quantity outside the bounds below: sums could not stay exact
  clock_skew,      ///< exchange time more than max_clock_skew after the receive time
  too_old,         ///< exchange time older than the raw stream's retention at receive time
  bad_trade_id,    ///< trade id empty, longer than max_trade_id_bytes or with a control character
};

/// Every reason, `none` first (the metric's series are made from this list).
inline constexpr std::array<reject_reason, 5> reject_reasons{reject_reason::none, reject_reason::unrepresentable,
                                                             reject_reason::clock_skew, reject_reason::too_old,
                                                             reject_reason::bad_trade_id};

/// "unrepresentable", "clock_skew", "too_old", "bad_trade_id" ("none" for an admitted trade).
std::string_view to_string(reject_reason r);

/// A trade id goes into the dedup id (a NATS header value: one line), the database's key and every client's
/// payload: 1 to 128 bytes, none of them an ASCII control character (below 0x20, or 0x7f). Exchanges' ids are
/// digits, UUIDs or "<digits>-<code>", far inside.
inline constexpr std::size_t max_trade_id_bytes = 128;

/// The bounds a trade's amounts must keep so that every sum the kline engine keeps for a window is
/// exact (a signed 128-bit mantissa holds 38 digits).
///
/// - price > 0 and quantity > 0;
/// - the quantity has at most 12 fraction digits and is below 10^15;
/// - price and quantity together have at most 18 fraction digits;
/// - price x quantity (the notional) is below 10^13.
///
/// A window's volume is then kept at scale <= 12 and its quote volume at scale <= 18, so both stay
/// exact while the window's volume is below 1.7 * 10^26 and its quote volume below 1.7 * 10^20:
/// ten million trades in one window, every one at the largest notional allowed, still fit. Real
/// trades are far inside (every exchange quotes with at most 10 price and 8 quantity decimals;
/// a memecoin's day is ~10^13 units).
struct amount_bounds {
  static constexpr int max_quantity_fraction_digits = 12;
  static constexpr int max_fraction_digits = 18; ///< price's plus quantity's
  static constexpr int max_quantity_integer_digits = 15;
  static constexpr int max_notional_integer_digits = 13;
};

/// The time bounds of admission (from config: ingest.max_clock_skew, nats.streams.raw.max_age).
struct admission_limits {
  std::int64_t max_clock_skew_ns = 300'000'000'000; ///< 5 min; <= 0: not checked
  std::int64_t max_age_ns = 0;                      ///< 0: not checked (a stream kept forever)
};

/// The verdict on one trade: admitted, or the reason and a human-readable detail.
struct admission {
  reject_reason reason = reject_reason::none;
  std::string detail; ///< empty when admitted, e.g. "price x quantity = 1e23 is not below 10^13"
  bool admitted() const { return reason == reject_reason::none; }
};

/// Checks the amounts only (amount_bounds). Pure, no clock.
admission check_amounts(const trade& t);

/// Checks the trade id only (max_trade_id_bytes). Pure.
admission check_trade_id(const trade& t);

/// The edge check every trade passes before it is published to MARKET_RAW: its id, amounts, then the
/// exchange time against the receive time (t.recv_ns; a trade without one is not time-checked).
/// Pure: the receive time is in the trade, no clock is read.
admission admit_trade(const trade& t, const admission_limits& limits);

} // namespace mi
