#include "connectors/alpaca/daily_job.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "connectors/json_text.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::alpaca {
namespace {

std::string date_of(std::int64_t day) { return mi::util::date_text(mi::util::civil_from_days(day)); }

std::string day_or_dash(const std::optional<std::int64_t>& d) { return d ? date_of(*d) : std::string("-"); }

mi::result<std::optional<std::int64_t>> day_field(std::string_view v) {
  if (v == "-")
    return std::optional<std::int64_t>{};
  auto d = mi::calendar::parse_date_text(v);
  if (!d)
    return mi::error{"bad date \"" + std::string(v) + "\"", mi::errc::bad_input};
  return std::optional<std::int64_t>(*d);
}

} // namespace

std::string daily_bars_target(const std::vector<std::string>& tickers, std::int64_t day, std::string_view feed,
                              std::string_view page_token) {
  std::string out = "/v2/stocks/bars?symbols=";
  for (std::size_t i = 0; i < tickers.size(); ++i)
    out += (i == 0 ? "" : ",") + tickers[i];
  const auto d = date_of(day);
  out += "&timeframe=1Day&start=" + d + "&end=" + d + "&adjustment=raw&feed=" + std::string(feed) + "&limit=10000";
  if (!page_token.empty()) {
    out += "&page_token=";
    for (unsigned char c : page_token) { // opaque base64: escape what a query cannot carry as is
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        static const char hex[] = "0123456789ABCDEF";
        out += '%';
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
      }
    }
  }
  return out;
}

std::optional<run_at> next_run(const mi::calendar::calendar& xnys, int at_minutes, std::int64_t now_ns) {
  for (std::int64_t day = xnys.local_day_of(now_ns); xnys.covers(day); ++day) {
    auto s = xnys.session_on_day(day);
    if (!s || !*s)
      continue;
    // The local time `at` of a trading day from its open: no DST change falls between 09:30 and the evening of a
    // weekday (the switches are at 02:00 on Sundays).
    const std::int64_t at = (*s)->open_ns + static_cast<std::int64_t>(at_minutes - (*s)->local.begin) * 60'000'000'000;
    if (at >= now_ns)
      return run_at{day, at};
  }
  return std::nullopt;
}

std::vector<std::int64_t> backfill_days(const mi::calendar::calendar& xnys, std::int64_t newest_day, int horizon,
                                        std::optional<std::int64_t> done_through) {
  std::vector<std::int64_t> out;
  int counted = 0;
  for (std::int64_t day = newest_day - 1; counted < horizon && xnys.covers(day); --day) {
    auto s = xnys.session_on_day(day);
    if (!s || !*s)
      continue;
    ++counted;
    if (!done_through || day < *done_through)
      out.push_back(day);
  }
  return out;
}

mi::result<int> parse_at(std::string_view t) {
  auto digit = [&](std::size_t i) { return i < t.size() && t[i] >= '0' && t[i] <= '9'; };
  if (t.size() != 5 || !digit(0) || !digit(1) || t[2] != ':' || !digit(3) || !digit(4))
    return mi::error{"expected HH:MM (e.g. 20:05), got \"" + std::string(t.substr(0, 20)) + "\"", mi::errc::bad_input};
  const int h = (t[0] - '0') * 10 + (t[1] - '0');
  const int m = (t[3] - '0') * 10 + (t[4] - '0');
  if (h > 23 || m > 59)
    return mi::error{"expected HH:MM (e.g. 20:05), got \"" + std::string(t) + "\"", mi::errc::bad_input};
  return h * 60 + m;
}

namespace {

/// The instant of local `at_minutes` on trading day `day` (see next_run); nullopt when not a trading day.
std::optional<std::int64_t> at_of(const mi::calendar::calendar& xnys, std::int64_t day, int at_minutes) {
  auto s = xnys.session_on_day(day);
  if (!s || !*s)
    return std::nullopt;
  return (*s)->open_ns + static_cast<std::int64_t>(at_minutes - (*s)->local.begin) * 60'000'000'000;
}

/// The trading day before `day`, nullopt when the calendar does not reach it.
std::optional<std::int64_t> previous_trading_day(const mi::calendar::calendar& xnys, std::int64_t day) {
  for (std::int64_t d = day - 1; xnys.covers(d); --d)
    if (auto s = xnys.session_on_day(d); s && *s)
      return d;
  return std::nullopt;
}

} // namespace

std::optional<std::int64_t> latest_due_day(const mi::calendar::calendar& xnys, int at_minutes, std::int64_t now_ns) {
  for (std::int64_t day = xnys.local_day_of(now_ns); xnys.covers(day); --day)
    if (auto at = at_of(xnys, day, at_minutes); at && *at <= now_ns)
      return day;
  return std::nullopt;
}

daily_step next_step(const mi::calendar::calendar& xnys, int at_minutes, int horizon, const daily_progress& progress,
                     std::int64_t now_ns) {
  const auto due = latest_due_day(xnys, at_minutes, now_ns);
  if (due && (!progress.live_done || *progress.live_done < *due))
    return {daily_step::kind::live, *due, 0};
  if (progress.live_done) {
    auto days = backfill_days(xnys, *progress.live_done, horizon, progress.back_done);
    if (!days.empty())
      return {daily_step::kind::backfill, days.front(), 0};
  }
  auto next = next_run(xnys, at_minutes, now_ns + 1);
  return {daily_step::kind::wait, 0, next ? next->at_ns : 0};
}

daily_progress progress_after(const mi::calendar::calendar& xnys, const daily_progress& progress,
                              const daily_step& step) {
  daily_progress out = progress;
  if (step.what == daily_step::kind::backfill) {
    out.back_done = out.back_done ? std::min(*out.back_done, step.day) : step.day;
  } else if (step.what == daily_step::kind::live) {
    out.live_done = step.day;
    // The day after the previous live day: the backfill goes on where it was. Otherwise (the first run, or
    // trading days missed in between) it starts again below this day.
    const auto before = previous_trading_day(xnys, step.day);
    if (!progress.live_done || !before || *progress.live_done != *before)
      out.back_done = step.day;
    else if (!out.back_done)
      out.back_done = *progress.live_done;
  }
  return out;
}

std::string daily_progress::encode() const {
  return "live=" + day_or_dash(live_done) + ";back=" + day_or_dash(back_done);
}

mi::result<daily_progress> daily_progress::decode(std::string_view text) {
  const auto semi = text.find(';');
  if (text.rfind("live=", 0) != 0 || semi == std::string_view::npos || text.substr(semi + 1, 5) != "back=")
    return mi::error{"daily job progress: expected \"live=<date|->;back=<date|->\", got \"" + std::string(text) + "\"",
                     mi::errc::bad_input};
  auto live = day_field(text.substr(5, semi - 5));
  auto back = day_field(text.substr(semi + 6));
  if (!live)
    return live.err();
  if (!back)
    return back.err();
  return daily_progress{*live, *back};
}

std::vector<daily_difference> compare_daily(const bar& alpaca, const std::optional<mi::kline>& ours) {
  std::vector<daily_difference> out;
  if (!ours) {
    out.push_back({"missing", alpaca.close.to_string(), ""});
    return out;
  }
  auto field = [&](const char* name, const mi::decimal& a, const mi::decimal& o) {
    if ((a <=> o) != 0)
      out.push_back({name, a.to_string(), o.to_string()});
  };
  field("open", alpaca.open, ours->open);
  field("high", alpaca.high, ours->high);
  field("low", alpaca.low, ours->low);
  field("close", alpaca.close, ours->close);
  field("volume", alpaca.volume, ours->volume);
  if (alpaca.trade_count >= 0 && static_cast<std::uint64_t>(alpaca.trade_count) != ours->trade_count)
    out.push_back({"trade_count", std::to_string(alpaca.trade_count), std::to_string(ours->trade_count)});
  return out;
}

std::string quality_report_json(std::string_view symbol, std::int64_t day,
                                const std::vector<daily_difference>& differences) {
  using connectors::text::append_json_string;
  std::string out = R"({"venue":"alpaca","symbol":)";
  append_json_string(out, symbol);
  out += R"(,"trading_day":")" + date_of(day) + R"(","differences":[)";
  for (std::size_t i = 0; i < differences.size(); ++i) {
    const auto& d = differences[i];
    out += i == 0 ? "{\"field\":" : ",{\"field\":";
    append_json_string(out, d.field);
    out += ",\"alpaca\":";
    append_json_string(out, d.alpaca);
    out += ",\"ours\":";
    append_json_string(out, d.ours);
    out += '}';
  }
  return out + "]}";
}

std::size_t day_comparison::mismatched() const {
  return static_cast<std::size_t>(
    std::count_if(symbols.begin(), symbols.end(), [](const symbol_result& r) { return !r.differences.empty(); }));
}

day_comparison compare_day(const std::vector<std::string>& universe, const std::vector<bar>& bars,
                           const std::vector<mi::kline>& ours) {
  std::map<std::string, const bar*> by_bar;
  std::map<std::string, const mi::kline*> by_kline;
  for (const auto& b : bars)
    by_bar[b.symbol] = &b;
  for (const auto& k : ours)
    by_kline[k.symbol] = &k;
  std::set<std::string> names(universe.begin(), universe.end());
  day_comparison out;
  for (const auto& sym : names) {
    const auto b = by_bar.find(sym);
    const auto k = by_kline.find(sym);
    if (b == by_bar.end() && k == by_kline.end())
      continue;
    day_comparison::symbol_result r{sym, {}};
    if (b == by_bar.end())
      r.differences.push_back({"no_source_bar", "", k->second->close.to_string()});
    else
      r.differences = compare_daily(*b->second, k == by_kline.end() ? std::nullopt : std::optional(*k->second));
    out.symbols.push_back(std::move(r));
  }
  return out;
}

std::string differences_json(const std::vector<daily_difference>& differences) {
  using connectors::text::append_json_string;
  std::string out = "[";
  for (const auto& d : differences) {
    out += out.size() == 1 ? "{\"field\":" : ",{\"field\":";
    append_json_string(out, d.field);
    out += ",\"source\":";
    append_json_string(out, d.alpaca);
    out += ",\"ours\":";
    append_json_string(out, d.ours);
    out += '}';
  }
  return out + "]";
}

std::string day_report_json(std::int64_t day, std::string_view run, const day_comparison& c) {
  using connectors::text::append_json_string;
  std::string out = R"({"venue":"alpaca","trading_day":")" + date_of(day) + R"(","run":)";
  append_json_string(out, run);
  out += R"(,"symbols":)" + std::to_string(c.symbols.size()) + R"(,"mismatched":)" + std::to_string(c.mismatched()) +
         R"(,"differences":[)";
  bool first = true;
  for (const auto& r : c.symbols) {
    for (const auto& d : r.differences) {
      out += first ? "{\"symbol\":" : ",{\"symbol\":";
      first = false;
      append_json_string(out, r.symbol);
      out += ",\"field\":";
      append_json_string(out, d.field);
      out += ",\"alpaca\":";
      append_json_string(out, d.alpaca);
      out += ",\"ours\":";
      append_json_string(out, d.ours);
      out += '}';
    }
  }
  return out + "]}";
}

} // namespace mi::alpaca
