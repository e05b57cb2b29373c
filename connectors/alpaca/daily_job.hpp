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

/// The trading days to backfill, newest first: those before `newest_day` (exclusive) back to `horizon_days`
/// calendar days before it, after the progress `done_through` (the oldest day already backfilled; nullopt: none).
std::vector<std::int64_t> backfill_days(const mi::calendar::calendar& xnys, std::int64_t newest_day, int horizon_days,
                                        std::optional<std::int64_t> done_through);

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

/// One field that differs between Alpaca's daily bar and the platform's 1d kline of the same symbol and day.
struct daily_difference {
  std::string field; ///< "open", "high", "low", "close", "volume", "trade_count", or "missing" (no 1d kline)
  std::string alpaca, ours;
  bool operator==(const daily_difference&) const = default;
};

/// Field by field, exactly (decimals compared by value: "161.5" == "161.50"): open, high, low, close, volume,
/// trade_count (when Alpaca sends `n`). VWAP is not compared (Alpaca rounds it to 6 digits). No kline: one
/// difference "missing".
std::vector<daily_difference> compare_daily(const bar& alpaca, const std::optional<mi::kline>& ours);

/// The data-quality report line (JSON, core NATS market.quality.alpaca):
/// {"venue":"alpaca","symbol":"AAPL","trading_day":"2022-03-09","differences":[{"field":"close","alpaca":"162.95",
/// "ours":"162.9"}]}.
std::string quality_report_json(std::string_view symbol, std::int64_t day,
                                const std::vector<daily_difference>& differences);

} // namespace mi::alpaca
