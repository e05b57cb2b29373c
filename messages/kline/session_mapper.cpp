#include "messages/kline/session_mapper.hpp"

#include <algorithm>

#include "messages/util/floor_div.hpp"
#include "messages/util/time_zone.hpp"

namespace mi::kline_engine {
namespace {

constexpr std::int64_t ms_per_day = mi::util::ms_per_day;
constexpr std::int64_t ns_per_ms = 1'000'000;
// Longest run of closed days looked through for "the next window" (China's October holiday plus a weekend is 9).
constexpr int max_closed_days = 40;

std::int64_t to_ms(std::int64_t ns) { return mi::util::floor_div(ns, ns_per_ms); }

} // namespace

std::string_view to_string(outside o) {
  switch (o) {
  case outside::none:
    return "none";
  case outside::closed:
    return "closed";
  case outside::no_calendar:
    return "no_calendar";
  }
  return "none";
}

session_mapper::session_mapper(const mi::calendar::calendar& cal) : cal_(&cal) {
  const auto first = cal.first_date();
  const auto last = cal.last_date();
  lo_ms_ = (mi::util::days_from_civil(first.year, first.month, first.day) - 1) * ms_per_day;
  hi_ms_ = (mi::util::days_from_civil(last.year, last.month, last.day) + 2) * ms_per_day;
  days_.reserve(64);
}

std::int64_t session_mapper::local_day(std::int64_t ms) const {
  if (ms >= cached_lo_ && ms < cached_hi_)
    return cached_day_;
  const std::int64_t ns = ms * ns_per_ms;
  const std::int64_t day = cal_->local_day_of(ns);
  // The day's bounds in UTC: local midnight to the next local midnight.
  auto midnight = [&](std::int64_t d) -> std::optional<std::int64_t> {
    mi::util::civil_time t;
    t.date = mi::util::civil_from_days(d);
    auto r = mi::util::utc_of_local(cal_->time_zone(), t);
    if (!r)
      return std::nullopt;
    return mi::util::floor_div(*r, ns_per_ms);
  };
  auto lo = midnight(day);
  auto hi = midnight(day + 1);
  if (lo && hi && ms >= *lo && ms < *hi) {
    cached_lo_ = *lo;
    cached_hi_ = *hi;
    cached_day_ = day;
  }
  return day;
}

const session_mapper::day_info& session_mapper::day_at(std::int64_t day) const {
  for (auto it = days_.rbegin(); it != days_.rend(); ++it) // the newest first: usually the trade's own day
    if (it->day == day)
      return *it;
  if (days_.size() >= 64)
    days_.erase(days_.begin(), days_.begin() + 32); // the oldest lookups
  day_info info;
  info.day = day;
  auto s = cal_->session_on_day(day);
  info.covered = s.has_value();
  if (s && *s) {
    const auto& ss = **s;
    info.open = true;
    if (ss.local_break) {
      info.segments = 2;
      info.seg_begin[0] = to_ms(ss.open_ns);
      info.seg_end[0] = to_ms(ss.break_start_ns);
      info.seg_begin[1] = to_ms(ss.break_end_ns);
      info.seg_end[1] = to_ms(ss.close_ns);
    } else {
      info.segments = 1;
      info.seg_begin[0] = to_ms(ss.open_ns);
      info.seg_end[0] = to_ms(ss.close_ns);
    }
    info.auction_from = to_ms(ss.opening_auction_ns);
    info.print_until = to_ms(ss.closing_print_until_ns);
  }
  days_.push_back(info);
  return days_.back();
}

outside session_mapper::place(std::int64_t ts_ms, std::int64_t& eff_ms) const {
  if (ts_ms < lo_ms_ || ts_ms >= hi_ms_) // far outside the data (also keeps absurd times away from the tz code)
    return outside::no_calendar;
  const day_info& d = day_at(local_day(ts_ms));
  if (!d.covered)
    return outside::no_calendar;
  if (!d.open)
    return outside::closed;
  if (ts_ms >= d.auction_from && ts_ms < d.seg_begin[0]) {
    eff_ms = d.seg_begin[0]; // the opening auction's print: the first minute
    return outside::none;
  }
  for (int i = 0; i < d.segments; ++i)
    if (ts_ms >= d.seg_begin[i] && ts_ms < d.seg_end[i]) {
      eff_ms = ts_ms;
      return outside::none;
    }
  const std::int64_t close = d.seg_end[d.segments - 1];
  if (ts_ms >= close && ts_ms < d.print_until) {
    eff_ms = close - 1; // the closing auction's print: the last minute
    return outside::none;
  }
  return outside::closed;
}

std::pair<std::int64_t, std::int64_t> session_mapper::group_of(const interval& iv, std::int64_t day) const {
  using mi::util::floor_div;
  switch (iv.kind) {
  case interval::unit::fixed: {
    const std::int64_t n = std::max<std::int64_t>(1, iv.length_ms / ms_per_day);
    const std::int64_t first = floor_div(day, n) * n;
    return {first, first + n};
  }
  case interval::unit::week: {
    const std::int64_t first = floor_div(day - 4, std::int64_t{7}) * 7 + 4; // 1970-01-05 was a Monday
    return {first, first + 7};
  }
  case interval::unit::month: {
    const auto d = mi::util::civil_from_days(day);
    const std::int64_t first = mi::util::days_from_civil(d.year, d.month, 1);
    const std::int64_t next =
      d.month == 12 ? mi::util::days_from_civil(d.year + 1, 1, 1) : mi::util::days_from_civil(d.year, d.month + 1, 1);
    return {first, next};
  }
  }
  return {day, day + 1};
}

std::optional<window_span> session_mapper::group_window(std::int64_t first, std::int64_t last) const {
  std::optional<window_span> w;
  for (std::int64_t day = first; day < last; ++day) {
    const day_info& d = day_at(day);
    if (!d.open)
      continue;
    if (!w)
      w = window_span{d.seg_begin[0], d.seg_end[d.segments - 1]};
    else
      w->end_ms = d.seg_end[d.segments - 1];
  }
  return w;
}

window_span session_mapper::window_of(const interval& iv, std::int64_t eff_ms) const {
  const std::int64_t day = local_day(eff_ms);
  if (iv.kind == interval::unit::fixed && iv.length_ms < ms_per_day) {
    const day_info& d = day_at(day);
    for (int i = 0; i < d.segments; ++i) {
      if (eff_ms < d.seg_begin[i] || eff_ms >= d.seg_end[i])
        continue;
      const std::int64_t open =
        d.seg_begin[i] + mi::util::floor_div(eff_ms - d.seg_begin[i], iv.length_ms) * iv.length_ms;
      return {open, std::min(open + iv.length_ms, d.seg_end[i])};
    }
    // Not inside a session (not an effective time): a one-interval window of its own.
    const std::int64_t open = iv.open_of(eff_ms);
    return {open, open + iv.length_ms};
  }
  auto [first, last] = group_of(iv, day);
  if (auto w = group_window(first, last))
    return *w;
  const std::int64_t open = eff_ms;
  return {open, open + 1};
}

std::optional<window_span> session_mapper::next_window(const interval& iv, std::int64_t open_ms) const {
  std::int64_t day = local_day(open_ms);
  if (iv.kind == interval::unit::fixed && iv.length_ms < ms_per_day) {
    const day_info& d = day_at(day);
    for (int i = 0; i < d.segments; ++i) {
      if (open_ms < d.seg_begin[i] || open_ms >= d.seg_end[i])
        continue;
      const std::int64_t next = open_ms + iv.length_ms;
      if (next < d.seg_end[i])
        return window_span{next, std::min(next + iv.length_ms, d.seg_end[i])};
      if (i + 1 < d.segments)
        return window_span{d.seg_begin[i + 1], std::min(d.seg_begin[i + 1] + iv.length_ms, d.seg_end[i + 1])};
      break;
    }
    for (int k = 1; k <= max_closed_days; ++k) {
      const day_info& n = day_at(day + k);
      if (!n.covered)
        return std::nullopt;
      if (n.open)
        return window_span{n.seg_begin[0], std::min(n.seg_begin[0] + iv.length_ms, n.seg_end[0])};
    }
    return std::nullopt;
  }
  auto [first, last] = group_of(iv, day);
  for (int k = 0; k < max_closed_days; ++k) {
    auto next = group_of(iv, last);
    first = next.first;
    last = next.second;
    if (!day_at(first).covered)
      return std::nullopt;
    if (auto w = group_window(first, last))
      return w;
  }
  return std::nullopt;
}

} // namespace mi::kline_engine
