#include "connectors/alpaca/daily_job.hpp"

#include <algorithm>
#include <cctype>

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

std::vector<std::int64_t> backfill_days(const mi::calendar::calendar& xnys, std::int64_t newest_day, int horizon_days,
                                        std::optional<std::int64_t> done_through) {
  std::vector<std::int64_t> out;
  const std::int64_t start = done_through ? std::min(*done_through, newest_day) : newest_day;
  for (std::int64_t day = start - 1; day >= newest_day - horizon_days && xnys.covers(day); --day) {
    auto s = xnys.session_on_day(day);
    if (s && *s)
      out.push_back(day);
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

} // namespace mi::alpaca
