#include "messages/kline/interval.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

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

namespace {
/// An interval's length read from its name alone ("15m" -> 15 * 60'000): a reference independent of the table.
/// 0 for a month ("1M": calendar months have no fixed length).
std::int64_t length_from_name(std::string_view name) {
  const char unit = name.back();
  const std::int64_t n = std::stoll(std::string(name.substr(0, name.size() - 1)));
  switch (unit) {
  case 's':
    return n * 1000;
  case 'm':
    return n * 60'000;
  case 'h':
    return n * 3'600'000;
  case 'd':
    return n * day;
  case 'w':
    return n * 7 * day;
  case 'M':
    return 0;
  }
  FAIL("unexpected unit in ", name);
  return -1;
}
} // namespace

TEST_CASE("the interval table: Binance's sixteen names in order, each length as its name says") {
  using mi::kline_engine::all_intervals;
  using unit = mi::kline_engine::interval::unit;
  // Binance's sixteen, in this order (a table may add more between them: the check is a subsequence).
  const std::vector<std::string_view> binance{"1s", "1m", "3m", "5m",  "15m", "30m", "1h", "2h",
                                              "4h", "6h", "8h", "12h", "1d",  "3d",  "1w", "1M"};
  std::size_t found = 0;
  for (const auto& spec : all_intervals())
    if (found < binance.size() && spec.name == binance[found])
      ++found;
  CHECK(found == binance.size());
  const std::string names = mi::kline_engine::interval_names();
  CHECK(names.rfind("1s 1m ", 0) == 0);
  CHECK(names.size() >= 3);
  CHECK(names.substr(names.size() - 3) == " 1M"); // a calendar month is the longest
  CHECK(mi::kline_engine::interval_names(",").rfind("1s,1m,", 0) == 0);
  // Hand-written: the length in ms of a few, not derived from any table.
  CHECK(parse_interval("1s")->length_ms == 1000);
  CHECK(parse_interval("15m")->length_ms == 900'000);
  CHECK(parse_interval("12h")->length_ms == 43'200'000);
  CHECK(parse_interval("3d")->length_ms == 259'200'000);
  CHECK(parse_interval("1w")->length_ms == 604'800'000);
  std::int64_t previous = 0;
  for (const auto& spec : all_intervals()) {
    CAPTURE(spec.name);
    CHECK(spec.length_ms == length_from_name(spec.name));
    CHECK(spec.kind == (spec.name.back() == 'M' ? unit::month : spec.name.back() == 'w' ? unit::week : unit::fixed));
    if (spec.kind != unit::month) {
      CHECK(spec.length_ms > previous); // shortest first, no two of one length
      previous = spec.length_ms;
    } else {
      CHECK(&spec == &all_intervals().back()); // a month is longer than any fixed window
    }
  }
}

TEST_CASE("the interval table and the engine agree: every name parses to its line, and windows are that long") {
  using unit = mi::kline_engine::interval::unit;
  const std::int64_t t = 1'735'689'600'000 + 12'345'678; // 2025-01-01 03:25:45.678 UTC
  for (const auto& spec : mi::kline_engine::all_intervals()) {
    CAPTURE(spec.name);
    auto iv = parse_interval(spec.name);
    REQUIRE(iv.has_value());
    CHECK(iv->name == spec.name);
    CHECK(iv->kind == spec.kind);
    const std::int64_t open = iv->open_of(t);
    CHECK(open <= t);
    CHECK(iv->next_open(open) > t);
    CHECK(iv->open_of(iv->next_open(open)) == iv->next_open(open));
    if (spec.kind != unit::month)
      CHECK(iv->next_open(open) - open == spec.length_ms);
    else
      CHECK(iv->next_open(open) - open == 31 * day); // January 2025
  }
}
