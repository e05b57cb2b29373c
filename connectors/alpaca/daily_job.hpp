#pragma once

// The daily job's pure parts (issue 13, item 4; docs/operations.md "Alpaca daily job"): after the close it fetches
// Alpaca's daily bars of the trading day for the universe, compares them field by field with the platform's own 1d
// klines of that day, and reports the differences; then it backfills older trading days newest first with progress
// that survives restarts. This file: the request targets, the schedule on the XNYS calendar, the backfill order and
// its stored progress, the comparison and the report line. No I/O, no clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/alpaca/codec.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/kline.hpp"
#include "messages/result.hpp"

namespace mi::alpaca {

/// Tickers named in one daily-bars request (Alpaca's `limit` counts bars across symbols; one bar per symbol a day).
inline constexpr std::size_t daily_bars_tickers_per_request = 200;

/// GET /v2/stocks/bars?symbols=AAPL,MSFT&timeframe=1Day&start=<day>&end=<day>&adjustment=raw&feed=<feed>&limit=10000
/// [&page_token=<token>]: the day's raw (unadjusted) daily bars of `tickers` (Alpaca's names, "BRK.B"); `feed` "iex"
/// or "sip", the feed the platform's trades come from (a SIP bar against IEX trades would differ everywhere).
std::string daily_bars_target(const std::vector<std::string>& tickers, std::int64_t day, std::string_view feed,
                              std::string_view page_token = {});

/// When the job runs for the trading day of `now_ns` or later: the first XNYS trading day (local date, days since
/// 1970-01-01) whose `at_minutes` (local minutes after midnight, 20:05 = 1205) is at or after `now_ns`, with that
/// instant in UTC ns. nullopt when the calendar has no trading day left in its data.
struct run_at {
  std::int64_t day = 0;
  std::int64_t at_ns = 0;
  bool operator==(const run_at&) const = default;
};
std::optional<run_at> next_run(const mi::calendar::calendar& xnys, int at_minutes, std::int64_t now_ns);

/// The trading days to backfill, newest first: the `horizon` trading days before `newest_day` (exclusive), less
/// those at or after the progress `done_through` (the oldest day already backfilled; nullopt: none).
std::vector<std::int64_t> backfill_days(const mi::calendar::calendar& xnys, std::int64_t newest_day, int horizon,
                                        std::optional<std::int64_t> done_through);

/// "20:05" -> 1205 (local minutes after midnight, 00:00..23:59); an error naming the text otherwise.
mi::result<int> parse_at(std::string_view hhmm);

/// The newest XNYS trading day whose `at_minutes` is at or before `now_ns` (the day the daily run is due for);
/// nullopt when the calendar covers none.
std::optional<std::int64_t> latest_due_day(const mi::calendar::calendar& xnys, int at_minutes, std::int64_t now_ns);

/// The job's progress as stored (a KV value): the newest day whose daily run finished and the oldest day the backfill
/// finished ("live=2026-11-18;back=2026-10-02", "-" for none). A day is recorded only after its bars are stored
/// and compared, so after a kill -9 only the day in flight is fetched again.
struct daily_progress {
  std::optional<std::int64_t> live_done;
  std::optional<std::int64_t> back_done;
  std::string encode() const;
  static mi::result<daily_progress> decode(std::string_view text);
  bool operator==(const daily_progress&) const = default;
};

/// What the job does next, from its progress and the clock: the daily run of the newest due day first, then the
/// backfill of the day before the oldest done, newest first, then wait for the next `at`.
struct daily_step {
  enum class kind : std::uint8_t { wait, live, backfill };
  kind what = kind::wait;
  std::int64_t day = 0;      ///< live, backfill: the trading day (days since 1970-01-01, local date)
  std::int64_t until_ns = 0; ///< wait: the next run's instant; 0 when the calendar has no day left (wait a day)
  bool operator==(const daily_step&) const = default;
};
daily_step next_step(const mi::calendar::calendar& xnys, int at_minutes, int horizon, const daily_progress& progress,
                     std::int64_t now_ns);

/// The progress once `step` (live or backfill) is stored and compared. A live run of a day after a gap of trading
/// days (the job was down) restarts the backfill from that day, so the missed days are fetched (the days already
/// done again too: the progress holds no holes; the rows are replaced with equal values).
daily_progress progress_after(const mi::calendar::calendar& xnys, const daily_progress& progress,
                              const daily_step& step);

/// One field that differs between Alpaca's daily bar and the platform's 1d kline of the same symbol and day.
struct daily_difference {
  std::string field; ///< "open", "high", "low", "close", "volume", "trade_count", or "missing" (no 1d kline)
  std::string alpaca, ours;
  bool operator==(const daily_difference&) const = default;
};

/// The closed list of daily_difference::field values (the mi_daily_bar_mismatches_total `field` label).
inline constexpr std::string_view difference_fields[] = {"open",   "high",        "low",     "close",
                                                         "volume", "trade_count", "missing", "no_source_bar"};

/// Field by field, exactly (decimals compared by value: "161.5" == "161.50"): open, high, low, close, volume,
/// trade_count (when Alpaca sends `n`). VWAP is not compared (Alpaca rounds it to 6 digits). No kline: one
/// difference "missing".
std::vector<daily_difference> compare_daily(const bar& alpaca, const std::optional<mi::kline>& ours);

/// The data-quality report line (JSON, core NATS market.quality.alpaca):
/// {"venue":"alpaca","symbol":"AAPL","trading_day":"2022-03-09","differences":[{"field":"close","alpaca":"162.95",
/// "ours":"162.9"}]}.
std::string quality_report_json(std::string_view symbol, std::int64_t day,
                                const std::vector<daily_difference>& differences);

/// One day's comparison of the universe: Alpaca's bars against our 1d klines of that day.
struct day_comparison {
  struct symbol_result {
    std::string symbol;
    std::vector<daily_difference> differences; ///< empty: every field equal
  };
  std::vector<symbol_result> symbols; ///< every symbol with a bar or a kline, by symbol
  std::size_t mismatched() const;
};

/// Compares the day: each of Alpaca's `bars` with our kline of its symbol (none: "missing"), and each of `ours`
/// without a bar from Alpaca: one difference "no_source_bar" (ours: its close). Symbols of `universe` with neither
/// are not listed (no trade that day). Bars and klines of symbols outside `universe` are ignored.
day_comparison compare_day(const std::vector<std::string>& universe, const std::vector<bar>& bars,
                           const std::vector<mi::kline>& ours);

/// The differences of one symbol as the quality table's jsonb: [{"field":"close","source":"162.95","ours":"162.9"}].
std::string differences_json(const std::vector<daily_difference>& differences);

/// The day's data-quality report (JSON, one message per day on core NATS market.quality.alpaca):
/// {"venue":"alpaca","trading_day":"2026-12-02","run":"live","symbols":2,"mismatched":1,"differences":
/// [{"symbol":"AAPL","field":"volume","alpaca":"1200","ours":"1199"}]}; `run` "live", "backfill" or "rerun".
std::string day_report_json(std::int64_t day, std::string_view run, const day_comparison& c);

} // namespace mi::alpaca
