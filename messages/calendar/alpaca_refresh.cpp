#include "messages/calendar/alpaca_refresh.hpp"

#include <algorithm>

#include "messages/util/civil_time.hpp"

namespace mi::calendar {

std::string refresh_summary::text() const {
  return std::to_string(days) + " trading days " + mi::util::date_text(mi::util::civil_from_days(first)) + " .. " +
         mi::util::date_text(mi::util::civil_from_days(last));
}

std::string alpaca_calendar_target(std::int64_t from_day, std::int64_t to_day) {
  return "/v2/calendar?start=" + mi::util::date_text(mi::util::civil_from_days(from_day)) +
         "&end=" + mi::util::date_text(mi::util::civil_from_days(to_day));
}

mi::result<refresh_summary> refresh_from_alpaca(calendar& xnys, std::string_view body) {
  auto days = parse_alpaca_calendar(body);
  if (!days)
    return mi::error{"alpaca /v2/calendar: " + days.err().message + " (the file's calendar is kept)",
                     mi::errc::bad_input};
  if (days->empty())
    return mi::error{"alpaca /v2/calendar: no trading day in the answer (the file's calendar is kept)",
                     mi::errc::bad_input};
  refresh_summary s;
  s.days = days->size();
  const auto [lo, hi] =
    std::minmax_element(days->begin(), days->end(), [](const auto& a, const auto& b) { return a.day < b.day; });
  s.first = lo->day;
  s.last = hi->day;
  if (auto r = xnys.merge(s.first, s.last, *days); !r)
    return mi::error{"alpaca /v2/calendar: " + r.err().message + " (the file's calendar is kept)", mi::errc::bad_input};
  return s;
}

} // namespace mi::calendar
