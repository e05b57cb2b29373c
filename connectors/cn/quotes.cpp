#include "connectors/cn/quotes.hpp"

#include <iconv.h>

#include <array>
#include <cerrno>

#include "messages/util/civil_time.hpp"
#include "messages/util/text.hpp"
#include "messages/util/time_zone.hpp"

namespace mi::cn {
namespace {

const mi::decimal hundred = *mi::decimal::from_parts(100, 0);
const mi::decimal ten_thousand = *mi::decimal::from_parts(10000, 0);

/// One `name="value"` statement of an answer.
struct statement {
  std::string_view name;
  std::string_view value;
};

/// Splits `v_x="...";\nv_y="...";` (Tencent) or `var hq_str_x="...";` (Sina) into statements; stops at the first
/// piece that is not one (reported in `rejected`).
std::vector<statement> statements(std::string_view body, std::vector<mi::error>& rejected) {
  std::vector<statement> out;
  while (true) {
    body = mi::util::trim(body, " \t\r\n;");
    if (body.empty())
      break;
    const auto eq = body.find("=\"");
    const auto close = eq == std::string_view::npos ? eq : body.find('"', eq + 2);
    if (close == std::string_view::npos) {
      rejected.push_back(
        {"not a name=\"value\" statement: '" + std::string(body.substr(0, 40)) + "'", errc::malformed_json});
      break;
    }
    auto name = mi::util::trim(body.substr(0, eq));
    if (name.starts_with("var "))
      name = mi::util::trim(name.substr(4));
    out.push_back({name, body.substr(eq + 2, close - eq - 2)});
    body.remove_prefix(close + 1);
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos)
      return out;
    s.remove_prefix(p + 1);
  }
}

/// A non-negative decimal field; the error names the field.
mi::result<mi::decimal> number(std::string_view text, const char* what) {
  auto d = mi::decimal::parse(mi::util::trim(text));
  if (!d || d->signum() < 0)
    return mi::error{std::string(what) + " '" + std::string(text) + "' is not a non-negative number", errc::bad_number};
  return *d;
}

/// nullopt for 0 (no trade yet today), the value otherwise.
std::optional<mi::decimal> traded(const mi::decimal& d) { return d.is_zero() ? std::nullopt : std::optional(d); }

mi::result<mi::decimal> times(const mi::decimal& d, const mi::decimal& factor, const char* what) {
  auto r = d.checked_mul(factor);
  if (!r)
    return mi::error{std::string(what) + " overflows", errc::bad_number};
  return *r;
}

std::optional<unsigned> digits_at(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size())
    return std::nullopt;
  auto v = mi::util::parse_digits(s.substr(pos, n));
  return v ? std::optional(static_cast<unsigned>(*v)) : std::nullopt;
}

/// Local Asia/Shanghai date and time -> UTC ns and the trading day text.
mi::result<std::int64_t> shanghai_ns(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mn, unsigned s,
                                     std::string& day_text) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mn > 59 || s > 60)
    return mi::error{"quote time out of range", errc::bad_timestamp};
  mi::util::civil_time t;
  t.date = {static_cast<std::int64_t>(y), mo, d};
  if (mi::util::civil_from_days(mi::util::days_from_civil(y, mo, d)) != t.date)
    return mi::error{"quote date is not a real date", errc::bad_timestamp};
  t.hour = h;
  t.minute = mn;
  t.second = s == 60 ? 59 : s;
  // The zone's offset is looked up in the tz database once per local (date, hour) and reused within the hour:
  // offsets change only at whole hours, and the repeated hour of a clock change resolves to its earlier instant
  // for every minute of it, as utc_of_local does. One answer holds many lines of the same hour.
  struct hour_offset {
    mi::util::civil_date date;
    unsigned hour = 99;
    std::int64_t offset_ns = 0;
  };
  thread_local hour_offset cache;
  const std::int64_t naive =
    (mi::util::days_from_civil(y, mo, d) * 86'400 + h * 3'600 + mn * 60 + t.second) * 1'000'000'000LL;
  if (!(cache.date == t.date) || cache.hour != h) {
    mi::util::civil_time top = t;
    top.minute = 0;
    top.second = 0;
    auto ns = mi::util::utc_of_local(zone, top);
    if (!ns)
      return mi::error{ns.err().message, errc::bad_timestamp};
    const std::int64_t top_naive = naive - (mn * 60 + t.second) * 1'000'000'000LL;
    cache = {t.date, h, *ns - top_naive};
  }
  day_text = mi::util::date_text(t.date);
  return naive + cache.offset_ns;
}

/// "YYYYMMDDhhmmss" (Tencent field 30).
mi::result<std::int64_t> tencent_time(std::string_view f, std::string& day) {
  if (f.size() != 14 || f.find_first_not_of("0123456789") != std::string_view::npos)
    return mi::error{"quote time '" + std::string(f) + "' is not YYYYMMDDhhmmss", errc::bad_timestamp};
  return shanghai_ns(*digits_at(f, 0, 4), *digits_at(f, 4, 2), *digits_at(f, 6, 2), *digits_at(f, 8, 2),
                     *digits_at(f, 10, 2), *digits_at(f, 12, 2), day);
}

/// "YYYY-MM-DD" + "HH:MM:SS" (Sina fields 30, 31).
mi::result<std::int64_t> sina_time(std::string_view date, std::string_view time, std::string& day) {
  const auto y = digits_at(date, 0, 4), mo = digits_at(date, 5, 2), d = digits_at(date, 8, 2);
  const auto h = digits_at(time, 0, 2), m = digits_at(time, 3, 2), s = digits_at(time, 6, 2);
  if (date.size() != 10 || date[4] != '-' || date[7] != '-' || time.size() != 8 || time[2] != ':' || time[5] != ':' ||
      !y || !mo || !d || !h || !m || !s)
    return mi::error{"quote time '" + std::string(date) + " " + std::string(time) + "' is not YYYY-MM-DD HH:MM:SS",
                     errc::bad_timestamp};
  return shanghai_ns(*y, *mo, *d, *h, *m, *s, day);
}

std::string decode_name(std::string_view raw, text_encoding enc) {
  if (enc == text_encoding::utf8)
    return std::string(raw);
  auto u = gbk_to_utf8(raw);
  return u ? *u : std::string();
}

#define MI_TRY(var, expr)                                                                                              \
  auto var##_r = (expr);                                                                                               \
  if (!var##_r)                                                                                                        \
    return var##_r.err();                                                                                              \
  auto var = std::move(*var##_r)

/// A level (price, size) where size is in `unit` shares; nullopt-like empty when the price is 0 (no level).
mi::result<std::optional<level>> make_level(std::string_view price, std::string_view size, const mi::decimal& unit,
                                            const char* what) {
  MI_TRY(p, number(price, what));
  MI_TRY(sz, number(size, what));
  if (p.is_zero())
    return std::optional<level>();
  MI_TRY(shares, times(sz, unit, what));
  return std::optional<level>(level{p, shares});
}

mi::result<snapshot> tencent_line(const symbol& sym, std::string_view value, text_encoding enc, std::int64_t recv) {
  const auto f = split(value, '~');
  if (f.size() < 38)
    return mi::error{"tencent " + source_code(sym) + ": " + std::to_string(f.size()) + " fields, at least 38 expected",
                     errc::missing_field};
  if (f[2] != sym.code)
    return mi::error{"tencent " + source_code(sym) + ": code field '" + std::string(f[2]) + "' differs",
                     errc::bad_field};
  snapshot s;
  s.sym = sym;
  s.source = quote_source::tencent;
  s.recv_ns = recv;
  s.name = decode_name(f[1], enc);
  const mi::decimal unit = volume_in_shares(sym) ? *mi::decimal::from_parts(1, 0) : hundred;
  MI_TRY(last, number(f[3], "last"));
  MI_TRY(prev, number(f[4], "previous close"));
  MI_TRY(open, number(f[5], "open"));
  MI_TRY(high, number(f[33], "high"));
  MI_TRY(low, number(f[34], "low"));
  MI_TRY(vol, number(f[6], "volume"));
  MI_TRY(shares, times(vol, unit, "volume"));
  s.last = traded(last);
  s.prev_close = traded(prev);
  s.open = traded(open);
  s.high = traded(high);
  s.low = traded(low);
  s.volume = shares;
  // Turnover: field 35's third part is CNY to the yuan; field 37 is the same in 万元 (rounded), the fallback.
  const auto pva = split(f[35], '/');
  if (pva.size() == 3 && !pva[2].empty()) {
    MI_TRY(cny, number(pva[2], "turnover"));
    s.turnover = cny;
  } else {
    MI_TRY(wan, number(f[37], "turnover"));
    MI_TRY(cny, times(wan, ten_thousand, "turnover"));
    s.turnover = cny;
  }
  for (std::size_t i = 0; i < 5; ++i) {
    MI_TRY(b, make_level(f[9 + 2 * i], f[10 + 2 * i], unit, "bid"));
    if (b)
      s.bids.push_back(*b);
    MI_TRY(a, make_level(f[19 + 2 * i], f[20 + 2 * i], unit, "ask"));
    if (a)
      s.asks.push_back(*a);
  }
  MI_TRY(ts, tencent_time(f[30], s.trading_day));
  s.ts_ns = ts;
  return s;
}

mi::result<snapshot> sina_line(const symbol& sym, std::string_view value, text_encoding enc, std::int64_t recv) {
  const auto f = split(value, ',');
  if (f.size() < 32)
    return mi::error{"sina " + source_code(sym) + ": " + std::to_string(f.size()) + " fields, at least 32 expected",
                     errc::missing_field};
  snapshot s;
  s.sym = sym;
  s.source = quote_source::sina;
  s.recv_ns = recv;
  s.name = decode_name(f[0], enc);
  const mi::decimal one = *mi::decimal::from_parts(1, 0);
  MI_TRY(open, number(f[1], "open"));
  MI_TRY(prev, number(f[2], "previous close"));
  MI_TRY(last, number(f[3], "last"));
  MI_TRY(high, number(f[4], "high"));
  MI_TRY(low, number(f[5], "low"));
  MI_TRY(vol, number(f[8], "volume"));
  MI_TRY(amount, number(f[9], "turnover"));
  s.open = traded(open);
  s.prev_close = traded(prev);
  s.last = traded(last);
  s.high = traded(high);
  s.low = traded(low);
  s.volume = vol;
  s.turnover = amount;
  for (std::size_t i = 0; i < 5; ++i) {
    MI_TRY(b, make_level(f[11 + 2 * i], f[10 + 2 * i], one, "bid"));
    if (b)
      s.bids.push_back(*b);
    MI_TRY(a, make_level(f[21 + 2 * i], f[20 + 2 * i], one, "ask"));
    if (a)
      s.asks.push_back(*a);
  }
  MI_TRY(ts, sina_time(f[30], f[31], s.trading_day));
  s.ts_ns = ts;
  return s;
}

#undef MI_TRY

template <class Line>
quote_answer parse_statements(std::string_view body, std::string_view prefix, text_encoding enc, std::int64_t recv,
                              Line line) {
  quote_answer out;
  for (const auto& st : statements(body, out.rejected)) {
    const auto code = st.name.starts_with(prefix) ? st.name.substr(prefix.size()) : std::string_view();
    const auto sym = from_source_code(code);
    if (!sym || st.value.empty()) { // not an A-share (v_r_hk00700, v_pv_none_match) or no data (="")
      out.empty.emplace_back(code.empty() ? st.name : code);
      continue;
    }
    auto s = line(*sym, st.value, enc, recv);
    if (s)
      out.quotes.push_back(std::move(*s));
    else
      out.rejected.push_back(s.err());
  }
  return out;
}

/// One conversion descriptor per direction and thread (iconv_open loads the converter: costly per call), reset to
/// its initial state before each use.
iconv_t descriptor(bool to_utf8_direction) {
  struct holder {
    iconv_t cd;
    holder(const char* t, const char* f) : cd(iconv_open(t, f)) {}
    ~holder() {
      if (cd != reinterpret_cast<iconv_t>(-1))
        iconv_close(cd);
    }
    holder(const holder&) = delete;
    holder& operator=(const holder&) = delete;
  };
  thread_local holder to_utf8("UTF-8", "GBK");
  thread_local holder to_gbk("GBK", "UTF-8");
  iconv_t cd = to_utf8_direction ? to_utf8.cd : to_gbk.cd;
  if (cd != reinterpret_cast<iconv_t>(-1))
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  return cd;
}

std::optional<std::string> convert(std::string_view in, bool to_utf8_direction) {
  iconv_t cd = descriptor(to_utf8_direction);
  if (cd == reinterpret_cast<iconv_t>(-1))
    return std::nullopt;
  std::string out(in.size() * 2 + 4, '\0');
  char* src = const_cast<char*>(in.data()); // iconv's signature; it does not write through it
  std::size_t left = in.size();
  char* dst = out.data();
  std::size_t room = out.size();
  const std::size_t r = iconv(cd, &src, &left, &dst, &room);
  if (r == static_cast<std::size_t>(-1) || left != 0)
    return std::nullopt;
  out.resize(out.size() - room);
  return out;
}

} // namespace

std::string_view to_string(quote_source s) { return s == quote_source::tencent ? "tencent" : "sina"; }

quote_answer parse_tencent(std::string_view body, text_encoding enc, std::int64_t recv_ns) {
  return parse_statements(body, "v_", enc, recv_ns, tencent_line);
}

quote_answer parse_sina(std::string_view body, text_encoding enc, std::int64_t recv_ns) {
  return parse_statements(body, "hq_str_", enc, recv_ns, sina_line);
}

quote_answer parse_quotes(quote_source s, std::string_view body, text_encoding enc, std::int64_t recv_ns) {
  return s == quote_source::tencent ? parse_tencent(body, enc, recv_ns) : parse_sina(body, enc, recv_ns);
}

// UTF-8 is at most 3 bytes per GBK character of 2 (1 for ASCII): twice the input is room enough.
std::optional<std::string> gbk_to_utf8(std::string_view gbk) { return convert(gbk, true); }
std::optional<std::string> utf8_to_gbk(std::string_view utf8) { return convert(utf8, false); }

std::string request_target(quote_source s, const std::vector<symbol>& batch) {
  std::string out = s == quote_source::tencent ? "/q=" : "/list=";
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i)
      out += ',';
    out += source_code(batch[i]);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> request_headers(quote_source s) {
  if (s == quote_source::sina)
    return {{"Referer", "https://finance.sina.com.cn/"}};
  return {};
}

} // namespace mi::cn
