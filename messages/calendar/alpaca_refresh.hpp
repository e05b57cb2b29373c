#pragma once

// Refreshing the XNYS calendar from Alpaca's trading API, GET /v2/calendar?start=&end= (issue 13, item 1): the days
// Alpaca reports replace the file's days over the span the answer covers (its first to its last date), never more,
// so an answer that is empty, unreadable or shorter than asked never turns the file's trading days into holidays.
// Pure: the caller fetches the body (app/roles.cpp at start, when calendars.alpaca_refresh is on).

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/calendar/calendar.hpp"
#include "messages/result.hpp"

namespace mi::calendar {

/// What a refresh changed.
struct refresh_summary {
  std::size_t days = 0;   ///< trading days in the answer
  std::int64_t first = 0; ///< the span replaced: days since 1970-01-01, inclusive
  std::int64_t last = 0;
  std::string text() const; ///< "253 trading days 2026-01-02 .. 2026-12-31"
};

/// The target of the request for the dates [from, to]: "/v2/calendar?start=2026-01-01&end=2027-12-31".
std::string alpaca_calendar_target(std::int64_t from_day, std::int64_t to_day);

/// Merges Alpaca's answer `body` into `xnys` over [first date, last date] of the answer. An error, and `xnys`
/// unchanged, when the body does not parse, holds no day ("the file's calendar is kept"), or the span would leave a
/// hole in the covered dates.
mi::result<refresh_summary> refresh_from_alpaca(calendar& xnys, std::string_view body);

} // namespace mi::calendar
