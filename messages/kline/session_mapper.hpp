#pragma once

// The window mapper of a market with sessions (XNYS, XSHG, ...): trade time -> the kline window of an interval,
// or "outside the session" (pre/post market, lunch break, nights, weekends, holidays) so the engine rejects it.
// Crypto (calendar::always_open) needs none: the engine keeps its UTC floor arithmetic (interval::open_of).
//
// Rules (README "Session-aware klines"):
// - intervals shorter than a day are anchored at the start of each session segment and cut at its end: 1h in
//   Shanghai is 09:30-10:30, 10:30-11:30, 13:00-14:00, 14:00-15:00; in New York 09:30-10:30 ... 15:30-16:00 (and
//   ... 12:30-13:00 on an early close). No window straddles the lunch break or the close.
// - 1d is the trading day in the market's time zone: [open, close) of its session; 3d groups three local days
//   (aligned like the crypto 3d, but on local dates), 1w the local Monday-to-Sunday week, 1M the local month; each
//   such window runs from the first open to the last close of the trading days in it.
// - the opening call auction's print (stamped from the auction's start up to the open, e.g. 09:25) counts at the
//   open (joins the first minute); the closing auction's print (stamped in the minute after the close, 15:00:xx)
//   counts at the last instant of the session (joins the last minute, 14:59). The trade keeps its own time, so the
//   opening print is the first trade (open) of its windows and the closing print the last (close).
// - windows follow each other only inside sessions: "the next window" after 11:29 is 13:00, after the close it is
//   the next trading day's open (so `empty_windows: fill` fills session minutes only).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "messages/calendar/calendar.hpp"
#include "messages/kline/interval.hpp"

namespace mi::kline_engine {

/// A window: [open_ms, end_ms).
struct window_span {
  std::int64_t open_ms = 0;
  std::int64_t end_ms = 0;
  bool operator==(const window_span&) const = default;
};

/// Why a trade is outside every window of its market.
enum class outside : std::uint8_t {
  none = 0,    ///< inside a session (or an auction print)
  closed,      ///< pre/post market, the lunch break, a night, a weekend or a holiday
  no_calendar, ///< a date the market's calendar has no data for (deploy/calendars: extend `years`)
};
/// "none", "closed", "no_calendar": the `reason` label of mi_kline_trades_outside_session_total.
std::string_view to_string(outside o);

class session_mapper {
public:
  explicit session_mapper(const mi::calendar::calendar& cal);

  /// Where a trade at `ts_ms` counts: outside::none and its effective time in `eff_ms` (auction prints moved into
  /// the session), or the reason it is outside.
  outside place(std::int64_t ts_ms, std::int64_t& eff_ms) const;
  /// The window of `iv` holding `eff_ms` (an effective time place() returned, or a window's open).
  window_span window_of(const interval& iv, std::int64_t eff_ms) const;
  /// The window of `iv` after the one opening at `open_ms`; nullopt beyond the calendar's data.
  std::optional<window_span> next_window(const interval& iv, std::int64_t open_ms) const;
  const mi::calendar::calendar& calendar() const { return *cal_; }

private:
  struct day_info {
    std::int64_t day = 0;
    bool covered = false;
    bool open = false;
    int segments = 0;
    std::int64_t seg_begin[2] = {0, 0}; ///< ms
    std::int64_t seg_end[2] = {0, 0};
    std::int64_t auction_from = 0; ///< opening auction start (== seg_begin[0] when none)
    std::int64_t print_until = 0;  ///< end of the closing print's minute (== close when none)
  };
  std::int64_t local_day(std::int64_t ms) const;
  const day_info& day_at(std::int64_t day) const;
  /// Local days [first, last) of the group of `iv` (1d, 3d, 1w, 1M) holding `day`.
  std::pair<std::int64_t, std::int64_t> group_of(const interval& iv, std::int64_t day) const;
  /// [first open, last close) of the trading days in [first, last); nullopt when none.
  std::optional<window_span> group_window(std::int64_t first, std::int64_t last) const;

  const mi::calendar::calendar* cal_;
  std::int64_t lo_ms_ = 0; ///< a day before the calendar's first date (UTC): earlier trades have no data
  std::int64_t hi_ms_ = 0; ///< two days after its last date
  // Caches: the local day last asked for (its bounds in UTC ms) and the sessions of recent days.
  mutable std::int64_t cached_lo_ = 1;
  mutable std::int64_t cached_hi_ = 0; ///< empty range: nothing cached
  mutable std::int64_t cached_day_ = 0;
  mutable std::vector<day_info> days_;
};

} // namespace mi::kline_engine
