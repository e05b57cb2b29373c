#pragma once

// Minute bars derived from polled snapshots (issue 13): a minute's volume and turnover are the differences of the
// cumulative day totals between the last snapshot of the minute before and the last snapshot of this minute; its
// open/high/low/close are the last prices the snapshots of the minute showed (sampled at the poll rate: a trade
// between two polls moves the totals but may not show in high or low). Minutes are the session's (calendar): a
// snapshot before the open (the 09:25 opening auction print) counts in the first minute, one in the lunch break in
// 11:29, one at or after the close (the 15:00 closing print) in 14:59, as Chinese data vendors do.
//
// A missed poll is a visible gap, never an invented bar: when the minute before a minute had no snapshot, the
// difference covers more than one minute and cannot be split, so those minutes come out as a gap instead of bars.
// The first minute of a day starts from zero totals (the day's counters start at 0), so a poller running from the
// opening auction on gets every minute. Feed every polled snapshot (not only the changed ones): a quiet minute's
// snapshot is what proves it had no trades. Pure.
//
// The cn quote actor publishes them as final 1m klines on market.kline.cn.{600000_SH}.1m (to_kline: the fields the
// snapshots cannot give, trade count, trade ids and taker-buy volumes, are 0 / empty; high and low are those the
// polls saw), so they are stored in market_klines and served like every kline (docs/protocols.md "A-shares").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/cn/quotes.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/kline.hpp"

namespace mi::cn {

/// One derived minute.
struct minute_bar {
  symbol sym;
  std::int64_t open_time_ns = 0; ///< the minute's start (UTC ns)
  mi::decimal open, high, low, close;
  mi::decimal volume;   ///< shares traded in the minute
  mi::decimal turnover; ///< CNY
  int snapshots = 0;    ///< polls that fell in the minute
  bool operator==(const minute_bar&) const = default;
};

/// Minutes [from, to) (UTC ns of their starts; `to` exclusive) of a symbol that have no bar.
struct minute_gap {
  symbol sym;
  std::int64_t from_ns = 0;
  std::int64_t to_ns = 0;
  bool operator==(const minute_gap&) const = default;
};

/// What a snapshot (or a flush) finished.
struct minute_output {
  std::vector<minute_bar> bars;
  std::vector<minute_gap> gaps;
};

/// The bar as a final 1m kline of venue `cn`, symbol as its subject token (600000_SH): open/close time the minute's,
/// volume in shares, quote_volume the turnover (CNY), vwap turnover / volume; trade_count 0, no trade ids and zero
/// taker-buy volumes (snapshots carry none); revision 0.
mi::kline to_kline(const minute_bar& b);

/// The minute bars of every symbol of one market.
class minute_bars {
public:
  /// `cal` must outlive this (the market of the symbols fed).
  explicit minute_bars(const mi::calendar::calendar* cal) : cal_(cal) {}

  /// Feeds one snapshot: finishes the previous minute of its symbol when this one lies in a later minute.
  /// Snapshots outside any session day (a holiday, an uncovered date) and older ones are ignored.
  minute_output on_snapshot(const snapshot& s);

  /// Finishes the open minute of every symbol (call after the close's grace, or at shutdown).
  minute_output flush();

private:
  struct state {
    std::int64_t day = 0;         ///< local trading day
    std::int64_t minute = 0;      ///< the open minute's start
    std::int64_t base_minute = 0; ///< the minute whose last snapshot gave base_* (-1: the day's start)
    mi::decimal base_volume, base_turnover;
    std::optional<minute_bar> bar; ///< the open minute
    mi::decimal last_volume, last_turnover;
    std::optional<mi::calendar::session> session;
  };
  void finish(state& st, minute_output& out);
  std::int64_t previous_minute(const mi::calendar::session& s, std::int64_t minute) const;

  const mi::calendar::calendar* cal_;
  std::map<std::string, state> states_; ///< by symbol ("600000.SH")
};

} // namespace mi::cn
