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
  // Before Monday 2026-11-30, 6 trading days back: Fri 27, Wed 25, Tue 24, Mon 23, Fri 20, Thu 19 (Thanksgiving
  // and the weekends are not trading days).
  auto all = mi::alpaca::backfill_days(*ny, day(2026, 11, 30), 6, std::nullopt);
  CHECK(all == std::vector<std::int64_t>{day(2026, 11, 27), day(2026, 11, 25), day(2026, 11, 24), day(2026, 11, 23),
                                         day(2026, 11, 20), day(2026, 11, 19)});
  // Progress says the 24th is done: the 23rd, 20th and 19th are left, nothing skipped, nothing again.
  auto rest = mi::alpaca::backfill_days(*ny, day(2026, 11, 30), 6, day(2026, 11, 24));
  CHECK(rest == std::vector<std::int64_t>{day(2026, 11, 23), day(2026, 11, 20), day(2026, 11, 19)});
  CHECK(mi::alpaca::backfill_days(*ny, day(2026, 11, 30), 6, day(2026, 11, 19)).empty());
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

TEST_CASE("daily job: the run time parsed as HH:MM, and bad text refused with a clear error") {
  CHECK(*mi::alpaca::parse_at("20:05") == 1205);
  CHECK(*mi::alpaca::parse_at("00:00") == 0);
  CHECK(*mi::alpaca::parse_at("23:59") == 23 * 60 + 59);
  for (const char* bad : {"24:00", "20:60", "8:05", "20.05", "", "20:05:00"}) {
    auto r = mi::alpaca::parse_at(bad);
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("expected HH:MM") != std::string::npos);
  }
}

TEST_CASE("daily job: the next step - the due day first, then the backfill newest first, then wait for 20:05") {
  auto set = repo();
  const auto* ny = set.find("XNYS");
  using k = mi::alpaca::daily_step::kind;
  const int at = 20 * 60 + 5;
  // Thursday 2026-12-03 10:00Z (05:00 New York): the newest day whose 20:05 passed is Wednesday the 2nd.
  const auto now = utc_ns(2026, 12, 3, 10, 0);
  CHECK(*mi::alpaca::latest_due_day(*ny, at, now) == day(2026, 12, 2));
  // The same day at 20:05 New York (01:05Z the 4th) it is the 3rd.
  CHECK(*mi::alpaca::latest_due_day(*ny, at, utc_ns(2026, 12, 4, 1, 5)) == day(2026, 12, 3));
  CHECK(*mi::alpaca::latest_due_day(*ny, at, utc_ns(2026, 12, 4, 1, 4)) == day(2026, 12, 2));
  // Nothing done: the live run of the 2nd.
  mi::alpaca::daily_progress p;
  auto s = mi::alpaca::next_step(*ny, at, 3, p, now);
  CHECK(s == mi::alpaca::daily_step{k::live, day(2026, 12, 2), 0});
  p = mi::alpaca::progress_after(*ny, p, s);
  CHECK(p.encode() == "live=2026-12-02;back=2026-12-02");
  // Then 3 trading days back, newest first: Dec 1, Nov 30, Nov 27.
  std::vector<std::int64_t> fetched;
  for (;;) {
    s = mi::alpaca::next_step(*ny, at, 3, p, now);
    if (s.what != k::backfill)
      break;
    fetched.push_back(s.day);
    p = mi::alpaca::progress_after(*ny, p, s);
  }
  CHECK(fetched == std::vector<std::int64_t>{day(2026, 12, 1), day(2026, 11, 30), day(2026, 11, 27)});
  CHECK(p.encode() == "live=2026-12-02;back=2026-11-27");
  // Done: wait for Thursday's 20:05 EST (01:05Z Friday).
  CHECK(s == mi::alpaca::daily_step{k::wait, 0, utc_ns(2026, 12, 4, 1, 5)});
  // Thursday's run, the day after the last live day: the backfill keeps its progress (one new day, not three).
  const auto thursday_night = utc_ns(2026, 12, 4, 1, 6);
  s = mi::alpaca::next_step(*ny, at, 3, p, thursday_night);
  CHECK(s == mi::alpaca::daily_step{k::live, day(2026, 12, 3), 0});
  p = mi::alpaca::progress_after(*ny, p, s);
  CHECK(p.encode() == "live=2026-12-03;back=2026-11-27");
  // The horizon moved with the live day: 3 trading days before the 3rd are Dec 2, Dec 1, Nov 30, all done.
  CHECK(mi::alpaca::next_step(*ny, at, 3, p, thursday_night).what == k::wait);
  // Down from Friday to Tuesday night: the live run of Tuesday the 8th, then the backfill again from the 7th
  // (Friday the 4th and Monday the 7th were missed; the progress has no holes, so the horizon is fetched again).
  s = mi::alpaca::next_step(*ny, at, 3, p, utc_ns(2026, 12, 9, 2, 0));
  CHECK(s == mi::alpaca::daily_step{k::live, day(2026, 12, 8), 0});
  p = mi::alpaca::progress_after(*ny, p, s);
  CHECK(p.encode() == "live=2026-12-08;back=2026-12-08");
  s = mi::alpaca::next_step(*ny, at, 3, p, utc_ns(2026, 12, 9, 2, 0));
  CHECK(s == mi::alpaca::daily_step{k::backfill, day(2026, 12, 7), 0});
}

TEST_CASE("daily job: the day's comparison over the universe, its table rows and its one report message") {
  auto bar = [](const char* sym, const char* close, const char* volume, std::int64_t n) {
    mi::alpaca::bar b;
    b.what = mi::alpaca::bar::kind::daily;
    b.symbol = sym;
    b.open = dec("10");
    b.high = dec("12");
    b.low = dec("9.5");
    b.close = dec(close);
    b.volume = dec(volume);
    b.trade_count = n;
    return b;
  };
  auto kline = [](const char* sym, const char* close, const char* volume, std::uint64_t n) {
    mi::kline k;
    k.exchange = "alpaca";
    k.symbol = sym;
    k.interval = "1d";
    k.open = dec("10.00");
    k.high = dec("12");
    k.low = dec("9.50");
    k.close = dec(close);
    k.volume = dec(volume);
    k.trade_count = n;
    return k;
  };
  // AAPL equal (by value), MSFT one more share at Alpaca, TSLA no kline of ours, NVDA no bar from Alpaca, AMD neither,
  // IBM not in the universe.
  const std::vector<std::string> universe{"MSFT", "AAPL", "TSLA", "NVDA", "AMD"};
  const std::vector<mi::alpaca::bar> bars{bar("AAPL", "11", "300", 3), bar("MSFT", "11.5", "201", 2),
                                          bar("TSLA", "9.9", "5", 1), bar("IBM", "1", "1", 1)};
  const std::vector<mi::kline> ours{kline("AAPL", "11.0", "300.00", 3), kline("MSFT", "11.5", "200", 2),
                                    kline("NVDA", "20.25", "7", 1), kline("IBM", "2", "1", 1)};
  auto c = mi::alpaca::compare_day(universe, bars, ours);
  REQUIRE(c.symbols.size() == 4);
  CHECK(c.symbols[0].symbol == "AAPL");
  CHECK(c.symbols[0].differences.empty());
  CHECK(c.symbols[1].symbol == "MSFT");
  CHECK(c.symbols[1].differences == std::vector<mi::alpaca::daily_difference>{{"volume", "201", "200"}});
  CHECK(c.symbols[2].symbol == "NVDA");
  CHECK(c.symbols[2].differences == std::vector<mi::alpaca::daily_difference>{{"no_source_bar", "", "20.25"}});
  CHECK(c.symbols[3].symbol == "TSLA");
  CHECK(c.symbols[3].differences == std::vector<mi::alpaca::daily_difference>{{"missing", "9.9", ""}});
  CHECK(c.mismatched() == 3);
  CHECK(mi::alpaca::differences_json(c.symbols[1].differences) ==
        R"([{"field":"volume","source":"201","ours":"200"}])");
  CHECK(mi::alpaca::differences_json({}) == "[]");
  CHECK(mi::alpaca::day_report_json(day(2026, 12, 2), "live", c) ==
        R"({"venue":"alpaca","trading_day":"2026-12-02","run":"live","symbols":4,"mismatched":3,"differences":[)"
        R"({"symbol":"MSFT","field":"volume","alpaca":"201","ours":"200"},)"
        R"({"symbol":"NVDA","field":"no_source_bar","alpaca":"","ours":"20.25"},)"
        R"({"symbol":"TSLA","field":"missing","alpaca":"9.9","ours":""}]})");
}
