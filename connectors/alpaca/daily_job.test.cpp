// The daily job's pure parts: request targets, the schedule on the XNYS calendar (DST, holidays, early closes),
// the backfill order and its progress, the field-by-field comparison against a 1d kline. Expected values by hand;
// the bars from the fixtures (alpaca/rest/bars_multi_1Day_AAPL_TSLA.json: AAPL 2022-03-09 o 161.51 h 163.41
// l 159.41 c 162.95 v 88496480 n 700291).
#include <doctest/doctest.h>

#include "connectors/alpaca/daily_job.hpp"
#include "connectors/alpaca/rest.hpp"
#include "connectors/alpaca/test_files.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/util/civil_time.hpp"

namespace {

mi::calendar::calendar_set repo() {
  auto set = mi::calendar::load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE(set.has_value());
  return std::move(*set);
}

std::int64_t day(int y, unsigned m, unsigned d) { return mi::util::days_from_civil(y, m, d); }

// UTC ns of a UTC wall time.
std::int64_t utc_ns(int y, unsigned m, unsigned d, int hh, int mm) {
  return ((day(y, m, d) * 24 + hh) * 60 + mm) * 60'000'000'000LL;
}

mi::decimal dec(const char* s) { return *mi::decimal::parse(s); }

} // namespace

TEST_CASE("daily job: the bars request names the day, raw prices, the feed, and escapes the page token") {
  CHECK(mi::alpaca::daily_bars_target({"AAPL", "BRK.B"}, day(2026, 11, 18), "iex") ==
        "/v2/stocks/bars?symbols=AAPL,BRK.B&timeframe=1Day&start=2026-11-18&end=2026-11-18&adjustment=raw&feed=iex"
        "&limit=10000");
  CHECK(mi::alpaca::daily_bars_target({"AAPL"}, day(2026, 11, 18), "sip", "QUFQTHxE+/=") ==
        "/v2/stocks/bars?symbols=AAPL&timeframe=1Day&start=2026-11-18&end=2026-11-18&adjustment=raw&feed=sip"
        "&limit=10000&page_token=QUFQTHxE%2B%2F%3D");
}

TEST_CASE("daily job: 20:05 New York on trading days only, across DST, holidays and early closes") {
  auto set = repo();
  const auto* ny = set.find("XNYS");
  REQUIRE(ny != nullptr);
  const int at = 20 * 60 + 5;
  // Wednesday 2026-11-18 (EST, UTC-5), 15:00 New York: the same day at 20:05 EST = 01:05Z the next day.
  auto r = mi::alpaca::next_run(*ny, at, utc_ns(2026, 11, 18, 20, 0));
  REQUIRE(r);
  CHECK(r->day == day(2026, 11, 18));
  CHECK(r->at_ns == utc_ns(2026, 11, 19, 1, 5));
  // After that run: Thursday 19th.
  r = mi::alpaca::next_run(*ny, at, utc_ns(2026, 11, 19, 1, 6));
  REQUIRE(r);
  CHECK(r->day == day(2026, 11, 19));
  // Wednesday 25th after the run: Thanksgiving (26th) is skipped; Friday 27th closes early but the job still runs.
  r = mi::alpaca::next_run(*ny, at, utc_ns(2026, 11, 26, 2, 0));
  REQUIRE(r);
  CHECK(r->day == day(2026, 11, 27));
  CHECK(r->at_ns == utc_ns(2026, 11, 28, 1, 5));
  // Summer time (EDT, UTC-4): Friday 2026-07-10 20:05 EDT = 00:05Z Saturday; a weekend asks on Monday.
  r = mi::alpaca::next_run(*ny, at, utc_ns(2026, 7, 10, 12, 0));
  REQUIRE(r);
  CHECK(r->at_ns == utc_ns(2026, 7, 11, 0, 5));
  r = mi::alpaca::next_run(*ny, at, utc_ns(2026, 7, 11, 0, 6));
  REQUIRE(r);
  CHECK(r->day == day(2026, 7, 13));
}

TEST_CASE("daily job: backfill newest first over trading days, resuming after the progress") {
  auto set = repo();
  const auto* ny = set.find("XNYS");
  // Before Monday 2026-11-30, 10 days back: Fri 27, Wed 25, Tue 24, Mon 23, Fri 20 (Thanksgiving and weekends out).
  auto all = mi::alpaca::backfill_days(*ny, day(2026, 11, 30), 10, std::nullopt);
  CHECK(all == std::vector<std::int64_t>{day(2026, 11, 27), day(2026, 11, 25), day(2026, 11, 24), day(2026, 11, 23),
                                         day(2026, 11, 20)});
  // Progress says the 24th is done: the 23rd and 20th are left, nothing skipped, nothing again.
  auto rest = mi::alpaca::backfill_days(*ny, day(2026, 11, 30), 10, day(2026, 11, 24));
  CHECK(rest == std::vector<std::int64_t>{day(2026, 11, 23), day(2026, 11, 20)});
  mi::alpaca::daily_progress p{day(2026, 11, 27), day(2026, 11, 24)};
  CHECK(p.encode() == "live=2026-11-27;back=2026-11-24");
  CHECK(*mi::alpaca::daily_progress::decode(p.encode()) == p);
  CHECK(*mi::alpaca::daily_progress::decode("live=-;back=-") == mi::alpaca::daily_progress{});
  CHECK_FALSE(mi::alpaca::daily_progress::decode("live=2026-13-01;back=-"));
  CHECK_FALSE(mi::alpaca::daily_progress::decode("garbage"));
}

TEST_CASE("daily job: Alpaca's bar against our 1d kline, field by field, and the report line") {
  auto page = mi::alpaca::parse_bars_page(mi::alpaca::test::fixture_text("rest/bars_multi_1Day_AAPL_TSLA.json"), true);
  REQUIRE(page);
  const mi::alpaca::bar* aapl = nullptr;
  for (const auto& b : page->bars)
    if (b.symbol == "AAPL")
      aapl = &b;
  REQUIRE(aapl != nullptr);
  mi::kline k;
  k.exchange = "alpaca";
  k.symbol = "AAPL";
  k.interval = "1d";
  k.open = dec("161.510");
  k.high = dec("163.41");
  k.low = dec("159.41");
  k.close = dec("162.95");
  k.volume = dec("88496480");
  k.trade_count = 700291;
  CHECK(mi::alpaca::compare_daily(*aapl, k).empty()); // equal by value ("161.510" == 161.51)
  k.close = dec("162.9");
  k.volume = dec("88496380");
  k.trade_count = 700290;
  auto d = mi::alpaca::compare_daily(*aapl, k);
  CHECK(d == std::vector<mi::alpaca::daily_difference>{
               {"close", "162.95", "162.9"}, {"volume", "88496480", "88496380"}, {"trade_count", "700291", "700290"}});
  CHECK(mi::alpaca::quality_report_json("AAPL", day(2022, 3, 9), d) ==
        R"({"venue":"alpaca","symbol":"AAPL","trading_day":"2022-03-09","differences":[{"field":"close",)"
        R"("alpaca":"162.95","ours":"162.9"},{"field":"volume","alpaca":"88496480","ours":"88496380"},)"
        R"({"field":"trade_count","alpaca":"700291","ours":"700290"}]})");
  auto missing = mi::alpaca::compare_daily(*aapl, std::nullopt);
  CHECK(missing == std::vector<mi::alpaca::daily_difference>{{"missing", "162.95", ""}});
}
