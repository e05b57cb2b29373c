#include "connectors/cn/minute_bars.hpp"

namespace mi::cn {
namespace {

constexpr std::int64_t minute_ns = 60'000'000'000;

std::int64_t floor_minute(std::int64_t ns) { return ns - ((ns % minute_ns) + minute_ns) % minute_ns; }

/// The bar minute of a snapshot time in a session (see the header).
std::int64_t bar_minute(const mi::calendar::session& s, std::int64_t ts) {
  if (ts < s.open_ns)
    return s.open_ns;
  const bool lunch = s.break_end_ns > s.break_start_ns;
  if (lunch && ts >= s.break_start_ns && ts < s.break_end_ns)
    return s.break_start_ns - minute_ns;
  if (ts >= s.close_ns)
    return s.close_ns - minute_ns;
  return floor_minute(ts);
}

} // namespace

std::int64_t minute_bars::previous_minute(const mi::calendar::session& s, std::int64_t minute) const {
  if (minute <= s.open_ns)
    return -1; // the first minute: the day's start is its base
  if (s.break_end_ns > s.break_start_ns && minute == s.break_end_ns)
    return s.break_start_ns - minute_ns;
  return minute - minute_ns;
}

void minute_bars::finish(state& st, minute_output& out) {
  if (!st.bar)
    return;
  minute_bar b = *st.bar;
  st.bar.reset();
  const std::int64_t want = previous_minute(*st.session, b.open_time_ns);
  auto vol = st.last_volume.checked_add(
    *mi::decimal::from_parts(-st.base_volume.mantissa(), st.base_volume.scale())); // last - base
  auto turn =
    st.last_turnover.checked_add(*mi::decimal::from_parts(-st.base_turnover.mantissa(), st.base_turnover.scale()));
  const bool contiguous = st.base_minute == want;
  if (contiguous && vol && turn && vol->signum() >= 0 && turn->signum() >= 0) {
    b.volume = *vol;
    b.turnover = *turn;
    out.bars.push_back(std::move(b));
  } else {
    // The minutes after the base's minute up to and including this one cannot be told apart: one gap.
    const std::int64_t from = st.base_minute < 0 ? st.session->open_ns : st.base_minute + minute_ns;
    out.gaps.push_back({b.sym, from, b.open_time_ns + minute_ns});
  }
  st.base_minute = st.minute;
  st.base_volume = st.last_volume;
  st.base_turnover = st.last_turnover;
}

minute_output minute_bars::on_snapshot(const snapshot& s) {
  minute_output out;
  if (!cal_)
    return out;
  const std::int64_t day = cal_->local_day_of(s.ts_ns);
  auto key = to_string(s.sym);
  auto it = states_.find(key);
  if (it == states_.end() || it->second.day != day) {
    if (it != states_.end())
      finish(it->second, out);
    auto sess = cal_->session_on_day(day);
    if (!sess || !*sess)
      return out;
    state fresh;
    fresh.day = day;
    fresh.session = **sess;
    fresh.minute = 0;
    fresh.base_minute = -1; // the day's totals start at zero
    it = states_.insert_or_assign(key, std::move(fresh)).first;
  }
  state& st = it->second;
  const std::int64_t m = bar_minute(*st.session, s.ts_ns);
  if (st.bar && m < st.minute)
    return out; // older than the open minute: a late answer
  if (st.bar && m > st.minute)
    finish(st, out);
  if (!st.bar) {
    st.minute = m;
    minute_bar b;
    b.sym = s.sym;
    b.open_time_ns = m;
    if (s.last)
      b.open = b.high = b.low = b.close = *s.last;
    st.bar = b;
  } else if (s.last) {
    auto& b = *st.bar;
    if (b.open.is_zero())
      b.open = b.high = b.low = *s.last;
    b.high = std::max(b.high, *s.last);
    b.low = std::min(b.low, *s.last);
    b.close = *s.last;
  }
  ++st.bar->snapshots;
  st.last_volume = s.volume;
  st.last_turnover = s.turnover;
  return out;
}

minute_output minute_bars::flush() {
  minute_output out;
  for (auto& [k, st] : states_)
    finish(st, out);
  return out;
}

mi::kline to_kline(const minute_bar& b) {
  mi::kline k;
  k.exchange = std::string(venue_name);
  k.symbol = subject_token(b.sym);
  k.interval = "1m";
  k.open_time_ms = b.open_time_ns / 1'000'000;
  k.close_time_ms = k.open_time_ms + 59'999;
  k.open = b.open;
  k.high = b.high;
  k.low = b.low;
  k.close = b.close;
  k.volume = b.volume;
  k.quote_volume = b.turnover;
  k.vwap = b.close; // a minute without volume: nothing to weigh
  for (int digits = 18; digits >= 0 && !b.volume.is_zero(); --digits)
    if (auto v = b.turnover.checked_div(b.volume, digits)) {
      k.vwap = *v;
      break;
    }
  k.is_final = true;
  return k;
}

} // namespace mi::cn
