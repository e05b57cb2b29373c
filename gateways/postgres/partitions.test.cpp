#include "gateways/postgres/partitions.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "gateways/postgres/postgres.hpp"
#include "tests/harness/pg_server.hpp"

namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000LL;
// 2026-11-22 07:00:00 UTC
constexpr std::int64_t now_ns = 1'795'330'800LL * ns_per_s;

mi::decimal dec(const char* text) {
  auto d = mi::decimal::parse(text);
  REQUIRE_MESSAGE(d.has_value(), text);
  return *d;
}

mi::trade trade_at(std::int64_t ts_ns, const std::string& id) {
  mi::trade t;
  t.exchange = "binance";
  t.symbol = "BTCUSDT";
  t.base = "BTC";
  t.quote = "USDT";
  t.trade_id = id;
  t.price = dec("16500.12");
  t.quantity = dec("0.001");
  t.taker_side = mi::side::buy;
  t.ts_ns = ts_ns;
  t.recv_ns = ts_ns + 1000;
  return t;
}

mi::kline kline_at(std::int64_t open_time_ms) {
  mi::kline k;
  k.exchange = "binance";
  k.symbol = "BTCUSDT";
  k.interval = "1m";
  k.open_time_ms = open_time_ms;
  k.close_time_ms = open_time_ms + 59'999;
  k.open = k.high = k.low = k.close = k.vwap = dec("16500.12");
  k.volume = k.taker_buy_volume = dec("0.001");
  k.quote_volume = k.taker_buy_quote_volume = dec("16.50012");
  k.trade_count = 1;
  k.first_trade_id = k.last_trade_id = "1";
  k.is_final = true;
  return k;
}

std::vector<std::string> names(const mi::result<std::vector<std::string>>& r) {
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.err().message));
  return *r;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

mi::gw::partition_report maintain(const std::string& dsn, const mi::gw::partition_policy& p, std::int64_t now) {
  auto r = mi::gw::maintain_partitions(dsn, p, now);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.err().message));
  return *r;
}

struct migrated {
  mi::test::pg_server pg;
  migrated() {
    auto applied = mi::gw::migrate(pg.conninfo());
    REQUIRE_MESSAGE(applied.has_value(), (applied ? "" : applied.err().message));
  }
  std::unique_ptr<mi::gw::pg_writer> writer() {
    auto w = mi::gw::pg_writer::connect(pg.conninfo());
    REQUIRE_MESSAGE(w.has_value(), (w ? "" : w.err().message));
    return std::move(*w);
  }
};

} // namespace

TEST_CASE("partition names and bounds are UTC days and months, across year ends and leap days") {
  auto d = mi::gw::trade_partition(mi::gw::day_of(now_ns));
  CHECK(d.name == "market_trades_p20261122");
  CHECK(d.from == "2026-11-22 00:00:00+00");
  CHECK(d.to == "2026-11-23 00:00:00+00");
  auto leap = mi::gw::trade_partition(mi::gw::day_of(951'782'400LL * ns_per_s)); // 2000-02-29
  CHECK(leap.name == "market_trades_p20000229");
  CHECK(leap.to == "2000-03-01 00:00:00+00");
  auto m = mi::gw::kline_partition(mi::gw::month_of(now_ns) + 1);
  CHECK(m.name == "market_klines_p202612");
  CHECK(m.from == "2026-12-01 00:00:00+00");
  CHECK(m.to == "2027-01-01 00:00:00+00");
  CHECK(mi::gw::day_of(-1) == -1); // 1969-12-31
  CHECK(mi::gw::month_of(0) == 0);
}

TEST_CASE("wanted partitions: today plus N days of trades, this month plus 2 of klines and of each monthly table") {
  mi::gw::partition_policy p;
  p.ahead_days = 7;
  auto want = mi::gw::wanted_partitions(p, now_ns);
  REQUIRE(want.size() == 8 + 3 + 3 + 3 + 3 + 3);
  CHECK(want.front().name == "market_trades_p20261122");
  CHECK(want[7].name == "market_trades_p20261129");
  CHECK(want[8].name == "market_klines_p202611");
  CHECK(want[10].name == "market_klines_p202701");
  CHECK(want[11].name == "market_bbo_p202611");
  CHECK(want[11].from == "2026-11-01 00:00:00+00");
  CHECK(want[11].to == "2026-12-01 00:00:00+00");
  CHECK(want[16].name == "market_book_snapshots_p202701");
  CHECK(want[19].name == "market_quotes_p202701");
  CHECK(want.back().name == "market_derivatives_p202701");
  // Without trades and klines (TimescaleDB makes their chunks): the monthly tables' months only.
  auto books = mi::gw::wanted_partitions(p, now_ns, false);
  REQUIRE(books.size() == 12);
  CHECK(books.front().name == "market_bbo_p202611");
}

TEST_CASE("retention selects only partitions wholly older than it, never DEFAULT or foreign tables") {
  std::vector<std::string> existing{
    "market_trades_default",   "market_trades_p20261113",       "market_trades_p20261114", "market_trades_p20261115",
    "market_trades_p20261122", "market_trades_p20261399",       "market_klines_default",   "market_klines_p202608",
    "market_klines_p202609",   "market_klines_p202611",         "something_else",          "market_bbo_p202608",
    "market_bbo_p202610",      "market_book_snapshots_p202607", "market_bbo_p2026",        "market_quotes_p202606"};
  mi::gw::partition_policy p;
  CHECK(mi::gw::partitions_past_retention(existing, p, now_ns).empty()); // 0 = keep forever
  p.retention_days_trades = 7;   // today 2026-11-22: rows before 11-15 are older than 7 days
  p.retention_months_klines = 2; // this month 2026-11: months before 2026-09 go
  auto drop = mi::gw::partitions_past_retention(existing, p, now_ns);
  CHECK(drop ==
        std::vector<std::string>{"market_trades_p20261113", "market_trades_p20261114", "market_klines_p202608"});
  p.retention_months_books = 3; // months before 2026-08 go
  drop = mi::gw::partitions_past_retention(existing, p, now_ns);
  CHECK(drop == std::vector<std::string>{"market_trades_p20261113", "market_trades_p20261114", "market_klines_p202608",
                                         "market_book_snapshots_p202607"});
  p.retention_months_quotes = 5; // quotes keep their own retention: months before 2026-06 go, 2026-06 stays
  CHECK(mi::gw::partitions_past_retention(existing, p, now_ns) == drop);
  p.retention_months_quotes = 4; // months before 2026-07 go
  drop.push_back("market_quotes_p202606");
  CHECK(mi::gw::partitions_past_retention(existing, p, now_ns) == drop);
}

TEST_CASE("after maintenance the partitions ahead exist, and a second run creates nothing") {
  migrated db;
  mi::gw::partition_policy p;
  p.ahead_days = 3;
  auto first = maintain(db.pg.conninfo(), p, now_ns);
  CHECK(first.created.size() == 4 + 3 + 3 + 3 + 3 + 3);
  auto trades = names(mi::gw::list_partitions(db.pg.conninfo(), "market_trades"));
  CHECK(trades == std::vector<std::string>{"market_trades_default", "market_trades_p20261122",
                                           "market_trades_p20261123", "market_trades_p20261124",
                                           "market_trades_p20261125"});
  auto klines = names(mi::gw::list_partitions(db.pg.conninfo(), "market_klines"));
  CHECK(klines == std::vector<std::string>{"market_klines_default", "market_klines_p202611", "market_klines_p202612",
                                           "market_klines_p202701"});
  CHECK(
    names(mi::gw::list_partitions(db.pg.conninfo(), "market_bbo")) ==
    std::vector<std::string>{"market_bbo_default", "market_bbo_p202611", "market_bbo_p202612", "market_bbo_p202701"});
  CHECK(names(mi::gw::list_partitions(db.pg.conninfo(), "market_book_snapshots")).size() == 4);
  auto second = maintain(db.pg.conninfo(), p, now_ns);
  CHECK(second.created.empty());
  CHECK(second.dropped.empty());
  // Each partition carries the (exchange, symbol, ts DESC) index of its parent.
  CHECK(db.pg.psql("SELECT count(*) FROM pg_indexes WHERE tablename = 'market_trades_p20261123' AND indexdef LIKE "
                   "'%(exchange, symbol, ts DESC)%'") == "1");
}

TEST_CASE("rows across a day and a month boundary land in their partitions, an unexpected date in DEFAULT") {
  migrated db;
  mi::gw::partition_policy p;
  p.ahead_days = 10; // 2026-11-22 .. 2026-12-02: crosses the month end
  maintain(db.pg.conninfo(), p, now_ns);
  auto w = db.writer();
  const std::int64_t midnight_dec1 = 1'796'083'200LL * ns_per_s; // 2026-12-01 00:00:00 UTC
  std::vector<mi::trade> batch{trade_at(midnight_dec1 - 1, "1"), trade_at(midnight_dec1, "2"),
                               trade_at(midnight_dec1 + 86'400 * ns_per_s, "3"),
                               trade_at(1'600'000'000LL * ns_per_s, "4")}; // 2020: no partition
  auto n = w->write_trades(batch);
  REQUIRE_MESSAGE(n.has_value(), (n ? "" : n.err().message));
  CHECK(*n == 4);
  CHECK(db.pg.psql("SELECT string_agg(trade_id || ':' || tableoid::regclass::text, ',' ORDER BY trade_id) FROM "
                   "market_trades") ==
        "1:market_trades_p20261130,2:market_trades_p20261201,3:market_trades_p20261202,4:market_trades_default");
  auto k = w->upsert_klines({kline_at(midnight_dec1 / 1'000'000 - 60'000), kline_at(midnight_dec1 / 1'000'000)});
  REQUIRE_MESSAGE(k.has_value(), (k ? "" : k.err().message));
  CHECK(db.pg.psql("SELECT string_agg(tableoid::regclass::text, ',' ORDER BY open_time) FROM market_klines") ==
        "market_klines_p202611,market_klines_p202612");

  // The DEFAULT row is reported, and moved when its day's partition is created (here: by
  // running maintenance "in 2020").
  auto seen = maintain(db.pg.conninfo(), p, now_ns);
  CHECK(seen.default_rows_trades == 1);
  mi::gw::partition_policy p2020;
  p2020.ahead_days = 0;
  auto moved = maintain(db.pg.conninfo(), p2020, 1'600'000'000LL * ns_per_s);
  CHECK(contains(moved.created, "market_trades_p20200913"));
  CHECK(moved.moved_from_default == 1);
  CHECK(moved.default_rows_trades == 0);
  CHECK(db.pg.psql("SELECT tableoid::regclass::text FROM market_trades WHERE trade_id = '4'") ==
        "market_trades_p20200913");
  CHECK(db.pg.psql("SELECT count(*) FROM market_trades") == "4");
  // Dedup still holds across partitions: the same batch again inserts nothing.
  auto again = w->write_trades(batch);
  REQUIRE(again.has_value());
  CHECK(*again == 0);
}

TEST_CASE("retention drops only the partitions older than it, with their rows, and keeps the rest") {
  migrated db;
  mi::gw::partition_policy p;
  p.ahead_days = 0;
  // Partitions for 2026-11-10 .. 2026-11-22 and months 2026-07 .. 2026-11, one row each.
  auto w = db.writer();
  for (int back = 12; back >= 0; --back) {
    auto t = now_ns - back * 86'400 * ns_per_s;
    maintain(db.pg.conninfo(), p, t);
    REQUIRE(w->write_trades({trade_at(t, std::to_string(back))}).has_value());
  }
  for (std::int64_t month_start_s : {1'782'864'000LL, 1'785'542'400LL, 1'788'220'800LL, 1'790'812'800LL}) // 2026-07..10
    maintain(db.pg.conninfo(), p, month_start_s * ns_per_s);
  p.retention_days_trades = 7;
  p.retention_months_klines = 2;
  auto r = maintain(db.pg.conninfo(), p, now_ns);
  std::string dropped;
  for (const auto& n : r.dropped)
    dropped += n + " ";
  INFO("dropped: ", dropped);
  // The month runs also created their day's trade partition (07-01 .. 10-01): old, so dropped.
  CHECK(r.dropped ==
        std::vector<std::string>{"market_trades_p20260701", "market_trades_p20260801", "market_trades_p20260901",
                                 "market_trades_p20261001", "market_trades_p20261110", "market_trades_p20261111",
                                 "market_trades_p20261112", "market_trades_p20261113", "market_trades_p20261114",
                                 "market_klines_p202607", "market_klines_p202608"});
  CHECK(db.pg.psql("SELECT min(trade_id::int) || '..' || max(trade_id::int) || ' ' || count(*) FROM market_trades") ==
        "0..7 8"); // 11-15 (7 days back) .. 11-22 kept
  // The /symbols summary lost the dropped rows too (reference: the rows themselves).
  CHECK(db.pg.psql("SELECT first_ts_ns || ' ' || last_ts_ns || ' ' || trade_count FROM market_symbols") ==
        db.pg.psql("SELECT min(ts_ns) || ' ' || max(ts_ns) || ' ' || count(*) FROM market_trades"));
  auto trades = names(mi::gw::list_partitions(db.pg.conninfo(), "market_trades"));
  CHECK(trades.front() == "market_trades_default");
  CHECK(trades[1] == "market_trades_p20261115");
  auto klines = names(mi::gw::list_partitions(db.pg.conninfo(), "market_klines"));
  CHECK(klines == std::vector<std::string>{"market_klines_default", "market_klines_p202609", "market_klines_p202610",
                                           "market_klines_p202611", "market_klines_p202612", "market_klines_p202701"});
}

TEST_CASE("migrating a 0001 database that holds data keeps every row, then re-running migrate is a no-op") {
  mi::test::pg_server pg;
  const auto& all = mi::gw::embedded_migrations();
  REQUIRE(all.size() >= 2);
  REQUIRE(all[1].name == "0002_partitions.sql");
  // A database as the previous release left it: only 0001 applied.
  pg.psql("CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());" +
          std::string(all[0].sql) + "; INSERT INTO schema_migrations (version) VALUES ('0001')");
  std::vector<mi::trade> trades;
  for (int i = 0; i < 3000; ++i) // ~2.5 days of trades at one a minute, across a month end
    trades.push_back(trade_at(1'796'083'200LL * ns_per_s + (i - 1500) * 60 * ns_per_s + i, std::to_string(i)));
  std::vector<mi::kline> klines{kline_at(1'796'083'200'000LL - 60'000), kline_at(1'796'083'200'000LL)};
  {
    // Today's writer also keeps market_symbols (0005): give it a scratch one, gone before migrate.
    pg.psql("CREATE TABLE market_symbols (exchange text, symbol text, first_ts_ns bigint, last_ts_ns bigint, "
            "trade_count bigint, PRIMARY KEY (exchange, symbol))");
    auto w = mi::gw::pg_writer::connect(pg.conninfo());
    REQUIRE(w.has_value());
    REQUIRE((*w)->write_trades(trades).has_value());
    REQUIRE((*w)->upsert_klines(klines).has_value());
    pg.psql("DROP TABLE market_symbols");
  }
  auto before_t = mi::gw::read_trades(pg.conninfo());
  auto before_k = mi::gw::read_klines(pg.conninfo());
  REQUIRE(before_t.has_value());
  REQUIRE(before_k.has_value());
  REQUIRE(before_t->size() == 3000);

  auto applied = mi::gw::migrate(pg.conninfo());
  REQUIRE_MESSAGE(applied.has_value(), (applied ? "" : applied.err().message));
  CHECK(applied->front() == "0002");

  auto after_t = mi::gw::read_trades(pg.conninfo());
  auto after_k = mi::gw::read_klines(pg.conninfo());
  REQUIRE(after_t.has_value());
  REQUIRE(after_k.has_value());
  CHECK(*after_t == *before_t);
  CHECK(*after_k == *before_k);
  CHECK(pg.psql("SELECT relkind FROM pg_class WHERE relname = 'market_trades'") == "p");
  CHECK(pg.psql("SELECT count(*) FROM market_trades_default") == "0");         // every old day got its partition
  CHECK(pg.psql("SELECT count(DISTINCT tableoid) FROM market_trades") == "4"); // 11-29, 11-30, 12-01, 12-02
  CHECK(pg.psql("SELECT string_agg(tableoid::regclass::text, ',' ORDER BY open_time) FROM market_klines") ==
        "market_klines_p202611,market_klines_p202612");

  // 0005 summarised what was already stored.
  CHECK(pg.psql("SELECT first_ts_ns || ' ' || last_ts_ns || ' ' || trade_count FROM market_symbols") ==
        pg.psql("SELECT min(ts_ns) || ' ' || max(ts_ns) || ' ' || count(*) FROM market_trades"));

  auto again = mi::gw::migrate(pg.conninfo());
  REQUIRE(again.has_value());
  CHECK(again->empty());
  CHECK(pg.psql("SELECT count(*) FROM market_trades") == "3000");
}

TEST_CASE("TimescaleDB is used only when installed and preloaded, with a reason when it cannot be") {
  std::string why;
  CHECK_FALSE(mi::gw::use_timescale(false, "timescaledb", why));
  CHECK(why.empty()); // not installed: the normal case, nothing to warn about
  CHECK(mi::gw::use_timescale(true, "timescaledb", why));
  CHECK(why.empty());
  CHECK(mi::gw::use_timescale(true, "pg_stat_statements, \"timescaledb\"", why));
  CHECK_FALSE(mi::gw::use_timescale(true, "", why));
  CHECK(why.find("not in shared_preload_libraries") != std::string::npos);
  CHECK_FALSE(mi::gw::use_timescale(true, "timescaledb_toolkit", why));
  CHECK(why.find("native partitions") != std::string::npos);
}
