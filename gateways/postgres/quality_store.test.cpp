// The daily job's PostgreSQL side (migration 0013) on a real server: the 1d klines of one trading day found by the
// session's open (not the day before or after, not another interval or venue), and quality rows replaced by a rerun.
#include "gateways/postgres/quality_store.hpp"

#include <doctest/doctest.h>

#include "gateways/postgres/postgres.hpp"
#include "tests/harness/pg_server.hpp"

namespace {

constexpr std::int64_t dec_2_open_ms = 1'796'221'800'000; // 2026-12-02 14:30:00Z = 09:30 New York (EST)
constexpr std::int64_t day_ms = 86'400'000;

mi::kline daily(const char* exchange, const char* symbol, const char* interval, std::int64_t open_ms,
                const char* close) {
  mi::kline k;
  k.exchange = exchange;
  k.symbol = symbol;
  k.interval = interval;
  k.open_time_ms = open_ms;
  k.close_time_ms = open_ms + 6 * 3'600'000 + 30 * 60'000 - 1;
  k.open = k.high = k.low = *mi::decimal::parse("100");
  k.close = *mi::decimal::parse(close);
  k.volume = *mi::decimal::parse("12");
  k.quote_volume = *mi::decimal::parse("1200");
  k.vwap = *mi::decimal::parse("100");
  k.trade_count = 3;
  k.first_trade_id = "1-V";
  k.last_trade_id = "3-V";
  k.is_final = true;
  return k;
}

} // namespace

TEST_CASE("quality store: the day's 1d klines by the session open, and a rerun replacing the day's rows") {
  mi::test::pg_server pg;
  auto applied = mi::gw::migrate(pg.conninfo());
  REQUIRE_MESSAGE(applied.has_value(), (applied ? "" : applied.err().message));
  auto w = mi::gw::pg_writer::connect(pg.conninfo());
  REQUIRE(w.has_value());
  REQUIRE((*w)
            ->upsert_klines({daily("alpaca", "AAPL", "1d", dec_2_open_ms, "101.5"),
                             daily("alpaca", "MSFT", "1d", dec_2_open_ms, "300"),
                             daily("alpaca", "AAPL", "1d", dec_2_open_ms - day_ms, "99"),
                             daily("alpaca", "AAPL", "1h", dec_2_open_ms, "100.5"),
                             daily("binance", "AAPL", "1d", dec_2_open_ms, "1")})
            .has_value());
  mi::gw::quality_store q(pg.conninfo());
  auto ours = q.daily_klines("alpaca", {"AAPL", "MSFT", "TSLA"}, dec_2_open_ms);
  REQUIRE_MESSAGE(ours.has_value(), (ours ? "" : ours.err().message));
  REQUIRE(ours->size() == 2);
  CHECK((*ours)[0].symbol == "AAPL");
  CHECK((*ours)[0].close.to_string() == "101.5");
  CHECK((*ours)[0].trade_count == 3);
  CHECK((*ours)[1].symbol == "MSFT");
  CHECK(q.daily_klines("alpaca", {}, dec_2_open_ms)->empty());

  mi::gw::quality_row row{"alpaca",
                          "AAPL",
                          "XNYS",
                          "2026-12-02",
                          "alpaca",
                          1,
                          R"([{"field":"volume","source":"13","ours":"12"}])",
                          1'796'300'000'000'000'000};
  REQUIRE(q.write({row}).has_value());
  row.mismatches = 0;
  row.differences_json = "[]";
  REQUIRE(*q.write({row}) == 1);
  CHECK(pg.psql("SELECT symbol || ' ' || trading_day || ' ' || mismatches || ' ' || differences::text || ' ' || "
                "checked_at FROM market_daily_quality") == "AAPL 2026-12-02 0 [] 2026-12-03 12:13:20+00");
}
