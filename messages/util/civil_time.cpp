#include "messages/util/civil_time.hpp"

#include <cstdio>

#include <date/date.h>

#include "messages/util/floor_div.hpp"

namespace mi::util {
namespace {

// The Gregorian calendar repeats every 400 years, which are 146097 days. date::year holds
// -32767..32767, so dates are computed within one cycle from 1970 and shifted by whole cycles.
constexpr std::int64_t days_per_cycle = 146'097;
constexpr std::int64_t years_per_cycle = 400;

// Seconds first, then days: no intermediate leaves int64 even at its ends.
civil_time split_seconds(std::int64_t secs) {
  const std::int64_t days = floor_div(secs, 86'400);
  const std::int64_t in_day = secs - days * 86'400;
  civil_time t;
  t.date = civil_from_days(days);
  t.hour = static_cast<unsigned>(in_day / 3600);
  t.minute = static_cast<unsigned>(in_day / 60 % 60);
  t.second = static_cast<unsigned>(in_day % 60);
  return t;
}

civil_time split(std::int64_t ns) {
  const std::int64_t secs = floor_div(ns, ns_per_second);
  civil_time t = split_seconds(secs);
  t.nanos = ns - secs * ns_per_second;
  return t;
}

} // namespace

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  const std::int64_t cycles = floor_div(year - 1970, years_per_cycle);
  const auto y = static_cast<int>(year - cycles * years_per_cycle); // 1970..2369
  const date::sys_days d = date::year{y} / date::month{month} / date::day{1};
  // Days past the first of the month counted on linearly, as the old hand-written formulas did.
  return cycles * days_per_cycle + d.time_since_epoch().count() + static_cast<std::int64_t>(day) - 1;
}

civil_date civil_from_days(std::int64_t days) {
  const std::int64_t cycles = floor_div(days, days_per_cycle);
  const date::sys_days d{date::days{static_cast<int>(days - cycles * days_per_cycle)}}; // 1970..2369
  const date::year_month_day ymd{d};
  return {static_cast<int>(ymd.year()) + cycles * years_per_cycle, static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day())};
}

std::int64_t day_of_ns(std::int64_t ns) { return floor_div(floor_div(ns, ns_per_second), 86'400); }

std::int64_t month_of_ns(std::int64_t ns) {
  const auto d = civil_from_days(day_of_ns(ns));
  return (d.year - 1970) * 12 + (d.month - 1);
}

civil_date month_start(std::int64_t month) {
  return {1970 + floor_div(month, 12), static_cast<unsigned>(floor_mod(month, 12)) + 1, 1};
}

std::int64_t month_floor_ms(std::int64_t ms) {
  const auto d = civil_from_days(floor_div(ms, ms_per_day));
  return days_from_civil(d.year, d.month, 1) * ms_per_day;
}

std::int64_t next_month_ms(std::int64_t ms) {
  const auto d = civil_from_days(floor_div(ms, ms_per_day));
  if (d.month == 12)
    return days_from_civil(d.year + 1, 1, 1) * ms_per_day;
  return days_from_civil(d.year, d.month + 1, 1) * ms_per_day;
}

civil_time civil_time_of(std::int64_t ns) { return split(ns); }

std::string date_text(const civil_date& d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(d.year), d.month, d.day);
  return buf;
}

std::string iso8601_ms(std::int64_t ms) {
  const auto t = split_seconds(floor_div(ms, 1000));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02uZ", static_cast<long long>(t.date.year), t.date.month,
                t.date.day, t.hour, t.minute, t.second);
  return buf;
}

std::string rfc3339(std::int64_t ns) {
  const auto t = split(ns);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u", static_cast<long long>(t.date.year),
                        t.date.month, t.date.day, t.hour, t.minute, t.second);
  std::string out(buf, static_cast<std::size_t>(n));
  if (t.nanos != 0) {
    std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(t.nanos));
    std::string_view f = buf;
    out.append(f.substr(0, f.find_last_not_of('0') + 1));
  }
  out += 'Z';
  return out;
}

std::string timestamptz_literal_us(std::int64_t us) {
  const std::int64_t secs = floor_div(us, 1'000'000);
  auto t = split_seconds(secs);
  t.nanos = (us - secs * 1'000'000) * 1000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02u:%02u:%02u.%06lld+00", static_cast<long long>(t.date.year),
                t.date.month, t.date.day, t.hour, t.minute, t.second, static_cast<long long>(t.nanos / 1000));
  return buf;
}

} // namespace mi::util
