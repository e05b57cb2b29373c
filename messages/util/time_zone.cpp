#include "messages/util/time_zone.hpp"

#include <chrono>
#include <exception>
#include <string>

#include <date/tz.h>

#include "messages/util/floor_div.hpp"

namespace mi::util {
namespace {

mi::result<const date::time_zone*> find_zone(std::string_view zone) {
  try {
    return date::locate_zone(zone);
  } catch (const std::exception& e) {
    return mi::error{"unknown time zone \"" + std::string(zone) + "\": " + e.what()};
  }
}

} // namespace

mi::result<local_time> local_time_in(std::string_view zone, std::int64_t ns) {
  auto z = find_zone(zone);
  if (!z)
    return z.err();
  const date::sys_seconds secs{std::chrono::seconds{floor_div(ns, ns_per_second)}};
  const auto info = (*z)->get_info(secs);
  const std::int64_t offset = info.offset.count();
  local_time out;
  out.local = civil_time_of(ns + offset * ns_per_second);
  out.utc_offset_s = offset;
  return out;
}

mi::result<std::int64_t> utc_of_local(std::string_view zone, const civil_time& local) {
  auto z = find_zone(zone);
  if (!z)
    return z.err();
  const std::int64_t local_secs = days_from_civil(local.date.year, local.date.month, local.date.day) * 86'400 +
                                  local.hour * 3600 + local.minute * 60 + local.second;
  const date::local_seconds ls{std::chrono::seconds{local_secs}};
  const auto info = (*z)->get_info(ls);
  if (info.result == date::local_info::nonexistent)
    return mi::error{"local time does not exist in " + std::string(zone) + " (clocks went forward)"};
  // unique or ambiguous: `first` is the earlier of the two instants.
  return (local_secs - info.first.offset.count()) * ns_per_second + local.nanos;
}

} // namespace mi::util
