#include "messages/kline/kline_engine.hpp"

#include <array>
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

using i128 = decimal::mantissa_type;

// 10^0 .. 10^38: every power that fits a signed 128-bit mantissa.
constexpr int max_pow10 = 38;
constexpr auto pow10 = [] {
  std::array<i128, max_pow10 + 1> p{};
  p[0] = 1;
  for (int i = 1; i <= max_pow10; ++i)
    p[i] = p[i - 1] * 10;
  return p;
}();

// m * 10^n into `out`; false on overflow.
bool scaled(i128 m, int n, i128& out) {
  if (n == 0) {
    out = m;
    return true;
  }
  if (m == 0) {
    out = 0;
    return true;
  }
  return n <= max_pow10 && !__builtin_mul_overflow(m, pow10[n], &out);
}

// Same avalanche as splitmix64: spreads sequential numeric ids over the dedup table.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
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

// -- id_key, sum, recent_ids -----------------------------------------------------------------

symbol_windows::id_key symbol_windows::id_key::of(std::string_view id) {
  id_key k;
  // Canonical decimal ids up to 19 digits fit 64 bits and compare like compare_trade_ids.
  if (!id.empty() && id.size() <= 19 && (id[0] != '0' || id.size() == 1)) {
    std::uint64_t v = 0;
    bool digits = true;
    for (char c : id) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (digits) {
      k.num = v;
      k.numeric = true;
      return k;
    }
  }
  k.text = std::string(id);
  return k;
}

std::string symbol_windows::id_key::str() const {
  return numeric ? std::to_string(num) : text;
}

namespace {

// (time, trade id) order of two trades, as compare_trade_ids orders the ids.
template <class Key>
bool before(std::int64_t ts_a, const Key& a, std::int64_t ts_b, const Key& b) {
  if (ts_a != ts_b)
    return ts_a < ts_b;
  if (a.numeric && b.numeric)
    return a.num < b.num;
  return compare_trade_ids(a.str(), b.str()) < 0;
}

template <class Key>
void copy_id(Key& to, const Key& from) {
  to.numeric = from.numeric;
  to.num = from.num;
  if (!from.numeric)
    to.text = from.text;
}

// The slow path of add_to: align with overflow checks; when a rescale or the addition would
// overflow 128 bits, fall back to normalized decimals (what the engine always did), which abort
// only where the exact normalized sum itself overflows.
template <class Sum>
[[gnu::noinline]] void add_to_slow(Sum& s, i128 m, int scale) {
  i128 a = s.m;
  i128 b = m;
  int sc = s.scale;
  bool ok = true;
  if (scale > sc) {
    ok = scaled(a, scale - sc, a);
    sc = scale;
  } else if (scale < sc) {
    ok = scaled(b, sc - scale, b);
  }
  i128 r = 0;
  if (ok && !__builtin_add_overflow(a, b, &r)) {
    s.m = r;
    s.scale = sc;
    return;
  }
  auto x = decimal::from_parts(s.m, s.scale);
  auto y = decimal::from_parts(m, scale);
  if (!x || !y) {
    std::fprintf(stderr, "kline engine: decimal out of range in a sum\n");
    std::abort();
  }
  decimal d = add_exact(*x, *y);
  s.m = d.mantissa();
  s.scale = d.scale();
}

// Adds m * 10^-scale to the sum exactly. The sum keeps the largest scale seen so far.
template <class Sum>
inline void add_to(Sum& s, i128 m, int scale) {
  i128 r;
  if (scale == s.scale) {
    if (!__builtin_add_overflow(s.m, m, &r)) {
      s.m = r;
      return;
    }
  } else if (scale < s.scale && s.scale - scale <= 18 && m >= INT64_MIN && m <= INT64_MAX) {
    // |m| < 2^63 and 10^18 < 2^60: the aligned addend fits 128 bits without a check.
    if (!__builtin_add_overflow(s.m, m * pow10[s.scale - scale], &r)) {
      s.m = r;
      return;
    }
  }
  add_to_slow(s, m, scale);
}

} // namespace

decimal symbol_windows::sum::value() const {
  return *decimal::from_parts(m, scale); // scale >= 0: never fails
}

std::uint64_t symbol_windows::recent_ids::hash_of(const id_key& id, std::string_view text) {
  // 0 marks an empty slot; a real hash of 0 is moved to 1 (a false "duplicate" would need a
  // 64-bit collision between two ids of one symbol within the ring).
  std::uint64_t h = id.numeric ? mix(id.num) : std::hash<std::string_view>{}(text);
  return h == 0 ? 1 : h;
}

bool symbol_windows::recent_ids::contains_sorted(std::uint64_t v) const {
  std::size_t lo = 0, hi = ring_.size(); // logical positions, oldest first
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const std::uint64_t x = ring_[(next_ + mid) % ring_.size()];
    if (x == v)
      return true;
    if (x < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

bool symbol_windows::recent_ids::seen_or_insert(const id_key& id, std::string_view text) {
  if (sorted_) {
    if (id.numeric) {
      if (ring_.empty() || id.num > newest()) {
        if (ring_.size() < capacity_) {
          ring_.push_back(id.num);
        } else {
          ring_[next_] = id.num;
          next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
        }
        return false;
      }
      if (contains_sorted(id.num))
        return true;
    }
    to_hashed();
  }
  return seen_or_insert_hash(hash_of(id, text));
}

void symbol_windows::recent_ids::to_hashed() {
  sorted_ = false;
  for (auto& v : ring_) {
    v = mix(v);
    v = v == 0 ? 1 : v;
  }
  std::size_t size = 16;
  while (size < 2 * ring_.size() + 2)
    size *= 2;
  table_.assign(size / 2, 0);
  grow(); // doubles to `size` and inserts the ring
}

std::size_t symbol_windows::recent_ids::slot_of(std::uint64_t h) const {
  return static_cast<std::size_t>(h) & (table_.size() - 1);
}

void symbol_windows::recent_ids::grow() {
  std::vector<std::uint64_t> bigger(table_.size() * 2, 0);
  table_.swap(bigger);
  const std::size_t mask = table_.size() - 1;
  for (std::uint64_t h : ring_) {
    std::size_t i = slot_of(h);
    while (table_[i] != 0)
      i = (i + 1) & mask;
    table_[i] = h;
  }
}

bool symbol_windows::recent_ids::seen_or_insert_hash(std::uint64_t h) {
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = slot_of(h); table_[i] != 0; i = (i + 1) & mask)
    if (table_[i] == h)
      return true;
  if (ring_.size() < capacity_) {
    ring_.push_back(h);
    if (ring_.size() * 2 > table_.size()) {
      grow(); // inserts h with the others
      return false;
    }
  } else {
    // Forget the oldest first; it may sit on the probe path of `h`, so probe again after.
    erase(ring_[next_]);
    ring_[next_] = h;
    next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
  }
  std::size_t i = slot_of(h);
  while (table_[i] != 0)
    i = (i + 1) & (table_.size() - 1);
  table_[i] = h;
  return false;
}

// Linear-probing deletion by backward shift: no tombstones, probe paths stay short.
void symbol_windows::recent_ids::erase(std::uint64_t h) {
  const std::size_t mask = table_.size() - 1;
  std::size_t i = slot_of(h);
  while (table_[i] != h) {
    if (table_[i] == 0)
      return; // not present (cannot happen: the ring and the table hold the same hashes)
    i = (i + 1) & mask;
  }
  for (std::size_t j = (i + 1) & mask; table_[j] != 0; j = (j + 1) & mask) {
    const std::size_t home = slot_of(table_[j]);
    // Move table_[j] into the hole at i unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      table_[i] = table_[j];
      i = j;
    }
  }
  table_[i] = 0;
}

// -- symbol_windows -----------------------------------------------------------------------

symbol_windows::symbol_windows(std::string exchange, std::string symbol, const options& opts,
                               const checkpoint* restored)
    : exchange_(std::move(exchange)), symbol_(std::move(symbol)), opts_(&opts), recent_(opts.dedup_ids) {
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
}

add_result symbol_windows::add(const mi::trade& t, std::uint64_t seq) {
  add_result r;
  const std::int64_t ts_ms = t.ts_ns / 1'000'000 - (t.ts_ns % 1'000'000 < 0 ? 1 : 0);
  bool fresh = false; // not covered by a restored checkpoint in at least one lane
  bool covered = true;
  for (const auto& l : lanes_)
    covered = covered && seq < l.resume_seq;
  prepared p{t, id_key::of(t.trade_id)};
  if (!covered && recent_.enabled() && recent_.seen_or_insert(p.id, t.trade_id)) {
    r.duplicate = true;
    return r;
  }
  // price * quantity once, for every interval; normalized decimals, so an overflow here is
  // exactly where the normalized product overflows.
  if (__builtin_mul_overflow(t.price.mantissa(), t.quantity.mantissa(), &p.notional_m))
    mul_exact(t.price, t.quantity); // reports and aborts
  p.notional_scale = t.price.scale() + t.quantity.scale();
  for (auto& l : lanes_) {
    if (seq < l.resume_seq) {
      ++r.replayed;
      continue;
    }
    fresh = true;
    // Most trades fall in the window the previous one went to: no lookup, no boundary math.
    if (window* hot = l.hot; hot != nullptr && ts_ms >= hot->open_ms && ts_ms < hot->next_open_ms) {
      apply(*hot, p);
      ++r.accepted;
      continue;
    }
    const std::int64_t open_ms = l.iv.open_of(ts_ms);
    auto it = l.open.find(open_ms);
    if (it == l.open.end()) {
      const std::int64_t next_ms = l.iv.next_open(open_ms);
      if (open_ms <= l.last_final_open_ms || (watermark_ms_ != none && next_ms + opts_->grace_ms <= watermark_ms_)) {
        auto f = l.finals.find(open_ms);
        if (opts_->revise_late && f != l.finals.end()) {
          apply(f->second, p);
          ++f->second.revision;
          f->second.dirty = true; // a corrected final is due
          l.finals_dirty = true;
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
      w.first_id = p.id;
      w.last_id = p.id;
      w.open = w.close = w.high = w.low = t.price;
      w.first_seq = seq;
      l.open_min_seq = l.open.empty() ? seq : std::min(l.open_min_seq, seq);
      it = l.open.emplace(open_ms, std::move(w)).first;
    }
    l.hot = &it->second;
    apply(it->second, p);
    ++r.accepted;
  }
  if (fresh) {
    if (ts_ms > watermark_ms_)
      watermark_ms_ = ts_ms;
    last_seq_ = seq;
  }
  return r;
}

void symbol_windows::apply(window& w, const prepared& p) {
  const mi::trade& t = p.t;
  if (w.count > 0) {
    // Time alone decides unless the trade shares its nanosecond with the first or last one.
    if (t.ts_ns <= w.first_ts && before(t.ts_ns, p.id, w.first_ts, w.first_id)) {
      w.first_ts = t.ts_ns;
      copy_id(w.first_id, p.id);
      w.open = t.price;
    }
    if (t.ts_ns > w.last_ts || !before(t.ts_ns, p.id, w.last_ts, w.last_id)) {
      w.last_ts = t.ts_ns;
      copy_id(w.last_id, p.id);
      w.close = t.price;
    }
    if (t.price > w.high)
      w.high = t.price;
    if (t.price < w.low)
      w.low = t.price;
  }
  add_to(w.volume, t.quantity.mantissa(), t.quantity.scale());
  add_to(w.quote_volume, p.notional_m, p.notional_scale);
  if (t.taker_side == side::buy) {
    add_to(w.taker_buy_volume, t.quantity.mantissa(), t.quantity.scale());
    add_to(w.taker_buy_quote_volume, p.notional_m, p.notional_scale);
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
  k.volume = w.volume.value();
  k.quote_volume = w.quote_volume.value();
  k.trade_count = w.count;
  k.taker_buy_volume = w.taker_buy_volume.value();
  k.taker_buy_quote_volume = w.taker_buy_quote_volume.value();
  // vwap to 18 fraction digits, fewer only if the quotient would not fit 128 bits.
  k.vwap = w.close; // an empty (filled) window: no volume to weigh
  for (int digits = 18; digits >= 0 && !k.volume.is_zero(); --digits) {
    if (auto v = k.quote_volume.checked_div(k.volume, digits)) {
      k.vwap = *v;
      break;
    }
  }
  k.first_trade_id = w.first_id.str();
  k.last_trade_id = w.last_id.str();
  k.is_final = final;
  k.revision = w.revision;
  return k;
}

void symbol_windows::finalize(lane& l, std::int64_t until_ms, std::vector<mi::kline>& finals) {
  if (l.finals_dirty) {
    for (auto& [open_ms, w] : l.finals) {
      if (w.dirty) {
        finals.push_back(to_kline(l, w, true));
        w.dirty = false;
      }
    }
    l.finals_dirty = false;
  }
  bool closed = false;
  while (!l.open.empty()) {
    auto it = l.open.begin();
    if (until_ms != none && it->second.next_open_ms + opts_->grace_ms > until_ms)
      break;
    fill_until(l, it->first, finals);
    finals.push_back(to_kline(l, it->second, true));
    l.last_close = it->second.close;
    l.has_last_close = true;
    l.last_final_open_ms = std::max(l.last_final_open_ms, it->first);
    if (l.hot == &it->second)
      l.hot = nullptr;
    if (opts_->revise_late && opts_->keep_finals > 0) {
      it->second.dirty = false;
      l.finals.insert_or_assign(it->first, std::move(it->second));
      while (l.finals.size() > opts_->keep_finals)
        l.finals.erase(l.finals.begin());
    }
    l.open.erase(it);
    closed = true;
  }
  // A quiet symbol: with fill, windows without trades close by the clock too.
  if (opts_->fill_empty && until_ms != none && l.open.empty() && l.has_last_close) {
    std::int64_t open = l.iv.next_open(l.last_final_open_ms);
    while (l.iv.next_open(open) + opts_->grace_ms <= until_ms)
      open = l.iv.next_open(open);
    fill_until(l, open, finals);
  }
  if (closed) {
    l.open_min_seq = std::numeric_limits<std::uint64_t>::max();
    for (const auto& [open_ms, w] : l.open)
      l.open_min_seq = std::min(l.open_min_seq, w.first_seq);
  }
  // Every trade up to last_seq_ is now either in an open window or in a published final.
  std::uint64_t resume = last_seq_ + 1;
  if (!l.open.empty())
    resume = std::min(resume, l.open_min_seq);
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
