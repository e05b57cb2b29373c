#include "messages/kline/kline_engine.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace mi::kline_engine {
namespace {

// Sums in a window cannot overflow a 128-bit mantissa for any real market; if they ever
// did, continuing would publish a wrong candle, so stop loudly instead.
decimal add_exact(const decimal& a, const decimal& b) {
  auto r = a.checked_add(b);
  if (!r) {
    std::fprintf(stderr, "kline engine: decimal overflow adding %s + %s\n", a.to_string().c_str(),
                 b.to_string().c_str());
    std::abort();
  }
  return *r;
}

decimal mul_exact(const decimal& a, const decimal& b) {
  auto r = a.checked_mul(b);
  if (!r) {
    std::fprintf(stderr, "kline engine: decimal overflow multiplying %s * %s\n", a.to_string().c_str(),
                 b.to_string().c_str());
    std::abort();
  }
  return *r;
}

// (time, trade id) order of two trades.
bool before(std::int64_t ts_a, std::string_view id_a, std::int64_t ts_b, std::string_view id_b) {
  if (ts_a != ts_b)
    return ts_a < ts_b;
  return compare_trade_ids(id_a, id_b) < 0;
}

constexpr std::int64_t none = std::numeric_limits<std::int64_t>::min();

std::string ms_text(std::int64_t v) {
  return v == none ? std::string("-") : std::to_string(v);
}

bool parse_i64(std::string_view s, std::int64_t& out) {
  if (s == "-") {
    out = none;
    return true;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

} // namespace

// -- checkpoint ---------------------------------------------------------------------------

std::string checkpoint::encode() const {
  std::string out = "w=" + ms_text(watermark_ms);
  for (const auto& i : intervals)
    out += ";" + i.interval + "=" + std::to_string(i.resume_seq) + "," + ms_text(i.last_final_open_ms) +
           (i.last_close.empty() ? "" : "," + i.last_close);
  return out;
}

mi::result<checkpoint> checkpoint::decode(std::string_view text) {
  checkpoint c;
  bool first = true;
  while (!text.empty()) {
    auto end = text.find(';');
    auto part = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos)
      return mi::error{"checkpoint: expected key=value, got \"" + std::string(part) + "\""};
    auto k = part.substr(0, eq);
    auto v = part.substr(eq + 1);
    if (first) {
      if (k != "w" || !parse_i64(v, c.watermark_ms))
        return mi::error{"checkpoint: must start with w=<ms>"};
      first = false;
      continue;
    }
    auto comma = v.find(',');
    per_interval pi;
    pi.interval = std::string(k);
    std::int64_t resume = 0;
    auto rest = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    auto comma2 = rest.find(',');
    if (comma2 != std::string_view::npos) {
      pi.last_close = std::string(rest.substr(comma2 + 1));
      rest = rest.substr(0, comma2);
      if (!decimal::parse(pi.last_close))
        return mi::error{"checkpoint: bad close in \"" + std::string(part) + "\""};
    }
    if (comma == std::string_view::npos || !parse_i64(v.substr(0, comma), resume) || resume < 1 ||
        !parse_i64(rest, pi.last_final_open_ms))
      return mi::error{"checkpoint: bad interval entry \"" + std::string(part) + "\""};
    pi.resume_seq = static_cast<std::uint64_t>(resume);
    c.intervals.push_back(std::move(pi));
  }
  if (first)
    return mi::error{"checkpoint: empty"};
  return c;
}

std::uint64_t checkpoint::min_resume_seq() const {
  std::uint64_t m = std::numeric_limits<std::uint64_t>::max();
  for (const auto& i : intervals)
    m = std::min(m, i.resume_seq);
  return intervals.empty() ? 1 : m;
}

// -- symbol_windows -----------------------------------------------------------------------

symbol_windows::symbol_windows(std::string exchange, std::string symbol, const options& opts,
                               const checkpoint* restored)
    : exchange_(std::move(exchange)), symbol_(std::move(symbol)), opts_(&opts) {
  lanes_.reserve(opts.intervals.size());
  for (const auto& iv : opts.intervals) {
    lane l;
    l.iv = iv;
    if (restored != nullptr) {
      for (const auto& pi : restored->intervals) {
        if (pi.interval == iv.name) {
          l.resume_seq = pi.resume_seq;
          l.last_final_open_ms = pi.last_final_open_ms;
          if (auto c = decimal::parse(pi.last_close); c && !pi.last_close.empty()) {
            l.last_close = *c;
            l.has_last_close = true;
          }
        }
      }
    }
    lanes_.push_back(std::move(l));
  }
  if (restored != nullptr)
    watermark_ms_ = restored->watermark_ms;
  recent_ids_.assign(opts.dedup_ids, 0);
  recent_set_.reserve(opts.dedup_ids);
}

bool symbol_windows::seen_recently(std::string_view trade_id) {
  if (recent_ids_.empty())
    return false;
  // 0 marks an empty slot; a real hash of 0 is moved to 1 (a false "duplicate" would need a
  // 64-bit collision between two ids of one symbol within the ring).
  std::uint64_t h = std::hash<std::string_view>{}(trade_id);
  h = h == 0 ? 1 : h;
  if (recent_set_.count(h) != 0)
    return true;
  if (auto old = recent_ids_[recent_next_]; old != 0)
    recent_set_.erase(old);
  recent_ids_[recent_next_] = h;
  recent_set_.insert(h);
  recent_next_ = (recent_next_ + 1) % recent_ids_.size();
  return false;
}

add_result symbol_windows::add(const mi::trade& t, std::uint64_t seq) {
  add_result r;
  const std::int64_t ts_ms = t.ts_ns / 1'000'000 - (t.ts_ns % 1'000'000 < 0 ? 1 : 0);
  bool fresh = false; // not covered by a restored checkpoint in at least one lane
  bool covered = true;
  for (const auto& l : lanes_)
    covered = covered && seq < l.resume_seq;
  if (!covered && seen_recently(t.trade_id)) {
    r.duplicate = true;
    return r;
  }
  const decimal notional = mul_exact(t.price, t.quantity); // once, for every interval
  for (auto& l : lanes_) {
    if (seq < l.resume_seq) {
      ++r.replayed;
      continue;
    }
    fresh = true;
    const std::int64_t open_ms = l.iv.open_of(ts_ms);
    const std::int64_t next_ms = l.iv.next_open(open_ms);
    auto it = l.open.find(open_ms);
    if (it == l.open.end()) {
      if (open_ms <= l.last_final_open_ms || (watermark_ms_ != none && next_ms + opts_->grace_ms <= watermark_ms_)) {
        auto f = l.finals.find(open_ms);
        if (opts_->revise_late && f != l.finals.end()) {
          apply(f->second, t, notional);
          ++f->second.revision;
          f->second.dirty = true; // a corrected final is due
          ++r.revised;
        } else {
          ++r.late;
        }
        continue;
      }
      window w;
      w.open_ms = open_ms;
      w.next_open_ms = next_ms;
      w.first_ts = w.last_ts = t.ts_ns;
      w.first_id = w.last_id = t.trade_id;
      w.open = w.close = w.high = w.low = t.price;
      w.first_seq = seq;
      it = l.open.emplace(open_ms, std::move(w)).first;
    }
    apply(it->second, t, notional);
    ++r.accepted;
  }
  if (fresh) {
    if (ts_ms > watermark_ms_)
      watermark_ms_ = ts_ms;
    last_seq_ = seq;
  }
  return r;
}

void symbol_windows::apply(window& w, const mi::trade& t, const decimal& notional) {
  if (w.count > 0) {
    if (before(t.ts_ns, t.trade_id, w.first_ts, w.first_id)) {
      w.first_ts = t.ts_ns;
      w.first_id = t.trade_id;
      w.open = t.price;
    }
    if (!before(t.ts_ns, t.trade_id, w.last_ts, w.last_id)) {
      w.last_ts = t.ts_ns;
      w.last_id = t.trade_id;
      w.close = t.price;
    }
    if (t.price > w.high)
      w.high = t.price;
    if (t.price < w.low)
      w.low = t.price;
  }
  w.volume = add_exact(w.volume, t.quantity);
  w.quote_volume = add_exact(w.quote_volume, notional);
  if (t.taker_side == side::buy) {
    w.taker_buy_volume = add_exact(w.taker_buy_volume, t.quantity);
    w.taker_buy_quote_volume = add_exact(w.taker_buy_quote_volume, notional);
  }
  ++w.count;
  w.dirty = true;
}

mi::kline symbol_windows::to_kline(const lane& l, const window& w, bool final) const {
  mi::kline k;
  k.exchange = exchange_;
  k.symbol = symbol_;
  k.interval = l.iv.name;
  k.open_time_ms = w.open_ms;
  k.close_time_ms = w.next_open_ms - 1;
  k.open = w.open;
  k.high = w.high;
  k.low = w.low;
  k.close = w.close;
  k.volume = w.volume;
  k.quote_volume = w.quote_volume;
  k.trade_count = w.count;
  k.taker_buy_volume = w.taker_buy_volume;
  k.taker_buy_quote_volume = w.taker_buy_quote_volume;
  // vwap to 18 fraction digits, fewer only if the quotient would not fit 128 bits.
  k.vwap = w.close; // an empty (filled) window: no volume to weigh
  for (int digits = 18; digits >= 0 && !w.volume.is_zero(); --digits) {
    if (auto v = w.quote_volume.checked_div(w.volume, digits)) {
      k.vwap = *v;
      break;
    }
  }
  k.first_trade_id = w.first_id;
  k.last_trade_id = w.last_id;
  k.is_final = final;
  k.revision = w.revision;
  return k;
}

void symbol_windows::finalize(lane& l, std::int64_t until_ms, std::vector<mi::kline>& finals) {
  for (auto& [open_ms, w] : l.finals) {
    if (w.dirty) {
      finals.push_back(to_kline(l, w, true));
      w.dirty = false;
    }
  }
  while (!l.open.empty()) {
    auto it = l.open.begin();
    if (until_ms != none && it->second.next_open_ms + opts_->grace_ms > until_ms)
      break;
    fill_until(l, it->first, finals);
    finals.push_back(to_kline(l, it->second, true));
    l.last_close = it->second.close;
    l.has_last_close = true;
    l.last_final_open_ms = std::max(l.last_final_open_ms, it->first);
    if (opts_->revise_late && opts_->keep_finals > 0) {
      it->second.dirty = false;
      l.finals.insert_or_assign(it->first, std::move(it->second));
      while (l.finals.size() > opts_->keep_finals)
        l.finals.erase(l.finals.begin());
    }
    l.open.erase(it);
  }
  // A quiet symbol: with fill, windows without trades close by the clock too.
  if (opts_->fill_empty && until_ms != none && l.open.empty() && l.has_last_close) {
    std::int64_t open = l.iv.next_open(l.last_final_open_ms);
    while (l.iv.next_open(open) + opts_->grace_ms <= until_ms)
      open = l.iv.next_open(open);
    fill_until(l, open, finals);
  }
  // Every trade up to last_seq_ is now either in an open window or in a published final.
  std::uint64_t resume = last_seq_ + 1;
  for (const auto& [open_ms, w] : l.open)
    resume = std::min(resume, w.first_seq);
  l.resume_seq = std::max(l.resume_seq, resume);
}

void symbol_windows::fill_until(lane& l, std::int64_t until_open, std::vector<mi::kline>& finals) {
  if (!opts_->fill_empty || !l.has_last_close || l.last_final_open_ms == none)
    return;
  for (std::int64_t open = l.iv.next_open(l.last_final_open_ms); open < until_open; open = l.iv.next_open(open)) {
    window w;
    w.open_ms = open;
    w.next_open_ms = l.iv.next_open(open);
    w.open = w.high = w.low = w.close = l.last_close;
    finals.push_back(to_kline(l, w, true));
    l.last_final_open_ms = open;
  }
}

void symbol_windows::close_by_event_time(std::vector<mi::kline>& finals) {
  if (watermark_ms_ == none)
    return;
  for (auto& l : lanes_)
    finalize(l, watermark_ms_, finals);
}

void symbol_windows::close_by_wall_clock(std::int64_t now_ms, std::vector<mi::kline>& finals) {
  for (auto& l : lanes_)
    finalize(l, now_ms, finals);
}

void symbol_windows::close_all(std::vector<mi::kline>& finals) {
  for (auto& l : lanes_)
    finalize(l, none, finals);
}

void symbol_windows::take_partials(std::int64_t now_ms, std::vector<mi::kline>& partials) {
  for (auto& l : lanes_) {
    if (opts_->partial_every_ms > 0 && l.last_partial_ms != none && now_ms - l.last_partial_ms < opts_->partial_every_ms)
      continue;
    bool any = false;
    for (auto& [open_ms, w] : l.open) {
      if (!w.dirty)
        continue;
      partials.push_back(to_kline(l, w, false));
      w.dirty = false;
      any = true;
    }
    if (any)
      l.last_partial_ms = now_ms;
  }
}

checkpoint symbol_windows::current_checkpoint() const {
  checkpoint c;
  c.watermark_ms = watermark_ms_;
  for (const auto& l : lanes_) {
    std::uint64_t resume = l.resume_seq;
    // Trades still in open windows must be replayed after a restart.
    for (const auto& [open_ms, w] : l.open)
      resume = std::min(resume, w.first_seq);
    c.intervals.push_back({l.iv.name, resume, l.last_final_open_ms, l.has_last_close ? l.last_close.to_string() : ""});
  }
  return c;
}

std::optional<std::int64_t> symbol_windows::next_close_ms() const {
  std::optional<std::int64_t> next;
  for (const auto& l : lanes_)
    if (!l.open.empty()) {
      auto at = l.open.begin()->second.next_open_ms + opts_->grace_ms;
      next = next ? std::min(*next, at) : at;
    }
  return next;
}

std::size_t symbol_windows::open_windows() const {
  std::size_t n = 0;
  for (const auto& l : lanes_)
    n += l.open.size();
  return n;
}

// -- batch_aggregator ---------------------------------------------------------------------

add_result batch_aggregator::add(const mi::trade& t, std::vector<mi::kline>& finals) {
  auto key = std::make_pair(t.exchange, t.symbol);
  auto it = symbols_.find(key);
  if (it == symbols_.end())
    it = symbols_.emplace(key, symbol_windows(t.exchange, t.symbol, opts_)).first;
  auto r = it->second.add(t, ++seq_);
  it->second.close_by_event_time(finals);
  return r;
}

void batch_aggregator::finish(std::vector<mi::kline>& finals) {
  for (auto& [key, sw] : symbols_)
    sw.close_all(finals);
}

} // namespace mi::kline_engine
