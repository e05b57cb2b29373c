#pragma once

// Local civil time in a named IANA time zone (the system tz database, /usr/share/zoneinfo, through
// Howard Hinnant's <date/tz.h>, Debian's libdate-tz): exchange sessions such as America/New_York
// (with its daylight-saving switches) and Asia/Shanghai (UTC+8 all year).

#include <cstdint>
#include <string_view>

#include "messages/result.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::util {

/// A local date and time and the zone's offset from UTC at that instant.
struct local_time {
  civil_time local;
  std::int64_t utc_offset_s = 0; ///< local - UTC, in seconds (New York in summer: -14400)
};

/// The local time in `zone` (e.g. "America/New_York") of `ns` (ns since the epoch); error when
/// the zone is unknown.
mi::result<local_time> local_time_in(std::string_view zone, std::int64_t ns);

/// The instant (ns since the epoch) of local time `local` in `zone`. A local time that occurs twice
/// (the hour repeated when clocks go back) is its earlier instant; one that does not occur (the
/// hour skipped when clocks go forward) is an error, as is an unknown zone.
mi::result<std::int64_t> utc_of_local(std::string_view zone, const civil_time& local);

} // namespace mi::util
