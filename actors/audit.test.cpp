#include "actors/audit.hpp"

#include <doctest/doctest.h>

TEST_CASE("compare_hours reports each differing cell once, a cell missing on one side as 0") {
  using mi::actors::hour_counts;
  const std::int64_t h0 = 1'795'330'800'000, h1 = h0 + 3'600'000;
  hour_counts stream{{{"binance", "BTCUSDT", h0}, 60}, {{"binance", "ETHUSDT", h0}, 60}, {{"okx", "BTCUSDT", h1}, 5}};
  hour_counts db{{{"binance", "BTCUSDT", h0}, 60}, {{"binance", "ETHUSDT", h0}, 59}, {{"binance", "BTCUSDT", h1}, 3}};
  mi::actors::audit_report r;
  mi::actors::compare_hours(stream, db, r);
  CHECK(r.hours_checked == 4);
  CHECK(r.trade_mismatches == 3);
  CHECK_FALSE(r.clean());
  REQUIRE(r.lines.size() == 3);
  CHECK(r.lines[0] == "trades binance BTCUSDT hour 2026-11-22T08:00:00Z: MARKET_RAW 0, market_trades 3 "
                      "(3 not in the stream)");
  CHECK(r.lines[1] == "trades binance ETHUSDT hour 2026-11-22T07:00:00Z: MARKET_RAW 60, market_trades 59 "
                      "(missing 1 in the database)");
  CHECK(r.lines[2] == "trades okx BTCUSDT hour 2026-11-22T08:00:00Z: MARKET_RAW 5, market_trades 0 "
                      "(missing 5 in the database)");
  // Every cell compared is kept with both counts (market_audits: coverage's audit column).
  REQUIRE(r.cells.size() == 4);
  CHECK(r.cells[1].symbol == "BTCUSDT");
  CHECK(r.cells[1].hour_ms == h1);
  CHECK(r.cells[1].stream_trades == 0);
  CHECK(r.cells[1].stored_trades == 3);

  mi::actors::audit_report same;
  mi::actors::compare_hours(stream, stream, same);
  CHECK(same.clean());
  CHECK(same.lines.empty());
  CHECK(same.hours_checked == 3);
}
