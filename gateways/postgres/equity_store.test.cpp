// Equity quotes and daily bars (migration 0009) written on a real PostgreSQL: exact decimals, absent fields as
// NULL, a quote written twice kept once, a revised daily bar replacing the old values, rows in their partition.
#include "gateways/postgres/equity_store.hpp"

#include <doctest/doctest.h>

#include "gateways/postgres/partitions.hpp"
#include "gateways/postgres/postgres.hpp"
#include "tests/harness/pg_server.hpp"

namespace {

constexpr std::int64_t nov_30_0700_ns = 1'796'022'000'123'456'789; // 2026-11-30 07:00:00.123456789 UTC

market::v1::Quote cn_quote() {
  market::v1::Quote q;
  q.set_venue("cn");
  q.set_symbol("600000.SH");
  q.set_source("tencent");
  q.set_ts_ns(nov_30_0700_ns);
  q.set_trading_day("2026-11-30");
  q.set_last("10.07");
  auto* b = q.add_bids();
  b->set_price("10.06");
  b->set_size("123400");
  auto* a = q.add_asks();
  a->set_price("10.07");
  a->set_size("500");
  q.set_volume("12345600");
  q.set_turnover("124311234.56");
  q.set_currency("CNY");
  return q; // no open/high/low/prev_close: NULL
}

market::v1::DailyBar alpaca_bar(std::string close, std::int64_t fetched_ns) {
  market::v1::DailyBar b;
  b.set_venue("alpaca");
  b.set_symbol("AAPL");
  b.set_market("XNYS");
  b.set_trading_day("2026-11-27");
  b.set_source("alpaca");
  b.set_adjustment(market::v1::ADJUSTMENT_NONE);
  b.set_open("277.0000");
  b.set_high("279.5");
  b.set_low("276.12");
  b.set_close(std::move(close));
  b.set_volume("20135620");
  b.set_vwap("278.1033");
  b.set_trade_count(-1); // the source has none
  b.set_fetched_at_ns(fetched_ns);
  return b;
}

} // namespace

TEST_CASE("equity store: a quote stored exactly and once, a daily bar revised by a later fetch, a bar without "
          "adjustment refused") {
  mi::test::pg_server pg;
  auto applied = mi::gw::migrate(pg.conninfo());
  REQUIRE_MESSAGE(applied.has_value(), (applied ? "" : applied.err().message));
  mi::gw::partition_policy p;
  auto parts = mi::gw::maintain_partitions(pg.conninfo(), p, nov_30_0700_ns);
  REQUIRE_MESSAGE(parts.has_value(), (parts ? "" : parts.err().message));

  mi::gw::equity_writer w(pg.conninfo());
  auto first = w.write({cn_quote()}, {alpaca_bar("278.85", nov_30_0700_ns)});
  REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.err().message));
  CHECK(*first == 2);
  CHECK(pg.psql("SELECT count(*) FROM market_quotes_p202611") == "1");
  CHECK(pg.psql("SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), trading_day, last, bids, asks, "
                "volume, turnover, open IS NULL, currency FROM market_quotes") ==
        "2026-11-30 07:00:00.123456|2026-11-30|10.07|[[\"10.06\", \"123400\"]]|[[\"10.07\", \"500\"]]|12345600|"
        "124311234.56|t|CNY");
  CHECK(pg.psql("SELECT open, close, vwap, trade_count IS NULL, turnover IS NULL, adjustment FROM market_daily_bars") ==
        "277.0000|278.85|278.1033|t|t|none");

  auto again = w.write({cn_quote()}, {alpaca_bar("278.85", nov_30_0700_ns + 1'000'000'000)});
  REQUIRE(again.has_value());
  CHECK(*again == 0); // a redelivered quote and an unchanged bar: nothing written

  auto revised = w.write({}, {alpaca_bar("278.86", nov_30_0700_ns + 2'000'000'000)});
  REQUIRE(revised.has_value());
  CHECK(*revised == 1);
  auto stale = w.write({}, {alpaca_bar("1", nov_30_0700_ns)}); // an older fetch never overwrites a newer one
  REQUIRE(stale.has_value());
  CHECK(*stale == 0);
  CHECK(pg.psql("SELECT close FROM market_daily_bars") == "278.86");

  auto bad = alpaca_bar("1", nov_30_0700_ns);
  bad.set_adjustment(market::v1::ADJUSTMENT_UNSPECIFIED);
  auto refused = w.write({cn_quote()}, {bad});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.err().message.find("AAPL") != std::string::npos);
  CHECK(pg.psql("SELECT count(*) FROM market_daily_bars") == "1");
}
