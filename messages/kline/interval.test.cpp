#include "messages/kline/interval.hpp"

#include <doctest/doctest.h>

using mi::kline_engine::parse_interval;

namespace {
// 2024-12-30 (a Monday) 00:00:00 UTC in ms.
constexpr std::int64_t mon_2024_12_30 = 1735516800000;
constexpr std::int64_t day = 86'400'000;
} // namespace

TEST_CASE("fixed intervals align to the epoch") {
  auto m1 = *parse_interval("1m");
  CHECK(m1.open_of(1617566591314) == 1617566580000);
  CHECK(m1.next_open(1617566580000) == 1617566640000);
  CHECK(m1.open_of(1617566580000) == 1617566580000); // exactly at the start
  CHECK(m1.open_of(1617566639999) == 1617566580000); // end minus 1 ms
  auto h4 = *parse_interval("4h");
  CHECK(h4.open_of(1617566591314) == 1617566400000);
  CHECK(parse_interval("1s")->open_of(1999) == 1000);
}

TEST_CASE("weekly windows open on Monday 00:00 UTC, across a year boundary") {
  auto w = *parse_interval("1w");
  // 2025-01-01 is a Wednesday: its week opened Monday 2024-12-30.
  CHECK(w.open_of(mon_2024_12_30 + 2 * day + 5) == mon_2024_12_30);
  CHECK(w.open_of(mon_2024_12_30) == mon_2024_12_30);
  CHECK(w.open_of(mon_2024_12_30 - 1) == mon_2024_12_30 - 7 * day);
  CHECK(w.next_open(mon_2024_12_30) == mon_2024_12_30 + 7 * day);
}

TEST_CASE("monthly windows follow the calendar, across a year boundary") {
  auto m = *parse_interval("1M");
  constexpr std::int64_t dec_1_2024 = 1733011200000;
  constexpr std::int64_t jan_1_2025 = 1735689600000;
  constexpr std::int64_t feb_1_2025 = 1738368000000;
  CHECK(m.open_of(jan_1_2025 - 1) == dec_1_2024);
  CHECK(m.open_of(jan_1_2025) == jan_1_2025);
  CHECK(m.next_open(dec_1_2024) == jan_1_2025);
  CHECK(m.next_open(jan_1_2025) == feb_1_2025);
  // 2024 is a leap year: Feb has 29 days
  constexpr std::int64_t feb_1_2024 = 1706745600000;
  CHECK(m.next_open(feb_1_2024) - feb_1_2024 == 29 * day);
}

TEST_CASE("unknown interval names are rejected with the accepted list") {
  auto r = parse_interval("2m");
  REQUIRE(!r.has_value());
  CHECK(r.err().message.find("expected one of 1s 1m") != std::string::npos);
}
