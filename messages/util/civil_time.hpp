#pragma once

// Civil (proleptic Gregorian, UTC) dates and times of the platform's integer times: day and month
// floors, partitions by day and month, and the texts we print (ISO 8601 / RFC 3339, PostgreSQL
// timestamptz literals). The calendar arithmetic is Howard Hinnant's date library (Debian
// libhowardhinnant-date-dev, <date/date.h>); beyond its ±32767 years the 400-year Gregorian cycle
// extends it, so every int64 time has an answer. Formatting is fixed-layout (snprintf), cheap enough
// for the saver's per-row use. Time zones: time_zone.hpp.

#include <cstdint>
#include <string>

namespace mi::util {

constexpr std::int64_t ns_per_second = 1'000'000'000;
constexpr std::int64_t ns_per_day = 86'400 * ns_per_second;
constexpr std::int64_t ms_per_day = 86'400'000;

/// A calendar date.
struct civil_date {
  std::int64_t year = 1970;
  unsigned month = 1; ///< 1..12
  unsigned day = 1;   ///< 1..31
  /// Field-wise equality.
  bool operator==(const civil_date&) const = default;
};

/// A UTC date and time of day.
struct civil_time {
  civil_date date;
  unsigned hour = 0;      ///< 0..23
  unsigned minute = 0;    ///< 0..59
  unsigned second = 0;    ///< 0..59
  std::int64_t nanos = 0; ///< 0..999'999'999
  /// Field-wise equality.
  bool operator==(const civil_time&) const = default;
};

/// Days since 1970-01-01 of a date (a day beyond the month's end counts on into the next month).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
/// The date `days` after 1970-01-01 (negative: before).
civil_date civil_from_days(std::int64_t days);

/// The UTC day (days since 1970-01-01) holding `ns` (ns since the epoch; floor, also before 1970).
std::int64_t day_of_ns(std::int64_t ns);
/// Months since 1970-01 (0 = January 1970) of the UTC month holding `ns`.
std::int64_t month_of_ns(std::int64_t ns);
/// The first day of month index `month` (months since 1970-01).
civil_date month_start(std::int64_t month);
/// Start (ms since the epoch) of the UTC month holding `ms`.
std::int64_t month_floor_ms(std::int64_t ms);
/// Start (ms since the epoch) of the UTC month after the one holding `ms`.
std::int64_t next_month_ms(std::int64_t ms);

/// The UTC date and time of `ns` (ns since the epoch).
civil_time civil_time_of(std::int64_t ns);

/// "YYYY-MM-DD".
std::string date_text(const civil_date& d);
/// "YYYY-MM-DDTHH:MM:SSZ": the second holding `ms` (ms since the epoch, any int64).
std::string iso8601_ms(std::int64_t ms);
/// RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fraction]Z", the fraction without trailing zeros (none when 0).
std::string rfc3339(std::int64_t ns);
/// PostgreSQL timestamptz literal "YYYY-MM-DD HH:MM:SS.ffffff+00" of `us` (microseconds since the
/// epoch, any int64: what timestamptz stores).
std::string timestamptz_literal_us(std::int64_t us);

} // namespace mi::util
