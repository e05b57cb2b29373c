// libFuzzer target for the calendar parsers (messages/calendar): the calendar file format and Alpaca's /v2/calendar
// JSON. Any input: never a crash, an abort or a hang; a file that parses yields sessions whose open < close, with a
// break (if any) inside them, for every day of its first covered year; an Alpaca body that parses merges into a
// calendar or is refused with an error.
// Build: cmake -DMI_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ (scripts/fuzz).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "messages/calendar/calendar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = mi::calendar::parse_calendar(text, "fuzz.cal");
  if (c) {
    const auto first = c->first_date();
    auto sessions = c->sessions(first, mi::util::civil_date{first.year, 12, 31});
    if (sessions)
      for (const auto& s : *sessions)
        if (s.open_ns > s.close_ns || s.break_start_ns > s.break_end_ns || s.break_start_ns < s.open_ns ||
            s.break_end_ns > s.close_ns)
          std::abort();
  }
  auto days = mi::calendar::parse_alpaca_calendar(text);
  if (days && !days->empty()) {
    auto cal = mi::calendar::parse_calendar(
      "market XNYS\ntime_zone America/New_York\nsession 09:30 16:00\nyears 2022\n", "xnys.cal");
    if (!cal)
      std::abort();
    (void)cal->merge(days->front().day, days->back().day, *days);
  }
  return 0;
}
