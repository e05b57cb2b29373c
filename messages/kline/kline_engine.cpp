#include "messages/kline/kline_engine.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

namespace mi::kline_engine {
namespace {

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

std::string ms_text(std::int64_t v) { return v == none ? std::string("-") : std::to_string(v); }

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

namespace {

// Trade ids in checkpoint text: anything but [A-Za-z0-9_.:-] as %XX.
void put_id(std::string& out, std::string_view id) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
}

bool get_id(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= in.size())
      return false;
    auto [p, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
    if (ec != std::errc{} || p != in.data() + i + 3)
      return false;
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return true;
}

template <class Int>
bool parse_int(std::string_view s, Int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc{} && p == s.data() + s.size();
}

// Splits `s` at `sep` into `parts` (cleared first).
void split(std::string_view s, char sep, std::vector<std::string_view>& parts) {
  parts.clear();
  for (;;) {
    auto at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos)
      return;
    s.remove_prefix(at + 1);
  }
}

constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void put_final(std::string& out, const checkpoint::kept_final& f) {
  out += std::to_string(f.open_ms) + ',' + std::to_string(f.revision) + ',' + std::to_string(f.count) + ',' +
         std::to_string(f.last_seq) + ',' + std::to_string(f.first_ts) + ',';
  put_id(out, f.first_id);
  out += ',' + std::to_string(f.last_ts) + ',';
  put_id(out, f.last_id);
  for (const decimal* d :
       {&f.open, &f.high, &f.low, &f.close, &f.volume, &f.quote_volume, &f.taker_buy_volume, &f.taker_buy_quote_volume})
    out += ',' + d->to_string();
}

bool get_final(std::string_view text, checkpoint::kept_final& f) {
  std::vector<std::string_view> v;
  split(text, ',', v);
  if (v.size() != 16)
    return false;
  if (!parse_int(v[0], f.open_ms) || !parse_int(v[1], f.revision) || !parse_int(v[2], f.count) ||
      !parse_int(v[3], f.last_seq) || !parse_int(v[4], f.first_ts) || !get_id(v[5], f.first_id) ||
      !parse_int(v[6], f.last_ts) || !get_id(v[7], f.last_id))
    return false;
  decimal* ds[] = {
    &f.open, &f.high, &f.low, &f.close, &f.volume, &f.quote_volume, &f.taker_buy_volume, &f.taker_buy_quote_volume};
  for (std::size_t i = 0; i < 8; ++i) {
    auto d = decimal::parse(v[8 + i]);
    if (!d)
      return false;
    *ds[i] = *d;
  }
  return true;
}

void put_recent(std::string& out, const checkpoint::recent_ids& r) {
  const auto& v = r.values;
  if (r.hashed) {
    out += "h:";
    for (std::uint64_t h : v)
      for (int shift = 60; shift >= 0; shift -= 6) // 11 characters, the first carries 4 bits
        out.push_back(b64[(h >> shift) & 63]);
    return;
  }
  out += "s:";
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1)
      ++j;
    if (i > 0)
      out.push_back(',');
    out += std::to_string(v[i]);
    if (j > i)
      out += '-' + std::to_string(v[j]);
    i = j + 1;
  }
}

bool get_recent(std::string_view text, checkpoint::recent_ids& r) {
  r.values.clear();
  if (text.rfind("h:", 0) == 0) {
    r.hashed = true;
    text.remove_prefix(2);
    if (text.size() % 11 != 0)
      return false;
    for (std::size_t i = 0; i < text.size(); i += 11) {
      std::uint64_t h = 0;
      for (std::size_t k = 0; k < 11; ++k) {
        const char* at = std::strchr(b64, text[i + k]);
        if (at == nullptr || *at == 0 || (k == 0 && at - b64 > 15))
          return false;
        h = (h << 6) | static_cast<std::uint64_t>(at - b64);
      }
      r.values.push_back(h);
    }
    return true;
  }
  if (text.rfind("s:", 0) != 0)
    return false;
  r.hashed = false;
  text.remove_prefix(2);
  if (text.empty())
    return true;
  std::vector<std::string_view> runs;
  split(text, ',', runs);
  for (auto run : runs) {
    auto dash = run.find('-');
    std::uint64_t a = 0, b = 0;
    if (!parse_int(run.substr(0, dash), a))
      return false;
    b = a;
    if (dash != std::string_view::npos && (!parse_int(run.substr(dash + 1), b) || b < a || b - a > 1'000'000))
      return false;
    for (std::uint64_t x = a;; ++x) {
      r.values.push_back(x);
      if (x == b)
        break;
    }
    if (r.values.size() > 1'000'000)
      return false;
  }
  return true;
}

} // namespace

std::string checkpoint::encode() const {
  std::string out = "w=" + ms_text(watermark_ms);
  for (const auto& i : intervals)
    out += ";" + i.interval + "=" + std::to_string(i.resume_seq) + "," + ms_text(i.last_final_open_ms) +
           (i.last_close.empty() ? "" : "," + i.last_close);
  for (const auto& i : intervals) {
    if (i.finals.empty())
      continue;
    out += ";f:" + i.interval + "=";
    for (std::size_t k = 0; k < i.finals.size(); ++k) {
      if (k > 0)
        out.push_back('|');
      put_final(out, i.finals[k]);
    }
  }
  if (!recent.values.empty()) {
    out += ";r=";
    put_recent(out, recent);
  }
  if (!rejected_seqs.empty()) {
    out += ";x=";
    for (std::size_t i = 0; i < rejected_seqs.size(); ++i)
      out += (i > 0 ? "," : "") + std::to_string(rejected_seqs[i]);
  }
  return out;
}

mi::result<checkpoint> checkpoint::decode(std::string_view text) {
  checkpoint c;
  bool first = true;
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    auto end = text.find(';');
    auto part = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos)
      return mi::error{"checkpoint: expected key=value, got \"" + std::string(part.substr(0, 80)) + "\""};
    auto k = part.substr(0, eq);
    auto v = part.substr(eq + 1);
    if (first) {
      if (k != "w" || !parse_i64(v, c.watermark_ms))
        return mi::error{"checkpoint: must start with w=<ms>"};
      first = false;
      continue;
    }
    if (k == "r") {
      if (!get_recent(v, c.recent))
        return mi::error{"checkpoint: bad recent trade ids"};
      continue;
    }
    if (k == "x") {
      split(v, ',', parts);
      for (auto x : parts) {
        std::uint64_t seq = 0;
        if (!parse_int(x, seq) || c.rejected_seqs.size() >= 4096)
          return mi::error{"checkpoint: bad rejected sequences"};
        c.rejected_seqs.push_back(seq);
      }
      continue;
    }
    if (k.rfind("f:", 0) == 0) {
      auto name = k.substr(2);
      auto it = std::find_if(c.intervals.begin(), c.intervals.end(), [&](const auto& i) { return i.interval == name; });
      if (it == c.intervals.end())
        return mi::error{"checkpoint: finals of an unknown interval \"" + std::string(name) + "\""};
      split(v, '|', parts);
      for (auto f : parts) {
        kept_final kf;
        if (!get_final(f, kf))
          return mi::error{"checkpoint: bad final of " + std::string(name) + ": \"" + std::string(f.substr(0, 80)) +
                           "\""};
        it->finals.push_back(std::move(kf));
      }
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

symbol_windows::id_key symbol_windows::id_key::of(std::string_view id, std::optional<std::int64_t> number) {
  id_key k;
  // A canonical decimal id ("0" or no leading zero, so that str() gives the text back) is kept as its
  // number, which compares like compare_trade_ids.
  if (number && *number >= 0 && (id[0] != '0' || id.size() == 1)) {
    k.num = static_cast<std::uint64_t>(*number);
    k.numeric = true;
    return k;
  }
  k.text = std::string(id);
  return k;
}

symbol_windows::id_key symbol_windows::id_key::of(const mi::trade& t) { return of(t.trade_id, t.id_number); }

symbol_windows::id_key symbol_windows::id_key::of(std::string_view id) { return of(id, mi::trade_id_number(id)); }

std::string symbol_windows::id_key::str() const { return numeric ? std::to_string(num) : text; }

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
// overflow 128 bits, fall back to normalized decimals, which fail (false, `s` unchanged) only
// where the exact normalized sum itself does not fit.
template <class Sum>
[[gnu::noinline]] bool add_to_slow(Sum& s, i128 m, int scale) {
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
    return true;
  }
  auto x = decimal::from_parts(s.m, s.scale);
  auto y = decimal::from_parts(m, scale);
  if (!x || !y)
    return false;
  auto d = x->checked_add(*y);
  if (!d)
    return false;
  s.m = d->mantissa();
  s.scale = d->scale();
  return true;
}

// Adds m * 10^-scale to the sum exactly. The sum keeps the largest scale seen so far. False
// (and `s` unchanged) when the exact sum does not fit 128 bits.
template <class Sum>
[[gnu::always_inline]] inline bool add_to(Sum& s, i128 m, int scale) {
  i128 r;
  if (scale == s.scale) {
    if (!__builtin_add_overflow(s.m, m, &r)) {
      s.m = r;
      return true;
    }
  } else if (scale < s.scale && s.scale - scale <= 18 && m >= INT64_MIN && m <= INT64_MAX) {
    // |m| < 2^63 and 10^18 < 2^60: the aligned addend fits 128 bits without a check.
    if (!__builtin_add_overflow(s.m, m * pow10[s.scale - scale], &r)) {
      s.m = r;
      return true;
    }
  }
  return add_to_slow(s, m, scale);
}

} // namespace

decimal symbol_windows::sum::value() const {
  return *decimal::from_parts(m, scale); // scale >= 0: never fails
}

std::uint64_t symbol_windows::recent_ids::hash_of(const id_key& id, std::string_view text) {
  // 0 marks an empty slot; a real hash of 0 is moved to 1 (a false "duplicate" would need a
  // 64-bit collision between two ids of one symbol within the ring).
  // Stored in checkpoints: the hash must not depend on the standard library (FNV-1a, then mixed).
  std::uint64_t h = 0;
  if (id.numeric) {
    h = mix(id.num);
  } else {
    std::uint64_t f = 0xcbf29ce484222325ULL;
    for (unsigned char c : text)
      f = (f ^ c) * 0x100000001b3ULL;
    h = mix(f);
  }
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

bool symbol_windows::recent_ids::seen_or_insert(const id_key& id, std::string_view text, std::uint64_t seq) {
  if (sorted_) {
    if (id.numeric) {
      if (ring_.empty() || id.num > newest()) {
        if (ring_.size() < capacity_) {
          ring_.push_back(id.num);
          seqs_.push_back(seq);
        } else {
          ring_[next_] = id.num;
          seqs_[next_] = seq;
          next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
        }
        return false;
      }
      if (contains_sorted(id.num))
        return true;
    }
    to_hashed();
  }
  return seen_or_insert_hash(hash_of(id, text), seq);
}

checkpoint::recent_ids symbol_windows::recent_ids::export_before(std::uint64_t seq) const {
  checkpoint::recent_ids out;
  out.hashed = !sorted_;
  for (std::size_t i = 0; i < ring_.size(); ++i) {
    const std::size_t at = (next_ + i) % ring_.size();
    if (seqs_[at] >= seq)
      break; // sequences increase in insertion order
    out.values.push_back(ring_[at]);
  }
  return out;
}

void symbol_windows::recent_ids::restore(const checkpoint::recent_ids& r) {
  ring_.clear();
  seqs_.clear();
  table_.clear();
  next_ = 0;
  sorted_ = true;
  if (capacity_ == 0)
    return;
  const std::size_t skip = r.values.size() > capacity_ ? r.values.size() - capacity_ : 0;
  ring_.assign(r.values.begin() + static_cast<std::ptrdiff_t>(skip), r.values.end());
  seqs_.assign(ring_.size(), 0);
  if (r.hashed) {
    for (auto& v : ring_)
      v = v == 0 ? 1 : v;
    sorted_ = false;
    std::size_t size = 16;
    while (size < 2 * ring_.size() + 2)
      size *= 2;
    table_.assign(size / 2, 0);
    grow();
    return;
  }
  // Sorted mode needs strictly increasing numbers; anything else is kept as hashes.
  for (std::size_t i = 1; i < ring_.size(); ++i)
    if (ring_[i] <= ring_[i - 1]) {
      to_hashed();
      return;
    }
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

bool symbol_windows::recent_ids::seen_or_insert_hash(std::uint64_t h, std::uint64_t seq) {
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = slot_of(h); table_[i] != 0; i = (i + 1) & mask)
    if (table_[i] == h)
      return true;
  if (ring_.size() < capacity_) {
    ring_.push_back(h);
    seqs_.push_back(seq);
    if (ring_.size() * 2 > table_.size()) {
      grow(); // inserts h with the others
      return false;
    }
  } else {
    // Forget the oldest first; it may sit on the probe path of `h`, so probe again after.
    erase(ring_[next_]);
    ring_[next_] = h;
    seqs_[next_] = seq;
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
                               const checkpoint* restored, const mi::calendar::calendar* sessions)
    : exchange_(std::move(exchange)), symbol_(std::move(symbol)), opts_(&opts), recent_(opts.dedup_ids) {
  if (sessions != nullptr && !sessions->always_open())
    sessions_.emplace(*sessions);
  lanes_.reserve(opts.intervals.size());
  plans_.resize(opts.intervals.size());
  for (const auto& iv : opts.intervals) {
    lane l;
    l.iv = iv;
    if (restored != nullptr) {
      for (const auto& pi : restored->intervals) {
        if (pi.interval != iv.name)
          continue;
        l.resume_seq = pi.resume_seq;
        l.last_final_open_ms = pi.last_final_open_ms;
        if (auto c = decimal::parse(pi.last_close); c && !pi.last_close.empty()) {
          l.last_close = *c;
          l.has_last_close = true;
        }
        if (!opts.revise_late || opts.keep_finals == 0)
          continue;
        for (const auto& f : pi.finals) {
          window w;
          w.open_ms = f.open_ms;
          w.next_open_ms = sessions_ ? sessions_->window_of(iv, f.open_ms).end_ms : iv.next_open(f.open_ms);
          w.first_ts = f.first_ts;
          w.first_id = id_key::of(f.first_id);
          w.open = f.open;
          w.last_ts = f.last_ts;
          w.last_id = id_key::of(f.last_id);
          w.close = f.close;
          w.high = f.high;
          w.low = f.low;
          w.totals.volume = {f.volume.mantissa(), f.volume.scale()};
          w.totals.quote_volume = {f.quote_volume.mantissa(), f.quote_volume.scale()};
          w.totals.taker_buy_volume = {f.taker_buy_volume.mantissa(), f.taker_buy_volume.scale()};
          w.totals.taker_buy_quote_volume = {f.taker_buy_quote_volume.mantissa(), f.taker_buy_quote_volume.scale()};
          w.count = f.count;
          w.last_seq = f.last_seq;
          w.revision = f.revision;
          l.finals.insert_or_assign(f.open_ms, std::move(w));
        }
        while (l.finals.size() > opts.keep_finals)
          l.finals.erase(l.finals.begin());
      }
    }
    lanes_.push_back(std::move(l));
  }
  if (restored != nullptr) {
    watermark_ms_ = restored->watermark_ms;
    recent_.restore(restored->recent);
    rejected_seqs_ = restored->rejected_seqs;
    std::sort(rejected_seqs_.begin(), rejected_seqs_.end());
  }
}

void symbol_windows::note_rejected(std::uint64_t seq) {
  if (rejected_seqs_.empty() || rejected_seqs_.back() < seq)
    rejected_seqs_.push_back(seq);
  if (rejected_seqs_.size() > 2048) // only those a replay may meet matter: keep the newest
    rejected_seqs_.erase(rejected_seqs_.begin(), rejected_seqs_.begin() + 1024);
}

void symbol_windows::clamp_watermark(std::int64_t max_ms) {
  if (watermark_ms_ != none && watermark_ms_ > max_ms)
    watermark_ms_ = none;
}

[[gnu::always_inline]] inline bool symbol_windows::add_sums_in_place(sums& s, const prepared& p) {
  const mi::trade& t = p.t;
  if (!add_to(s.volume, t.quantity.mantissa(), t.quantity.scale()) ||
      !add_to(s.quote_volume, p.notional_m, p.notional_scale))
    return false;
  if (t.taker_side == side::buy)
    return add_to(s.taker_buy_volume, t.quantity.mantissa(), t.quantity.scale()) &&
           add_to(s.taker_buy_quote_volume, p.notional_m, p.notional_scale);
  return true;
}

inline bool symbol_windows::add_sums(const window& w, const prepared& p, sums& out) {
  out = w.totals;
  return add_sums_in_place(out, p);
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
  w.last_seq = p.seq;
  ++w.count;
  w.dirty = true;
}

add_result symbol_windows::add(const mi::trade& t, std::uint64_t seq) {
  add_result r;
  bool covered = true;
  for (const auto& l : lanes_)
    covered = covered && seq < l.resume_seq;
  if (covered) { // already in published finals: a restart's replay
    r.replayed = static_cast<int>(lanes_.size());
    return r;
  }
  const std::int64_t ts_ms = t.ts_ns / 1'000'000 - (t.ts_ns % 1'000'000 < 0 ? 1 : 0);
  // Exchange time far ahead of receive time: it would move the watermark into the future and
  // make every later trade late. 128-bit difference: both times are untrusted.
  if (opts_->max_clock_skew_ms > 0 && t.recv_ns != 0 &&
      static_cast<i128>(t.ts_ns) - t.recv_ns > static_cast<i128>(opts_->max_clock_skew_ms) * 1'000'000) {
    r.rejected = mi::reject_reason::clock_skew;
    return r;
  }
  prepared p{t, id_key::of(t), seq}; // the number read once where the trade was decoded
  // price * quantity once, for every interval; normalized decimals, so an overflow here is
  // exactly where the normalized product overflows.
  p.notional_scale = t.price.scale() + t.quantity.scale();
  // A sum must also be printable as a decimal the contract can read back (at most 38 fraction
  // digits): the quote volume is kept at the notional's scale.
  if (__builtin_mul_overflow(t.price.mantissa(), t.quantity.mantissa(), &p.notional_m) ||
      p.notional_scale > max_pow10) {
    r.rejected = mi::reject_reason::unrepresentable;
    return r;
  }
  // A market with sessions: outside them the trade is skipped whole; auction prints count inside (eff_ms).
  std::int64_t eff_ms = ts_ms;
  if (sessions_) {
    if (auto o = sessions_->place(ts_ms, eff_ms); o != outside::none) {
      r.outside_session = o;
      return r;
    }
  }
  if (recent_.enabled() && recent_.seen_or_insert(p.id, t.trade_id, seq)) {
    r.duplicate = true;
    return r;
  }
  // Rejected before a restart because a sum would have overflowed: the same again (the windows
  // restored from the checkpoint may already hold later trades, so the sums cannot tell).
  if (!rejected_seqs_.empty() && seq <= rejected_seqs_.back() &&
      std::binary_search(rejected_seqs_.begin(), rejected_seqs_.end(), seq)) {
    r.rejected = mi::reject_reason::unrepresentable;
    return r;
  }
  // The usual trade: every lane's hot window takes it. Sums first (the only step that can
  // fail), with the previous sums kept to undo them all if one overflows or a lane turns out
  // not to be hot after all (then the general path below decides).
  {
    const bool buy = t.taker_side == side::buy;
    std::size_t i = 0;
    bool overflow = false;
    for (; i < lanes_.size(); ++i) {
      lane& l = lanes_[i];
      window* hot = l.hot;
      if (seq < l.resume_seq || hot == nullptr || eff_ms < hot->open_ms || eff_ms >= hot->next_open_ms)
        break;
      sums& s = hot->totals;
      sums& saved = plans_[i].totals;
      saved.volume = s.volume;
      saved.quote_volume = s.quote_volume;
      if (buy) {
        saved.taker_buy_volume = s.taker_buy_volume;
        saved.taker_buy_quote_volume = s.taker_buy_quote_volume;
      }
      if (!add_sums_in_place(s, p)) {
        overflow = true;
        ++i; // this lane's sums are partly changed too
        break;
      }
    }
    if (i == lanes_.size() && !overflow) {
      for (auto& l : lanes_)
        apply(*l.hot, p);
      r.accepted = static_cast<int>(lanes_.size());
      if (ts_ms > watermark_ms_)
        watermark_ms_ = ts_ms;
      last_seq_ = seq;
      return r;
    }
    for (std::size_t j = 0; j < i; ++j) { // undo
      sums& s = lanes_[j].hot->totals;
      const sums& saved = plans_[j].totals;
      s.volume = saved.volume;
      s.quote_volume = saved.quote_volume;
      if (buy) {
        s.taker_buy_volume = saved.taker_buy_volume;
        s.taker_buy_quote_volume = saved.taker_buy_quote_volume;
      }
    }
    if (overflow) {
      note_rejected(seq);
      r.rejected = mi::reject_reason::unrepresentable;
      return r;
    }
  }
  // Decide every lane before changing any: a sum that would overflow rejects the whole trade.
  using kind = plan::kind;
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    lane& l = lanes_[i];
    plan& pl = plans_[i];
    pl.what = kind::skip;
    if (seq < l.resume_seq) {
      ++r.replayed;
      continue;
    }
    // Most trades fall in the window the previous one went to: no lookup, no boundary math.
    if (window* hot = l.hot; hot != nullptr && eff_ms >= hot->open_ms && eff_ms < hot->next_open_ms) {
      pl.what = kind::hot;
      pl.w = hot;
    } else {
      std::int64_t end_ms = 0;
      if (sessions_) {
        const auto span = sessions_->window_of(l.iv, eff_ms);
        pl.open_ms = span.open_ms;
        end_ms = span.end_ms;
      } else {
        pl.open_ms = l.iv.open_of(ts_ms);
      }
      auto it = l.open.find(pl.open_ms);
      if (it != l.open.end()) {
        pl.what = kind::open;
        pl.w = &it->second;
      } else {
        pl.next_ms = sessions_ ? end_ms : l.iv.next_open(pl.open_ms);
        if (pl.open_ms <= l.last_final_open_ms ||
            (watermark_ms_ != none && pl.next_ms + opts_->grace_ms <= watermark_ms_)) {
          auto f = l.finals.find(pl.open_ms);
          if (!opts_->revise_late || f == l.finals.end()) {
            ++r.late;
            continue;
          }
          if (seq <= f->second.last_seq) { // a restored final already holds it
            ++r.replayed;
            continue;
          }
          pl.what = kind::revise;
          pl.w = &f->second;
        } else {
          pl.what = kind::create;
          pl.w = nullptr;
        }
      }
    }
    static const window empty;
    if (!add_sums(pl.w != nullptr ? *pl.w : empty, p, pl.totals)) {
      note_rejected(seq);
      r = add_result{};
      r.rejected = mi::reject_reason::unrepresentable;
      return r;
    }
  }
  bool fresh = false; // not covered by a restored checkpoint in at least one lane
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    lane& l = lanes_[i];
    plan& pl = plans_[i];
    switch (pl.what) {
    case kind::skip:
      if (seq >= l.resume_seq)
        fresh = true; // late or already in a restored final: still seen
      continue;
    case kind::revise:
      pl.w->totals = pl.totals;
      apply(*pl.w, p);
      ++pl.w->revision;
      l.finals_dirty = true; // a corrected final is due (the window is dirty)
      ++r.revised;
      break;
    case kind::create: {
      window w;
      w.open_ms = pl.open_ms;
      w.next_open_ms = pl.next_ms;
      w.first_ts = w.last_ts = t.ts_ns;
      w.first_id = p.id;
      w.last_id = p.id;
      w.open = w.close = w.high = w.low = t.price;
      w.first_seq = seq;
      l.open_min_seq = l.open.empty() ? seq : std::min(l.open_min_seq, seq);
      auto it = l.open.emplace(pl.open_ms, std::move(w)).first;
      pl.w = &it->second;
      [[fallthrough]];
    }
    case kind::open:
      l.hot = pl.w;
      [[fallthrough]];
    case kind::hot:
      pl.w->totals = pl.totals;
      apply(*pl.w, p);
      ++r.accepted;
      break;
    }
    fresh = true;
  }
  if (fresh) {
    if (ts_ms > watermark_ms_)
      watermark_ms_ = ts_ms;
    last_seq_ = seq;
  }
  return r;
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
  k.volume = w.totals.volume.value();
  k.quote_volume = w.totals.quote_volume.value();
  k.trade_count = w.count;
  k.taker_buy_volume = w.totals.taker_buy_volume.value();
  k.taker_buy_quote_volume = w.totals.taker_buy_quote_volume.value();
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
    if (!sessions_) {
      std::int64_t open = l.iv.next_open(l.last_final_open_ms);
      while (l.iv.next_open(open) + opts_->grace_ms <= until_ms)
        open = l.iv.next_open(open);
      fill_until(l, open, finals);
    } else {
      // Session windows only: the first window not yet closable (or the calendar's end) bounds the fill.
      auto s = span_after(l, l.last_final_open_ms);
      while (s && s->end_ms + opts_->grace_ms <= until_ms)
        s = span_after(l, s->open_ms);
      fill_until(l, s ? s->open_ms : std::numeric_limits<std::int64_t>::max(), finals);
    }
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
  if (sessions_) {
    for (auto s = span_after(l, l.last_final_open_ms); s && s->open_ms < until_open; s = span_after(l, s->open_ms)) {
      window w;
      w.open_ms = s->open_ms;
      w.next_open_ms = s->end_ms;
      w.open = w.high = w.low = w.close = l.last_close;
      finals.push_back(to_kline(l, w, true));
      l.last_final_open_ms = s->open_ms;
    }
    return;
  }
  for (std::int64_t open = l.iv.next_open(l.last_final_open_ms); open < until_open; open = l.iv.next_open(open)) {
    window w;
    w.open_ms = open;
    w.next_open_ms = l.iv.next_open(open);
    w.open = w.high = w.low = w.close = l.last_close;
    finals.push_back(to_kline(l, w, true));
    l.last_final_open_ms = open;
  }
}

std::optional<window_span> symbol_windows::span_after(const lane& l, std::int64_t open_ms) const {
  if (sessions_)
    return sessions_->next_window(l.iv, open_ms);
  const std::int64_t next = l.iv.next_open(open_ms);
  return window_span{next, l.iv.next_open(next)};
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
    if (opts_->partial_every_ms > 0 && l.last_partial_ms != none &&
        now_ms - l.last_partial_ms < opts_->partial_every_ms)
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
    checkpoint::per_interval pi{
      l.iv.name, resume, l.last_final_open_ms, l.has_last_close ? l.last_close.to_string() : "", {}};
    pi.finals.reserve(l.finals.size());
    for (const auto& [open_ms, w] : l.finals)
      pi.finals.push_back({w.open_ms, w.revision, w.count, w.last_seq, w.first_ts, w.first_id.str(), w.last_ts,
                           w.last_id.str(), w.open, w.high, w.low, w.close, w.totals.volume.value(),
                           w.totals.quote_volume.value(), w.totals.taker_buy_volume.value(),
                           w.totals.taker_buy_quote_volume.value()});
    c.intervals.push_back(std::move(pi));
  }
  // The ids of trades a replay from min_resume_seq() does not add again.
  c.recent = recent_.export_before(c.min_resume_seq());
  const auto from = std::lower_bound(rejected_seqs_.begin(), rejected_seqs_.end(), c.min_resume_seq());
  c.rejected_seqs.assign(rejected_seqs_.end() - std::min<std::ptrdiff_t>(rejected_seqs_.end() - from, 1024),
                         rejected_seqs_.end());
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

bool symbol_windows::set_sessions(const mi::calendar::calendar* sessions) {
  constexpr std::int64_t day_ms = 86'400'000;
  for (const auto& l : lanes_)
    if (l.iv.kind == interval::unit::fixed && l.iv.length_ms <= day_ms && !l.open.empty())
      return false;
  if (sessions != nullptr && !sessions->always_open())
    sessions_.emplace(*sessions);
  else
    sessions_.reset();
  return true;
}

std::size_t symbol_windows::open_windows() const {
  std::size_t n = 0;
  for (const auto& l : lanes_)
    n += l.open.size();
  return n;
}

// -- amendments ---------------------------------------------------------------------------

std::optional<std::int64_t> symbol_windows::window_open_of(const lane& l, std::int64_t ts_ns) const {
  const std::int64_t ts_ms = ts_ns / 1'000'000 - (ts_ns % 1'000'000 < 0 ? 1 : 0);
  if (!sessions_)
    return l.iv.open_of(ts_ms);
  std::int64_t eff_ms = ts_ms;
  if (sessions_->place(ts_ms, eff_ms) != outside::none)
    return std::nullopt;
  return sessions_->window_of(l.iv, eff_ms).open_ms;
}

const symbol_windows::window* symbol_windows::find_window(std::size_t i, std::int64_t open_ms) const {
  const lane& l = lanes_[i];
  if (auto it = l.open.find(open_ms); it != l.open.end())
    return &it->second;
  if (auto it = l.finals.find(open_ms); it != l.finals.end())
    return &it->second;
  return nullptr;
}

std::optional<std::int64_t> symbol_windows::earliest_window_open(std::int64_t ts_ns) const {
  std::optional<std::int64_t> out;
  for (const auto& l : lanes_)
    if (auto o = window_open_of(l, ts_ns))
      out = out ? std::min(*out, *o) : *o;
  return out;
}

bool symbol_windows::supersede(std::string_view interval, std::int64_t open_ms, std::uint32_t published) {
  for (auto& l : lanes_) {
    if (l.iv.name != interval)
      continue;
    auto f = l.finals.find(open_ms);
    if (f == l.finals.end())
      return false;
    f->second.revision = std::max(f->second.revision, published + 1);
    f->second.dirty = true;
    l.finals_dirty = true;
    return true;
  }
  return false;
}

amend_result symbol_windows::amend(const symbol_windows& rebuilt, std::int64_t amended_ts_ns, std::uint64_t seq) {
  amend_result r;
  for (std::size_t i = 0; i < lanes_.size() && i < rebuilt.lanes_.size(); ++i) {
    lane& l = lanes_[i];
    if (seq < l.resume_seq) { // already in published finals: a restart's replay
      ++r.replayed;
      continue;
    }
    const auto open_ms = window_open_of(l, amended_ts_ns);
    if (!open_ms)
      continue; // outside the sessions: the trade never counted here
    window* w = nullptr;
    bool final = false;
    if (auto it = l.open.find(*open_ms); it != l.open.end()) {
      w = &it->second;
    } else if (auto f = l.finals.find(*open_ms); f != l.finals.end()) {
      w = &f->second;
      final = true;
    }
    if (w == nullptr) {
      ++r.too_late;
      continue;
    }
    if (seq <= w->last_seq) { // a restored final already holds it
      ++r.replayed;
      continue;
    }
    if (const window* src = rebuilt.find_window(i, *open_ms); src != nullptr && src->count > 0) {
      w->first_ts = src->first_ts;
      w->first_id = src->first_id;
      w->open = src->open;
      w->last_ts = src->last_ts;
      w->last_id = src->last_id;
      w->close = src->close;
      w->high = src->high;
      w->low = src->low;
      w->totals = src->totals;
      w->count = src->count;
    } else { // nothing left in it: its prices stay, nothing traded
      w->totals = sums{};
      w->count = 0;
    }
    w->last_seq = seq;
    w->dirty = true;
    if (final) {
      ++w->revision;
      l.finals_dirty = true;
      ++r.revised;
    } else {
      ++r.replaced;
    }
  }
  last_seq_ = std::max(last_seq_, seq); // read: a restart resumes after it unless a window still needs it
  return r;
}

amendment_rebuild rebuild_for_amendment(const std::string& exchange, const std::string& symbol, const options& opts,
                                        const mi::calendar::calendar* sessions,
                                        const std::vector<std::pair<mi::trade, std::uint64_t>>& history,
                                        const mi::trade& amendment) {
  amendment_rebuild out;
  // An id (original or corrected) -> the trade's position in `history`.
  std::vector<mi::trade> corrected(history.size());
  std::vector<bool> removed(history.size(), false), is_corrected(history.size(), false);
  std::map<std::string, std::size_t, std::less<>> by_id;
  auto apply = [&](const mi::trade& a) -> std::optional<std::int64_t> {
    auto it = by_id.find(a.amends);
    if (it == by_id.end() || removed[it->second])
      return std::nullopt;
    const std::size_t at = it->second;
    const std::int64_t ts = history[at].first.ts_ns;
    if (a.canceled) {
      removed[at] = true;
      return ts;
    }
    if (!is_corrected[at]) {
      corrected[at] = history[at].first;
      is_corrected[at] = true;
    }
    corrected[at].price = a.price;
    corrected[at].quantity = a.quantity;
    corrected[at].conditions = a.conditions;
    by_id.emplace(a.trade_id, at); // a later correction may name the corrected id
    return ts;
  };
  for (std::size_t i = 0; i < history.size(); ++i) {
    const auto& t = history[i].first;
    if (t.is_amendment())
      apply(t);
    else
      by_id.emplace(t.trade_id, i);
  }
  out.amended_ts_ns = apply(amendment);
  out.opts = std::make_unique<options>(opts);
  out.opts->revise_late = true;
  out.opts->keep_finals = std::numeric_limits<std::size_t>::max();
  out.opts->fill_empty = false;
  out.windows = std::make_unique<symbol_windows>(exchange, symbol, *out.opts, nullptr, sessions);
  for (std::size_t i = 0; i < history.size(); ++i) {
    const auto& t = history[i].first;
    if (t.is_amendment() || removed[i])
      continue;
    out.windows->add(is_corrected[i] ? corrected[i] : t, history[i].second);
    std::vector<mi::kline> ignored; // the windows move to the kept finals as time passes; none is dropped
    out.windows->close_by_event_time(ignored);
  }
  return out;
}

// -- batch_aggregator ---------------------------------------------------------------------

add_result batch_aggregator::add(const mi::trade& t, std::vector<mi::kline>& finals) {
  if (t.is_amendment()) // not a trade; `replay` and `aggregate` do not apply amendments (docs/architecture.md)
    return {};
  auto key = std::make_pair(t.exchange, t.symbol);
  auto it = symbols_.find(key);
  if (it == symbols_.end())
    it = symbols_
           .emplace(key, symbol_windows(t.exchange, t.symbol, opts_, nullptr,
                                        sessions_of_ ? sessions_of_(t.exchange) : sessions_))
           .first;
  auto r = it->second.add(t, ++seq_);
  it->second.close_by_event_time(finals);
  return r;
}

void batch_aggregator::finish(std::vector<mi::kline>& finals) {
  for (auto& [key, sw] : symbols_)
    sw.close_all(finals);
}

} // namespace mi::kline_engine
