#include "messages/calendar/calendar.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/json.hpp>

#include "messages/util/floor_div.hpp"
#include "messages/util/text.hpp"
#include "messages/util/time_zone.hpp"

#ifndef MI_CALENDARS_INSTALL_DIR
#define MI_CALENDARS_INSTALL_DIR "/usr/local/share/market-ingestor/calendars"
#endif
#ifndef MI_CALENDARS_SOURCE_DIR
#define MI_CALENDARS_SOURCE_DIR ""
#endif

namespace mi::calendar {
namespace {

using mi::util::civil_date;
using mi::util::floor_mod;

constexpr std::string_view weekday_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

int weekday_of(std::int64_t day) { return static_cast<int>(floor_mod(day + 4, std::int64_t{7})); } // 1970-01-01: Thu

std::int64_t day_of(const civil_date& d) { return mi::util::days_from_civil(d.year, d.month, d.day); }

// "HH:MM" -> minutes; nullopt when malformed.
std::optional<int> parse_hhmm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':')
    return std::nullopt;
  int h = 0, m = 0;
  auto r1 = std::from_chars(s.data(), s.data() + 2, h);
  auto r2 = std::from_chars(s.data() + 3, s.data() + 5, m);
  if (r1.ec != std::errc{} || r1.ptr != s.data() + 2 || r2.ec != std::errc{} || r2.ptr != s.data() + 5 || h > 24 ||
      m > 59 || (h == 24 && m != 0))
    return std::nullopt;
  return h * 60 + m;
}

// "YYYY-MM-DD" -> days since 1970-01-01; nullopt when malformed or not a real date.
std::optional<std::int64_t> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  auto r1 = std::from_chars(s.data(), s.data() + 4, y);
  auto r2 = std::from_chars(s.data() + 5, s.data() + 7, m);
  auto r3 = std::from_chars(s.data() + 8, s.data() + 10, d);
  if (r1.ec != std::errc{} || r1.ptr != s.data() + 4 || r2.ec != std::errc{} || r2.ptr != s.data() + 7 ||
      r3.ec != std::errc{} || r3.ptr != s.data() + 10 || m < 1 || m > 12 || d < 1 || d > 31)
    return std::nullopt;
  const auto day = mi::util::days_from_civil(y, m, d);
  if (mi::util::civil_from_days(day) != civil_date{y, m, d})
    return std::nullopt; // 2026-02-30
  return day;
}

std::vector<std::string_view> tokens(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t')
      ++j;
    if (j > i)
      out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// The rest of `line` after the first `n` tokens (the note of a holiday line).
std::string rest_after(std::string_view line, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t k = 0; k < n; ++k) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t')
      ++i;
  }
  return std::string(mi::util::trim(line.substr(i)));
}

std::int64_t local_to_utc(const std::string& zone, std::int64_t day, int minutes) {
  mi::util::civil_time t;
  t.date = mi::util::civil_from_days(day);
  t.hour = static_cast<unsigned>(minutes / 60);
  t.minute = static_cast<unsigned>(minutes % 60);
  if (minutes >= 24 * 60) { // 24:00: the next midnight
    t.date = mi::util::civil_from_days(day + 1);
    t.hour = 0;
    t.minute = 0;
  }
  auto r = mi::util::utc_of_local(zone, t);
  if (r)
    return *r;
  // A session bound in a skipped hour (never for the markets here): the instant an hour later.
  t.hour += 1;
  auto r2 = mi::util::utc_of_local(zone, t);
  return r2 ? *r2 : 0;
}

} // namespace

std::optional<std::int64_t> parse_date_text(std::string_view s) { return parse_date(s); }

std::string minutes_text(int minutes) {
  std::string s(5, '0');
  s[0] = static_cast<char>('0' + minutes / 600);
  s[1] = static_cast<char>('0' + (minutes / 60) % 10);
  s[2] = ':';
  s[3] = static_cast<char>('0' + (minutes % 60) / 10);
  s[4] = static_cast<char>('0' + minutes % 10);
  return s;
}

// -- calendar ---------------------------------------------------------------------------------

calendar calendar::crypto() {
  calendar c;
  c.market_ = std::string(crypto_market);
  c.zone_ = "UTC";
  c.always_open_ = true;
  c.weekdays_ = 0x7f;
  c.segments_ = {{0, 24 * 60}};
  c.first_day_ = std::numeric_limits<std::int32_t>::min();
  c.last_day_ = std::numeric_limits<std::int32_t>::max();
  return c;
}

civil_date calendar::first_date() const { return mi::util::civil_from_days(first_day_); }
civil_date calendar::last_date() const { return mi::util::civil_from_days(last_day_); }

bool calendar::covers(std::int64_t day) const {
  if (always_open_)
    return true;
  return day >= first_day_ && day <= last_day_;
}

std::int64_t calendar::local_day_of(std::int64_t ns) const {
  if (always_open_ || zone_ == "UTC")
    return mi::util::day_of_ns(ns);
  auto lt = mi::util::local_time_in(zone_, ns);
  if (!lt)
    return mi::util::day_of_ns(ns);
  return day_of(lt->local.date);
}

mi::result<std::optional<session>> calendar::session_on(const civil_date& d) const { return session_on_day(day_of(d)); }

mi::result<std::optional<session>> calendar::session_on_day(std::int64_t day) const {
  if (!covers(day))
    return mi::error{market_ + ": no calendar data for " + mi::util::date_text(mi::util::civil_from_days(day)) +
                       " (covered: " + mi::util::date_text(first_date()) + " to " + mi::util::date_text(last_date()) +
                       ")",
                     mi::errc::not_found};
  if ((weekdays_ & (1u << weekday_of(day))) == 0)
    return std::optional<session>{};
  int open = segments_.front().begin;
  int close = segments_.back().end;
  bool early = false;
  if (auto it = rules_.find(day); it != rules_.end()) {
    if (it->second.closed)
      return std::optional<session>{};
    if (it->second.open)
      open = *it->second.open;
    if (it->second.close) {
      early = *it->second.close < close;
      close = *it->second.close;
    }
  }
  session s;
  s.date = mi::util::civil_from_days(day);
  s.local = {open, close};
  s.early_close = early;
  s.open_ns = local_to_utc(zone_, day, open);
  s.close_ns = local_to_utc(zone_, day, close);
  s.break_start_ns = s.break_end_ns = s.close_ns;
  if (segments_.size() >= 2) {
    const local_span br{segments_[0].end, segments_[1].begin};
    if (br.begin > open && br.end < close) {
      s.local_break = br;
      s.break_start_ns = local_to_utc(zone_, day, br.begin);
      s.break_end_ns = local_to_utc(zone_, day, br.end);
    }
  }
  s.opening_auction_ns = s.open_ns;
  if (opening_auction_ && open == segments_.front().begin)
    s.opening_auction_ns = local_to_utc(zone_, day, opening_auction_->begin);
  s.closing_auction_ns = s.close_ns;
  s.closing_print_until_ns = s.close_ns;
  if (closing_auction_ && close == segments_.back().end) {
    s.closing_auction_ns = local_to_utc(zone_, day, closing_auction_->begin);
    s.closing_print_until_ns = s.close_ns + 60 * mi::util::ns_per_second;
  }
  return std::optional<session>{std::move(s)};
}

mi::result<std::vector<session>> calendar::sessions(const civil_date& from, const civil_date& to) const {
  std::vector<session> out;
  for (std::int64_t d = day_of(from), end = day_of(to); d <= end; ++d) {
    auto s = session_on_day(d);
    if (!s)
      return s.err();
    if (*s)
      out.push_back(std::move(**s));
  }
  return out;
}

mi::result<bool> calendar::merge(std::int64_t first, std::int64_t last, const std::vector<reported_day>& days) {
  if (always_open_)
    return mi::error{"the crypto calendar has no days to merge", mi::errc::bad_input};
  if (first > last)
    return mi::error{"empty range", mi::errc::bad_input};
  for (const auto& d : days)
    if (d.day < first || d.day > last || d.open >= d.close)
      return mi::error{"day " + mi::util::date_text(mi::util::civil_from_days(d.day)) + " outside the range or with " +
                         "open >= close",
                       mi::errc::bad_input};
  if (last + 1 < first_day_ || first > last_day_ + 1)
    return mi::error{market_ + ": the reported range " + mi::util::date_text(mi::util::civil_from_days(first)) +
                       " .. " + mi::util::date_text(mi::util::civil_from_days(last)) +
                       " would leave a hole in the covered dates",
                     mi::errc::bad_input};
  for (auto it = rules_.lower_bound(first); it != rules_.end() && it->first <= last;)
    it = rules_.erase(it);
  std::set<std::int64_t> listed;
  const int open = segments_.front().begin;
  const int close = segments_.back().end;
  for (const auto& d : days) {
    listed.insert(d.day);
    day_rule r;
    if (d.open != open)
      r.open = d.open;
    if (d.close != close)
      r.close = d.close;
    r.note = "alpaca /v2/calendar";
    if (r.open || r.close)
      rules_[d.day] = std::move(r);
  }
  for (std::int64_t day = first; day <= last; ++day)
    if ((weekdays_ & (1u << weekday_of(day))) != 0 && listed.count(day) == 0)
      rules_[day] = day_rule{true, std::nullopt, std::nullopt, "alpaca /v2/calendar: not a trading day"};
  first_day_ = std::min(first_day_, first);
  last_day_ = std::max(last_day_, last);
  return true;
}

// -- the file format --------------------------------------------------------------------------

mi::result<calendar> parse_calendar(std::string_view text, std::string_view file, const std::vector<calendar>* known) {
  calendar c;
  bool have_zone = false;
  std::set<int> years;
  struct dated {
    std::int64_t day;
    day_rule rule;
    int line;
  };
  std::vector<dated> dated_rules;
  std::vector<std::pair<std::string, int>> holidays_of;
  int line_no = 0;
  auto fail = [&](const std::string& msg) {
    return mi::error{std::string(file) + ":" + std::to_string(line_no) + ": " + msg, mi::errc::bad_input};
  };
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    const auto t = tokens(line);
    if (t.empty())
      continue;
    const auto key = t[0];
    auto span_of = [&](std::string_view what) -> mi::result<local_span> {
      if (t.size() != 3)
        return fail(std::string(what) + " needs two times HH:MM HH:MM");
      auto a = parse_hhmm(t[1]);
      auto b = parse_hhmm(t[2]);
      if (!a || !b)
        return fail(std::string(what) + ": bad time (expected HH:MM HH:MM, got \"" + std::string(t[1]) + " " +
                    std::string(t[2]) + "\")");
      if (*a > *b)
        return fail(std::string(what) + ": ends before it begins");
      return local_span{*a, *b};
    };
    if (key == "market") {
      if (t.size() != 2 || t[1].empty() || t[1].size() > 16)
        return fail("market needs one name, e.g. \"market XNYS\"");
      for (char ch : t[1])
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
          return fail("market name must be upper-case letters and digits: \"" + std::string(t[1]) + "\"");
      if (t[1] == crypto_market)
        return fail("CRYPTO is built in and always open");
      c.market_ = std::string(t[1]);
    } else if (key == "time_zone") {
      if (t.size() != 2)
        return fail("time_zone needs one IANA name, e.g. America/New_York");
      if (auto z = mi::util::local_time_in(t[1], 0); !z)
        return fail(z.err().message);
      c.zone_ = std::string(t[1]);
      have_zone = true;
    } else if (key == "trading_days") {
      if (t.size() < 2)
        return fail("trading_days needs weekday names (Mon Tue ...)");
      c.weekdays_ = 0;
      for (std::size_t i = 1; i < t.size(); ++i) {
        auto it = std::find(std::begin(weekday_names), std::end(weekday_names), t[i]);
        if (it == std::end(weekday_names))
          return fail("unknown weekday \"" + std::string(t[i]) + "\" (expected Sun Mon Tue Wed Thu Fri Sat)");
        c.weekdays_ |= 1u << (it - std::begin(weekday_names));
      }
    } else if (key == "session") {
      auto s = span_of("session");
      if (!s)
        return s.err();
      if (s->begin == s->end)
        return fail("session: empty");
      if (!c.segments_.empty() && s->begin <= c.segments_.back().end)
        return fail("session: segments must follow each other with a break between them");
      if (c.segments_.size() == 2)
        return fail("session: at most two segments (a lunch break)");
      c.segments_.push_back(*s);
    } else if (key == "opening_auction" || key == "closing_auction") {
      auto s = span_of(key);
      if (!s)
        return s.err();
      (key == "opening_auction" ? c.opening_auction_ : c.closing_auction_) = *s;
    } else if (key == "years") {
      if (t.size() < 2)
        return fail("years needs at least one year");
      for (std::size_t i = 1; i < t.size(); ++i) {
        int y = 0;
        auto r = std::from_chars(t[i].data(), t[i].data() + t[i].size(), y);
        if (r.ec != std::errc{} || r.ptr != t[i].data() + t[i].size() || y < 1970 || y > 2200)
          return fail("bad year \"" + std::string(t[i]) + "\"");
        years.insert(y);
      }
    } else if (key == "holiday" || key == "early_close") {
      const bool early = key == "early_close";
      if (t.size() < (early ? 3u : 2u))
        return fail(early ? "early_close needs a date and a time: early_close YYYY-MM-DD HH:MM [name and source]"
                          : "holiday needs a date: holiday YYYY-MM-DD [name and source]");
      auto d = parse_date(t[1]);
      if (!d)
        return fail("bad date \"" + std::string(t[1]) + "\" (expected YYYY-MM-DD)");
      day_rule r;
      r.closed = !early;
      if (early) {
        auto at = parse_hhmm(t[2]);
        if (!at)
          return fail("bad time \"" + std::string(t[2]) + "\" (expected HH:MM)");
        r.close = *at;
      }
      r.note = rest_after(line, early ? 3 : 2);
      dated_rules.push_back({*d, std::move(r), line_no});
    } else if (key == "holidays_of") {
      if (t.size() != 2)
        return fail("holidays_of needs one market name");
      holidays_of.emplace_back(std::string(t[1]), line_no);
    } else {
      return fail("unknown directive \"" + std::string(key) +
                  "\" (expected market, time_zone, trading_days, session, opening_auction, closing_auction, years, "
                  "holiday, early_close, holidays_of)");
    }
  }
  line_no = 0;
  auto fail0 = [&](const std::string& msg) { return mi::error{std::string(file) + ": " + msg, mi::errc::bad_input}; };
  if (c.market_.empty())
    return fail0("no \"market\" line");
  if (!have_zone)
    return fail0("no \"time_zone\" line");
  if (c.segments_.empty())
    return fail0("no \"session\" line");
  if (years.empty())
    return fail0("no \"years\" line");
  if (c.opening_auction_ && c.opening_auction_->end > c.segments_.front().begin)
    return fail0("the opening auction must end by the session's open");
  if (c.closing_auction_ &&
      (c.closing_auction_->end != c.segments_.back().end || c.closing_auction_->begin < c.segments_.back().begin))
    return fail0("the closing auction must lie in the last segment and end at the close");
  for (int y = *years.begin(); y <= *years.rbegin(); ++y)
    if (years.count(y) == 0)
      return fail0("years must be consecutive (" + std::to_string(y) + " is missing)");
  c.first_day_ = mi::util::days_from_civil(*years.begin(), 1, 1);
  c.last_day_ = mi::util::days_from_civil(*years.rbegin(), 12, 31);
  for (const auto& [name, at] : holidays_of) {
    line_no = at;
    const calendar* other = nullptr;
    if (known != nullptr)
      for (const auto& k : *known)
        if (k.market() == name)
          other = &k;
    if (other == nullptr)
      return fail("holidays_of " + name + ": that market is not loaded (its file must come first)");
    for (const auto& [day, rule] : other->rules_)
      if (c.covers(day))
        dated_rules.push_back({day, rule, at});
  }
  for (auto& d : dated_rules) {
    line_no = d.line;
    if (!c.covers(d.day))
      return fail(mi::util::date_text(mi::util::civil_from_days(d.day)) + " is outside the covered years");
    if ((c.weekdays_ & (1u << weekday_of(d.day))) == 0)
      return fail(mi::util::date_text(mi::util::civil_from_days(d.day)) + " is a " +
                  std::string(weekday_names[weekday_of(d.day)]) + ", not a trading day anyway");
    if (d.rule.close && (*d.rule.close <= c.segments_.front().begin || *d.rule.close >= c.segments_.back().end))
      return fail("early close " + minutes_text(*d.rule.close) + " is not inside the session");
    if (d.rule.close && c.segments_.size() == 2 && *d.rule.close > c.segments_[0].end &&
        *d.rule.close <= c.segments_[1].begin)
      return fail("early close " + minutes_text(*d.rule.close) + " falls in the break (close at " +
                  minutes_text(c.segments_[0].end) + " instead)");
    if (!c.rules_.emplace(d.day, d.rule).second)
      return fail(mi::util::date_text(mi::util::civil_from_days(d.day)) + " is listed twice");
  }
  return c;
}

mi::result<std::vector<calendar::reported_day>> parse_alpaca_calendar(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec)
    return mi::error{"alpaca calendar: not JSON: " + ec.message(), mi::errc::bad_input};
  std::vector<const boost::json::value*> items;
  if (v.is_array()) {
    for (const auto& e : v.as_array())
      items.push_back(&e);
  } else if (v.is_object()) {
    items.push_back(&v);
  } else {
    return mi::error{"alpaca calendar: expected an array of days", mi::errc::bad_input};
  }
  std::vector<calendar::reported_day> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto where = "alpaca calendar: element " + std::to_string(i);
    if (!items[i]->is_object())
      return mi::error{where + " is not an object", mi::errc::bad_input};
    const auto& o = items[i]->as_object();
    auto text = [&](const char* k) -> std::optional<std::string_view> {
      auto it = o.find(k);
      if (it == o.end() || !it->value().is_string())
        return std::nullopt;
      return std::string_view(it->value().as_string());
    };
    auto date = text("date");
    auto open = text("open");
    auto close = text("close");
    if (!date || !open || !close)
      return mi::error{where + ": \"date\", \"open\" and \"close\" must be strings", mi::errc::bad_input};
    auto d = parse_date(*date);
    auto a = parse_hhmm(*open);
    auto b = parse_hhmm(*close);
    if (!d)
      return mi::error{where + ": bad date \"" + std::string(*date) + "\"", mi::errc::bad_input};
    if (!a || !b || *a >= *b)
      return mi::error{where + ": bad open/close \"" + std::string(*open) + "\"/\"" + std::string(*close) + "\"",
                       mi::errc::bad_input};
    if (!out.empty() && *d <= out.back().day)
      return mi::error{where + ": dates must increase", mi::errc::bad_input};
    out.push_back({*d, *a, *b});
  }
  return out;
}

// -- calendar_set -----------------------------------------------------------------------------

calendar_set::calendar_set() { all_.push_back(calendar::crypto()); }

const calendar* calendar_set::find(std::string_view market) const {
  for (const auto& c : all_)
    if (c.market() == market)
      return &c;
  return nullptr;
}

calendar* calendar_set::find_mutable(std::string_view market) {
  for (auto& c : all_)
    if (c.market() == market)
      return &c;
  return nullptr;
}

std::vector<std::string> calendar_set::markets() const {
  std::vector<std::string> out;
  for (const auto& c : all_)
    out.push_back(c.market());
  std::sort(out.begin() + 1, out.end());
  return out;
}

void calendar_set::add(calendar c) {
  if (auto* old = find_mutable(c.market()))
    *old = std::move(c);
  else
    all_.push_back(std::move(c));
}

mi::result<calendar_set> load_calendars(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return mi::error{"calendars: " + dir + " is not a directory", mi::errc::not_found};
  struct file {
    std::string name;
    std::string text;
    std::string depends; // holidays_of
  };
  std::vector<file> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".cal")
      continue;
    std::ifstream in(e.path(), std::ios::binary);
    if (!in)
      return mi::error{"calendars: cannot read " + e.path().string(), mi::errc::not_found};
    std::stringstream ss;
    ss << in.rdbuf();
    file f{e.path().string(), ss.str(), {}};
    for (std::string_view rest = f.text; !rest.empty();) {
      auto nl = rest.find('\n');
      auto t = tokens(rest.substr(0, nl));
      if (t.size() == 2 && t[0] == "holidays_of")
        f.depends = std::string(t[1]);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
    files.push_back(std::move(f));
  }
  if (ec)
    return mi::error{"calendars: cannot list " + dir + ": " + ec.message(), mi::errc::not_found};
  std::sort(files.begin(), files.end(), [](const file& a, const file& b) { return a.name < b.name; });
  std::stable_partition(files.begin(), files.end(), [](const file& f) { return f.depends.empty(); });
  calendar_set set;
  std::vector<calendar> loaded;
  for (const auto& f : files) {
    auto c = parse_calendar(f.text, f.name, &loaded);
    if (!c)
      return c.err();
    if (set.find(c->market()) != nullptr)
      return mi::error{"calendars: " + f.name + ": market " + c->market() + " is defined twice", mi::errc::bad_input};
    loaded.push_back(*c);
    set.add(std::move(*c));
  }
  return set;
}

std::vector<std::string> default_calendar_dirs() {
  std::vector<std::string> out{MI_CALENDARS_INSTALL_DIR};
  if (std::string_view(MI_CALENDARS_SOURCE_DIR).size() > 0)
    out.emplace_back(MI_CALENDARS_SOURCE_DIR);
  return out;
}

mi::result<std::string> resolve_calendar_dir(const std::string& configured) {
  if (!configured.empty())
    return configured;
  std::string tried;
  for (const auto& d : default_calendar_dirs()) {
    std::error_code ec;
    if (std::filesystem::is_directory(d, ec))
      return d;
    tried += (tried.empty() ? "" : ", ") + d;
  }
  return mi::error{"calendars: no calendar directory (tried " + tried + "; set calendars.dir)", mi::errc::not_found};
}

} // namespace mi::calendar
