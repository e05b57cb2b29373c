#include "messages/kline/interval.hpp"

#include <array>

#include "messages/util/civil_time.hpp"
#include "messages/util/floor_div.hpp"

namespace mi::kline_engine {
namespace {

constexpr std::int64_t second = 1000;
constexpr std::int64_t minute = 60 * second;
constexpr std::int64_t hour = 60 * minute;
constexpr std::int64_t day = 24 * hour;
// 1970-01-05 was the first Monday after the epoch.
constexpr std::int64_t first_monday = 4 * day;

using mi::util::floor_div;

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
  case unit::month:
    return mi::util::month_floor_ms(ts_ms);
  }
  return 0;
}

std::int64_t interval::next_open(std::int64_t open_ms) const {
  if (kind != unit::month)
    return open_ms + length_ms;
  return mi::util::next_month_ms(open_ms);
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
