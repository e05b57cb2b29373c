// Refreshing XNYS from Alpaca's /v2/calendar (issue 13): the answer's days replace the file's over the answer's span
// only; an empty or unreadable answer keeps the file's calendar. Fixture bodies (../shared/fixtures/equities/alpaca/
// rest/) and a hand-written answer (tests/data/alpaca/calendar/, README there).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "messages/calendar/alpaca_refresh.hpp"
#include "messages/util/civil_time.hpp"

using namespace mi::calendar;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "missing " << path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

calendar_set repo() {
  auto set = load_calendars(std::string(MI_SOURCE_DIR) + "/deploy/calendars");
  REQUIRE(set.has_value());
  return std::move(*set);
}

// New York local close of a date, in minutes after midnight (nullopt: no session).
std::optional<int> close_of(const calendar& c, int y, unsigned m, unsigned d) {
  auto s = c.session_on({y, m, d});
  REQUIRE(s.has_value());
  if (!*s)
    return std::nullopt;
  return (*s)->local.end;
}

} // namespace

TEST_CASE("alpaca calendar refresh: the answer's days replace the file's over its span, nothing beyond") {
  auto set = repo();
  auto* ny = set.find_mutable("XNYS");
  REQUIRE(ny != nullptr);
  CHECK(close_of(*ny, 2026, 12, 31) == 16 * 60); // the file
  const auto r = refresh_from_alpaca(
    *ny, slurp(std::string(MI_SOURCE_DIR) + "/tests/data/alpaca/calendar/v2_calendar_2026-12-21_31.json"));
  REQUIRE(r.has_value());
  CHECK(r->days == 8);
  CHECK(r->text() == "8 trading days 2026-12-21 .. 2026-12-31");
  CHECK(close_of(*ny, 2026, 12, 31) == 14 * 60);        // Alpaca's answer (hand-made difference)
  CHECK(close_of(*ny, 2026, 12, 24) == 13 * 60);        // early close, as both say
  CHECK_FALSE(close_of(*ny, 2026, 12, 25).has_value()); // absent from the answer: a holiday, as in the file
  CHECK(close_of(*ny, 2026, 12, 28) == 16 * 60);
  // Outside the answer's span nothing changed: 2027-01-04 (after it) and 2026-12-18 (before it) are regular days,
  // 2027-01-01 is still the file's holiday.
  CHECK(close_of(*ny, 2027, 1, 4) == 16 * 60);
  CHECK(close_of(*ny, 2026, 12, 18) == 16 * 60);
  CHECK_FALSE(close_of(*ny, 2027, 1, 1).has_value());
  CHECK(alpaca_calendar_target(mi::util::days_from_civil(2026, 1, 1), mi::util::days_from_civil(2027, 12, 31)) ==
        "/v2/calendar?start=2026-01-01&end=2027-12-31");
}

TEST_CASE("alpaca calendar refresh: an empty or unreadable answer never replaces the file's days") {
  auto set = repo();
  auto* ny = set.find_mutable("XNYS");
  const auto before = ny->day_rules();
  for (const char* body :
       {"[]", "", "{\"message\":\"forbidden.\"}", "[{\"date\":\"2026-12-31\",\"open\":\"09:30\"}]"}) {
    CAPTURE(body);
    auto r = refresh_from_alpaca(*ny, body);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.err().message.find("the file's calendar is kept") != std::string::npos);
  }
  CHECK(ny->day_rules() == before);
  CHECK(close_of(*ny, 2026, 12, 31) == 16 * 60);
  CHECK(close_of(*ny, 2026, 12, 30) == 16 * 60);
}

TEST_CASE("alpaca calendar refresh: the documented answers (fixtures) merge as the file has those days") {
  auto set = repo();
  auto* ny = set.find_mutable("XNYS");
  const std::string dir = std::string(MI_FIXTURES_DIR) + "/equities/alpaca/rest/";
  const auto before = ny->session_on({2022, 5, 16});
  auto broker = refresh_from_alpaca(*ny, slurp(dir + "calendar_broker_v1_2022-05-16_17.json"));
  REQUIRE(broker.has_value());
  CHECK(broker->text() == "2 trading days 2022-05-16 .. 2022-05-17");
  CHECK(ny->session_on({2022, 5, 16})->value() == before->value());
  auto single = refresh_from_alpaca(*ny, slurp(dir + "openapi_calendar_item.json")); // one object, not an array
  REQUIRE(single.has_value());
  CHECK(single->text() == "1 trading days 2022-02-01 .. 2022-02-01");
  CHECK(close_of(*ny, 2022, 2, 1) == 16 * 60);
}
