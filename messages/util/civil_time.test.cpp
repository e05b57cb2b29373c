#include "messages/util/civil_time.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "messages/util/floor_div.hpp"

using namespace mi::util;

// Reference values: `date -u -d <date> +%s` (GNU coreutils) divided by 86400, by hand.

TEST_CASE("floor_div rounds toward negative infinity") {
  CHECK(floor_div(7, 2) == 3);
  CHECK(floor_div(-7, 2) == -4);
  CHECK(floor_div(-8, 2) == -4);
  CHECK(floor_div(7, -2) == -4);
  CHECK(floor_div(-1, 1'000'000) == -1);
  CHECK(floor_div(0, 5) == 0);
  CHECK(floor_mod(-1, 86'400) == 86'399);
  CHECK(floor_mod(86'400, 86'400) == 0);
}

TEST_CASE("days_from_civil and civil_from_days agree with hand-computed epoch days") {
  struct ref {
    std::int64_t y;
    unsigned m, d;
    std::int64_t days;
  };
  const ref refs[] = {
    {1970, 1, 1, 0},           {1969, 12, 31, -1},    {2024, 2, 29, 19'782}, {2000, 3, 1, 11'017},
    {1900, 3, 1, -25'508},     {1900, 1, 1, -25'567}, {2100, 2, 28, 47'540}, {2100, 3, 1, 47'541},
    {1600, 2, 29, -135'081},   {2024, 1, 31, 19'753}, {2023, 2, 28, 19'416}, {2024, 7, 1, 19'905},
    {9999, 12, 31, 2'932'896},
  };
  for (const auto& r : refs) {
    CAPTURE(r.y);
    CAPTURE(r.m);
    CAPTURE(r.d);
    CHECK(days_from_civil(r.y, r.m, r.d) == r.days);
    CHECK(civil_from_days(r.days) == civil_date{r.y, r.m, r.d});
  }
  // Leap years: 2024 and 2000 have a 29 February, 1900 and 2100 do not.
  CHECK(civil_from_days(days_from_civil(2024, 2, 28) + 1) == civil_date{2024, 2, 29});
  CHECK(civil_from_days(days_from_civil(1900, 2, 28) + 1) == civil_date{1900, 3, 1});
  CHECK(civil_from_days(days_from_civil(2000, 2, 28) + 1) == civil_date{2000, 2, 29});
  // A day past the month's end counts on (the partition name check relies on the round trip failing).
  CHECK(civil_from_days(days_from_civil(2023, 2, 31)) == civil_date{2023, 3, 3});
}

TEST_CASE("dates beyond date::year's range still round-trip") {
  for (std::int64_t y : {-1'000'000LL, -40'000LL, -1LL, 0LL, 40'000LL, 290'000'000LL}) {
    CAPTURE(y);
    const auto feb28 = days_from_civil(y, 2, 28);
    CHECK(civil_from_days(feb28) == civil_date{y, 2, 28});
    CHECK(days_from_civil(y, 3, 1) - feb28 == (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) ? 2 : 1));
    CHECK(days_from_civil(y + 1, 1, 1) - days_from_civil(y, 12, 31) == 1);
  }
}

TEST_CASE("day and month of a time, also before 1970") {
  const std::int64_t day_ns = 86'400'000'000'000;
  CHECK(day_of_ns(0) == 0);
  CHECK(day_of_ns(-1) == -1);
  CHECK(day_of_ns(day_ns - 1) == 0);
  CHECK(day_of_ns(19'782 * day_ns + 5) == 19'782);
  CHECK(month_of_ns(0) == 0);
  CHECK(month_of_ns(-1) == -1);                       // December 1969
  CHECK(month_of_ns(19'782 * day_ns) == 54 * 12 + 1); // February 2024
  CHECK(month_start(0) == civil_date{1970, 1, 1});
  CHECK(month_start(-1) == civil_date{1969, 12, 1});
  CHECK(month_start(12) == civil_date{1971, 1, 1});
  CHECK(month_start(-13) == civil_date{1968, 12, 1});
  CHECK(day_of_ns(std::numeric_limits<std::int64_t>::min()) == -106'752);
}

TEST_CASE("month floors at month ends and leap days") {
  const std::int64_t day_ms = 86'400'000;
  const std::int64_t leap_noon = 19'782 * day_ms + 12 * 3'600'000; // 2024-02-29T12:00Z
  CHECK(month_floor_ms(leap_noon) == 19'754 * day_ms);             // 2024-02-01
  CHECK(next_month_ms(leap_noon) == 19'783 * day_ms);              // 2024-03-01
  CHECK(month_floor_ms(19'783 * day_ms) == 19'783 * day_ms);       // a month's first ms is its own floor
  CHECK(month_floor_ms(19'783 * day_ms - 1) == 19'754 * day_ms);   // the last ms of February
  CHECK(month_floor_ms(-1) == -31 * day_ms);                       // 1969-12-01
  CHECK(next_month_ms(-1) == 0);
  CHECK(next_month_ms(days_from_civil(2023, 12, 31) * day_ms) == days_from_civil(2024, 1, 1) * day_ms);
}

TEST_CASE("ISO 8601, RFC 3339 and timestamptz texts") {
  CHECK(iso8601_ms(0) == "1970-01-01T00:00:00Z");
  CHECK(iso8601_ms(-1) == "1969-12-31T23:59:59Z");
  CHECK(iso8601_ms(1'709'164'800'999) == "2024-02-29T00:00:00Z");
  CHECK(iso8601_ms(253'402'214'400'000) == "9999-12-31T00:00:00Z");
  CHECK(iso8601_ms(951'782'400'000) == "2000-02-29T00:00:00Z"); // the audit's hour cells (was actors::utc_text)
  CHECK(iso8601_ms(1'795'330'800'999) == "2026-11-22T07:00:00Z");
  CHECK(rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339(1'704'067'199'500'000'000) == "2023-12-31T23:59:59.5Z");
  CHECK(rfc3339(-1) == "1969-12-31T23:59:59.999999999Z");
  CHECK(rfc3339(1'709'164'800'000'001'000) == "2024-02-29T00:00:00.000001Z");
  CHECK(timestamptz_literal_us(1'709'164'800'123'456) == "2024-02-29 00:00:00.123456+00");
  CHECK(timestamptz_literal_us(-1) == "1969-12-31 23:59:59.999999+00");
  CHECK(timestamptz_literal_us(0) == "1970-01-01 00:00:00.000000+00");
  CHECK(date_text({2024, 2, 29}) == "2024-02-29");
  // The ends of int64 nanoseconds (1677 and 2262) print without overflow.
  CHECK(rfc3339(std::numeric_limits<std::int64_t>::min()) == "1677-09-21T00:12:43.145224192Z");
  CHECK(rfc3339(std::numeric_limits<std::int64_t>::max()) == "2262-04-11T23:47:16.854775807Z");
  CHECK(timestamptz_literal_us(std::numeric_limits<std::int64_t>::min() / 1000 - 1) ==
        "1677-09-21 00:12:43.145224+00"); // floor of ...43.145224192
  // Microseconds reach far beyond nanoseconds' 1677..2262 (timestamptz itself stops at 294276 AD).
  CHECK(timestamptz_literal_us(253'402'214'400'000'000) == "9999-12-31 00:00:00.000000+00");
}
