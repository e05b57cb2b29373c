#include "messages/kline/interval.hpp"

namespace mi::kline_engine {
namespace {

constexpr std::int64_t second = 1000;
constexpr std::int64_t minute = 60 * second;
constexpr std::int64_t hour = 60 * minute;
constexpr std::int64_t day = 24 * hour;
// 1970-01-05 was the first Monday after the epoch.
constexpr std::int64_t first_monday = 4 * day;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Howard Hinnant's civil-from-days / days-from-civil algorithms (proleptic Gregorian, UTC).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

// The interval table: one line per interval, shortest first (the size follows the lines).
// clang-format off
constexpr interval_spec all[] = {
  {"1s", interval::unit::fixed, second},
  {"1m", interval::unit::fixed, minute},
  {"3m", interval::unit::fixed, 3 * minute},
  {"5m", interval::unit::fixed, 5 * minute},
  {"15m", interval::unit::fixed, 15 * minute},
  {"30m", interval::unit::fixed, 30 * minute},
  {"1h", interval::unit::fixed, hour},
  {"2h", interval::unit::fixed, 2 * hour},
  {"4h", interval::unit::fixed, 4 * hour},
  {"6h", interval::unit::fixed, 6 * hour},
  {"8h", interval::unit::fixed, 8 * hour},
  {"12h", interval::unit::fixed, 12 * hour},
  {"1d", interval::unit::fixed, day},
  {"3d", interval::unit::fixed, 3 * day},
  {"1w", interval::unit::week, 7 * day},
  {"1M", interval::unit::month, 0},
};
// clang-format on

} // namespace

std::int64_t interval::open_of(std::int64_t ts_ms) const {
  switch (kind) {
  case unit::fixed:
    return floor_div(ts_ms, length_ms) * length_ms;
  case unit::week:
    return floor_div(ts_ms - first_monday, length_ms) * length_ms + first_monday;
  case unit::month: {
    std::int64_t y = 0;
    unsigned m = 0;
    civil_from_days(floor_div(ts_ms, day), y, m);
    return days_from_civil(y, m, 1) * day;
  }
  }
  return 0;
}

std::int64_t interval::next_open(std::int64_t open_ms) const {
  if (kind != unit::month)
    return open_ms + length_ms;
  std::int64_t y = 0;
  unsigned m = 0;
  civil_from_days(floor_div(open_ms, day), y, m);
  if (m == 12)
    return days_from_civil(y + 1, 1, 1) * day;
  return days_from_civil(y, m + 1, 1) * day;
}

std::span<const interval_spec> all_intervals() { return all; }

std::string interval_names(std::string_view separator) {
  std::string out;
  for (const auto& n : all) {
    if (!out.empty())
      out += separator;
    out += n.name;
  }
  return out;
}

mi::result<interval> parse_interval(std::string_view name) {
  for (const auto& n : all)
    if (n.name == name)
      return interval{std::string(n.name), n.kind, n.length_ms};
  return mi::error{"unknown interval \"" + std::string(name) + "\" (expected one of " + interval_names() + ")"};
}

} // namespace mi::kline_engine
