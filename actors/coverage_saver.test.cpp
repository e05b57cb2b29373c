#include "actors/coverage_saver.hpp"

#include <doctest/doctest.h>

#include "actors/backfill.hpp"

using mi::actors::gap_outcome;

TEST_CASE("coverage saver: each gap report the backfill writes reads back as the row it describes") {
  const mi::venue::gap g{101, 400, 7'200'000'000'000 + 5, 7'300'000'000'000};
  for (auto outcome : {gap_outcome::detected, gap_outcome::filled, gap_outcome::unfillable}) {
    auto json = mi::actors::gap_report_json("binance", "BTCUSDT", g, 300, "why", outcome);
    auto r = mi::actors::parse_gap_report("gapd:binance:BTCUSDT:101:400:7200000000005", json);
    REQUIRE(r);
    CHECK(r->outcome == mi::actors::to_string(outcome));
    CHECK(r->exchange == "binance");
    CHECK(r->symbol == "BTCUSDT");
    CHECK(r->first_id == 101);
    CHECK(r->last_id == 400);
    CHECK(r->trades == 300);
    CHECK(r->reason == "why");
    CHECK(r->hour_ms() == 7'200'000); // the hour of the gap's middle
  }
}

TEST_CASE("coverage saver: a gap across an hour boundary counts in the hour of its middle") {
  mi::gw::gap_record g;
  g.after_ts_ns = 3'599'900'000'000;  // 00:59:59.9
  g.before_ts_ns = 3'603'000'000'000; // 01:00:03
  CHECK(g.hour_ms() == 3'600'000);
  g.before_ts_ns = 3'600'050'000'000; // 01:00:00.05: the middle, 00:59:59.975, is before 01:00
  CHECK(g.hour_ms() == 0);
}

TEST_CASE("coverage saver: a report from before the outcome field is unfillable, and malformed ones are refused") {
  auto r = mi::actors::parse_gap_report(
    "id", R"({"exchange":"okx","symbol":"ETHUSDT","first_id":1,"last_id":2,"missing":2,"after_ts_ns":0,)"
          R"("before_ts_ns":3600000000001,"reason":"x"})");
  REQUIRE(r);
  CHECK(r->outcome == "unfillable");
  CHECK(r->hour_ms() == 3'600'000); // no trade before: the hour of the one after
  CHECK_FALSE(mi::actors::parse_gap_report("id", "[]"));
  CHECK_FALSE(mi::actors::parse_gap_report("id", R"({"exchange":"okx","symbol":"X","outcome":"maybe"})"));
  CHECK_FALSE(mi::actors::parse_gap_report("id", R"({"exchange":"okx","symbol":"X","first_id":"1"})"));
}
