// Order-book samples (migration 0008) written and read back on a real PostgreSQL: exact decimals, empty sides as
// NULL, a sample written twice kept once, rows landing in their monthly partition.
#include "gateways/postgres/book_store.hpp"

#include <doctest/doctest.h>

#include "gateways/postgres/history_reader.hpp"
#include "gateways/postgres/partitions.hpp"
#include "gateways/postgres/postgres.hpp"
#include "tests/harness/pg_server.hpp"

using mi::book::wire_level;

namespace {

constexpr std::int64_t nov_30_2359_ms = 1'796'083'140'000; // 2026-11-30 23:59:00 UTC
constexpr std::int64_t dec_01_0000_ms = 1'796'083'200'000; // 2026-12-01 00:00:00 UTC

} // namespace

TEST_CASE("book samples: stored exactly, NULL for an empty side, once when written twice, read back by the API's "
          "queries in order") {
  mi::test::pg_server pg;
  auto applied = mi::gw::migrate(pg.conninfo());
  REQUIRE_MESSAGE(applied.has_value(), (applied ? "" : applied.err().message));
  mi::gw::partition_policy p;
  auto parts = mi::gw::maintain_partitions(pg.conninfo(), p, nov_30_2359_ms * 1'000'000);
  REQUIRE_MESSAGE(parts.has_value(), (parts ? "" : parts.err().message));

  const std::vector<mi::gw::bbo_sample> bbos{
    {"kraken", "BTCUSDT", nov_30_2359_ms, wire_level{"99999.12345678", "0.00000001"}, wire_level{"100000", "12"}, 41},
    {"kraken", "BTCUSDT", dec_01_0000_ms, wire_level{"99999.5", "1"}, std::nullopt, 42},
    {"okx", "BTCUSDT", dec_01_0000_ms, std::nullopt, wire_level{"7", "3"}, 9}};
  const std::vector<mi::gw::book_sample> books{{"kraken",
                                                "BTCUSDT",
                                                nov_30_2359_ms,
                                                3,
                                                {{"99999.12345678", "0.00000001"}, {"99999", "2.5"}},
                                                {{"100000", "12"}},
                                                41},
                                               {"kraken", "BTCUSDT", dec_01_0000_ms, 3, {}, {}, 42}};
  mi::gw::book_sample_writer w(pg.conninfo());
  auto first = w.write(bbos, books);
  REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.err().message));
  CHECK(*first == 5);
  auto again = w.write(bbos, books); // a second store node, or a retry
  REQUIRE(again.has_value());
  CHECK(*again == 0);
  CHECK(pg.psql("SELECT count(*) FROM market_bbo_p202611") == "1");
  CHECK(pg.psql("SELECT count(*) FROM market_bbo_p202612") == "2");
  CHECK(pg.psql("SELECT count(*) FROM market_bbo_default") == "0");
  CHECK(pg.psql("SELECT bid_price IS NULL FROM market_bbo WHERE exchange = 'okx'") == "t");

  auto db = mi::gw::history_db::connect(pg.conninfo());
  REQUIRE(db.has_value());
  auto all = (*db)->bbo({"kraken", "BTCUSDT", std::nullopt, std::nullopt, 500});
  REQUIRE(all.has_value());
  CHECK(*all == std::vector<mi::gw::bbo_sample>{bbos[0], bbos[1]});
  auto from = (*db)->bbo({"kraken", "BTCUSDT", dec_01_0000_ms, std::nullopt, 500});
  REQUIRE(from.has_value());
  CHECK(*from == std::vector<mi::gw::bbo_sample>{bbos[1]});
  auto last_one = (*db)->bbo({"kraken", "BTCUSDT", std::nullopt, std::nullopt, 1});
  REQUIRE(last_one.has_value());
  CHECK(*last_one == std::vector<mi::gw::bbo_sample>{bbos[1]});

  auto latest = (*db)->book("kraken", "BTCUSDT", std::nullopt);
  REQUIRE(latest.has_value());
  REQUIRE(latest->has_value());
  CHECK(**latest == books[1]);
  auto before = (*db)->book("kraken", "BTCUSDT", dec_01_0000_ms - 1);
  REQUIRE(before.has_value());
  REQUIRE(before->has_value());
  CHECK(**before == books[0]);
  auto none = (*db)->book("kraken", "ETHUSDT", std::nullopt);
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("book samples: a write to an unreachable database is an error, and the writer recovers") {
  mi::test::pg_server pg;
  REQUIRE(mi::gw::migrate(pg.conninfo()).has_value());
  mi::gw::book_sample_writer bad("host=127.0.0.1 port=1 dbname=none connect_timeout=2");
  auto r = bad.write({{"kraken", "BTCUSDT", dec_01_0000_ms, std::nullopt, std::nullopt, 1}}, {});
  CHECK_FALSE(r.has_value());
  mi::gw::book_sample_writer good(pg.conninfo());
  auto ok = good.write({{"kraken", "BTCUSDT", dec_01_0000_ms, std::nullopt, std::nullopt, 1}}, {});
  REQUIRE(ok.has_value());
  CHECK(*ok == 1);
}
