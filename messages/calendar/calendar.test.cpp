#include "messages/calendar/calendar.hpp"
#include "messages/venue_registry.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace mi::calendar;
using mi::util::civil_date;

namespace {

const std::string fixtures = std::string(MI_FIXTURES_DIR) + "/equities/";
const std::string calendars_dir = std::string(MI_SOURCE_DIR) + "/deploy/calendars";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "2022-01-03T14:30:00Z" -> ns (the fixture's own text, parsed here independently of the code under test).
std::int64_t iso_ns(const std::string& s) {
  REQUIRE(s.size() == 20);
  const auto days =
    mi::util::days_from_civil(std::stoi(s.substr(0, 4)), static_cast<unsigned>(std::stoi(s.substr(5, 2))),
                              static_cast<unsigned>(std::stoi(s.substr(8, 2))));
  return ((days * 24 + std::stoi(s.substr(11, 2))) * 60 + std::stoi(s.substr(14, 2))) * 60'000'000'000LL +
         std::stoll(s.substr(17, 2)) * 1'000'000'000LL;
}

civil_date date_of(const std::string& s) {
  return {std::stoi(s.substr(0, 4)), static_cast<unsigned>(std::stoi(s.substr(5, 2))),
          static_cast<unsigned>(std::stoi(s.substr(8, 2)))};
}

struct row {
  std::string date, open, close, break_start, break_end;
};

std::vector<row> read_sessions_csv(const std::string& path) {
  std::stringstream in(slurp(path));
  std::string line;
  std::getline(in, line);
  REQUIRE(line == ",open,close,break_start,break_end");
  std::vector<row> out;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ','))
      f.push_back(cell);
    f.resize(5);
    out.push_back({f[0], f[1], f[2], f[3], f[4]});
  }
  return out;
}

// Every row's session equals ours in UTC, and every other day in the rows' range has no session.
void check_against(const calendar& cal, const std::vector<row>& rows) {
  REQUIRE(!rows.empty());
  std::set<std::int64_t> listed;
  for (const auto& r : rows) {
    const auto d = date_of(r.date);
    listed.insert(mi::util::days_from_civil(d.year, d.month, d.day));
    auto s = cal.session_on(d);
    REQUIRE_MESSAGE(s.has_value(), r.date << ": " << s.err().message);
    REQUIRE_MESSAGE(s->has_value(), r.date << " is a trading day in the fixture, not in our calendar");
    CHECK_MESSAGE((*s)->open_ns == iso_ns(r.open), r.date);
    CHECK_MESSAGE((*s)->close_ns == iso_ns(r.close), r.date);
    if (r.break_start.empty()) {
      CHECK_MESSAGE(!(*s)->local_break, r.date);
    } else {
      REQUIRE_MESSAGE((*s)->local_break, r.date);
      CHECK_MESSAGE((*s)->break_start_ns == iso_ns(r.break_start), r.date);
      CHECK_MESSAGE((*s)->break_end_ns == iso_ns(r.break_end), r.date);
    }
  }
  for (auto day = *listed.begin(); day <= *listed.rbegin(); ++day) {
    if (listed.count(day) != 0)
      continue;
    auto s = cal.session_on_day(day);
    REQUIRE(s.has_value());
    CHECK_MESSAGE(!s->has_value(), mi::util::date_text(mi::util::civil_from_days(day))
                                     << " has a session in our calendar but not in the fixture");
  }
}

calendar_set load_repo() {
  auto set = load_calendars(calendars_dir);
  REQUIRE_MESSAGE(set.has_value(), (set ? "" : set.err().message));
  return std::move(*set);
}

} // namespace

TEST_CASE("the repository's calendars load: CRYPTO, XNYS, XSHE, XSHG") {
  auto set = load_repo();
  CHECK(set.markets() == std::vector<std::string>{"CRYPTO", "XNYS", "XSHE", "XSHG"});
  CHECK(set.find("CRYPTO")->always_open());
  CHECK(set.find("XNYS")->time_zone() == "America/New_York");
  CHECK(set.find("XSHG")->time_zone() == "Asia/Shanghai");
  CHECK(set.find("XNYS")->last_date() == civil_date{2027, 12, 31});
  CHECK(set.find("NOPE") == nullptr);
}

TEST_CASE("XNYS 2022: every session of exchange_calendars' xnys.csv, and no other day") {
  auto set = load_repo();
  check_against(*set.find("XNYS"), read_sessions_csv(fixtures + "calendars/xnys_sessions_2022_exchange_calendars.csv"));
}

TEST_CASE("XSHG and XSHE 2024-2026: every session of exchange_calendars' xshg.csv, and no other day") {
  auto set = load_repo();
  const auto rows = read_sessions_csv(fixtures + "calendars/xshg_sessions_2024-2026_exchange_calendars.csv");
  check_against(*set.find("XSHG"), rows);
  check_against(*set.find("XSHE"), rows); // the same holidays (State Council notice)
  // Make-up workdays (调休) on weekends are not trading days (hand-picked from the 2024-2026 notices).
  for (auto d : {civil_date{2024, 2, 4}, civil_date{2024, 5, 11}, civil_date{2024, 10, 12}, civil_date{2025, 1, 26},
                 civil_date{2025, 2, 8}, civil_date{2026, 1, 4}, civil_date{2026, 2, 14}, civil_date{2026, 10, 10}}) {
    auto s = set.find("XSHG")->session_on(d);
    REQUIRE(s.has_value());
    CHECK_MESSAGE(!s->has_value(), mi::util::date_text(d));
  }
}

TEST_CASE("sessions carry local times, the early close and the auctions") {
  auto set = load_repo();
  auto ny = set.find("XNYS")->session_on({2026, 11, 27});
  REQUIRE(ny.has_value());
  REQUIRE(ny->has_value());
  CHECK((*ny)->early_close);
  CHECK((*ny)->local == local_span{570, 780});
  CHECK((*ny)->close_ns == iso_ns("2026-11-27T18:00:00Z")); // 13:00 EST
  auto sh = set.find("XSHG")->session_on({2026, 3, 2});
  REQUIRE(sh.has_value());
  REQUIRE(sh->has_value());
  CHECK((*sh)->opening_auction_ns == iso_ns("2026-03-02T01:15:00Z"));
  CHECK((*sh)->closing_auction_ns == iso_ns("2026-03-02T06:57:00Z"));
  CHECK((*sh)->closing_print_until_ns == iso_ns("2026-03-02T07:01:00Z"));
  // A date outside the data is an error, never a guess.
  auto beyond = set.find("XSHG")->session_on({2027, 3, 1});
  REQUIRE(!beyond.has_value());
  CHECK(beyond.err().message == "XSHG: no calendar data for 2027-03-01 (covered: 2024-01-01 to 2026-12-31)");
}

TEST_CASE("a malformed calendar file: the error names the file and the line") {
  const std::string head = "market XTST\ntime_zone Asia/Shanghai\nsession 09:30 11:30\n";
  auto err = [&](const std::string& text) {
    auto c = parse_calendar(text, "xtst.cal");
    REQUIRE(!c.has_value());
    return c.err().message;
  };
  CHECK(err(head + "sesion 13:00 15:00\nyears 2026\n") ==
        "xtst.cal:4: unknown directive \"sesion\" (expected market, time_zone, trading_days, session, opening_auction, "
        "closing_auction, years, holiday, early_close, holidays_of)");
  CHECK(err(head + "years 2026\nholiday 2026-02-30 nope\n") ==
        "xtst.cal:5: bad date \"2026-02-30\" (expected YYYY-MM-DD)");
  CHECK(err(head + "years 2026\n\n# a comment\nholiday 2026-02-14 a Saturday\n") ==
        "xtst.cal:7: 2026-02-14 is a Sat, not a trading day anyway");
  CHECK(err(head + "years 2026\nholiday 2027-01-04\n") == "xtst.cal:5: 2027-01-04 is outside the covered years");
  CHECK(err(head + "years 2026\nholiday 2026-01-05\nholiday 2026-01-05\n") == "xtst.cal:6: 2026-01-05 is listed twice");
  CHECK(err("market XTST\ntime_zone Mars/Olympus\n").rfind("xtst.cal:2: unknown time zone \"Mars/Olympus\"", 0) == 0);
  CHECK(err(head + "session 11:00 15:00\nyears 2026\n") ==
        "xtst.cal:4: session: segments must follow each other with a break between them");
  CHECK(err(head + "early_close 2026-01-05 1pm\nyears 2026\n") == "xtst.cal:4: bad time \"1pm\" (expected HH:MM)");
  CHECK(err("market XTST\ntime_zone UTC\nyears 2026\n") == "xtst.cal: no \"session\" line");
  CHECK(err(head + "session 13:00 15:00\nyears 2026\nearly_close 2026-01-05 12:00\n") ==
        "xtst.cal:6: early close 12:00 falls in the break (close at 11:30 instead)");
  CHECK(err(head + "years 2026\nholidays_of XSHG\n") ==
        "xtst.cal:5: holidays_of XSHG: that market is not loaded (its file must come first)");
}

TEST_CASE("Alpaca /v2/calendar bodies (fixtures) parse to New York days") {
  auto broker = parse_alpaca_calendar(slurp(fixtures + "alpaca/rest/calendar_broker_v1_2022-05-16_17.json"));
  REQUIRE(broker.has_value());
  REQUIRE(broker->size() == 2);
  CHECK((*broker)[0].day == mi::util::days_from_civil(2022, 5, 16));
  CHECK((*broker)[0].open == 9 * 60 + 30);
  CHECK((*broker)[0].close == 16 * 60);
  CHECK((*broker)[1].day == mi::util::days_from_civil(2022, 5, 17));
  auto docs = parse_alpaca_calendar(slurp(fixtures + "alpaca/rest/docs_calendar_item.json"));
  REQUIRE(docs.has_value());
  REQUIRE(docs->size() == 1);
  CHECK((*docs)[0].day == mi::util::days_from_civil(2018, 1, 3));
  auto openapi = parse_alpaca_calendar(slurp(fixtures + "alpaca/rest/openapi_calendar_item.json"));
  REQUIRE(openapi.has_value());
  CHECK((*openapi)[0].day == mi::util::days_from_civil(2022, 2, 1));
  CHECK((*openapi)[0].close == 16 * 60);
  CHECK(!parse_alpaca_calendar("[{\"date\":\"2022-05-16\",\"open\":\"09:30\"}]").has_value());
  CHECK(!parse_alpaca_calendar("[{\"date\":\"2022-05-16\",\"open\":\"16:00\",\"close\":\"09:30\"}]").has_value());
  CHECK(!parse_alpaca_calendar("{\"date\":").has_value());
}

TEST_CASE("an Alpaca body merges into XNYS: its days replace ours, a missing weekday is a holiday") {
  auto set = load_repo();
  auto* ny = set.find_mutable("XNYS");
  const auto before = ny->session_on({2022, 5, 16});
  auto broker = parse_alpaca_calendar(slurp(fixtures + "alpaca/rest/calendar_broker_v1_2022-05-16_17.json"));
  REQUIRE(broker.has_value());
  REQUIRE(ny->merge(broker->front().day, broker->back().day, *broker).has_value());
  CHECK(ny->session_on({2022, 5, 16})->value() == before->value()); // the same hours as our file
  // A body for 2026-11-23..27 that closes early on Wednesday and leaves out Thursday.
  auto body = parse_alpaca_calendar(R"([{"date":"2026-11-23","open":"09:30","close":"16:00"},
    {"date":"2026-11-24","open":"09:30","close":"16:00"},{"date":"2026-11-25","open":"09:30","close":"13:00"},
    {"date":"2026-11-27","open":"09:30","close":"13:00"}])");
  REQUIRE(body.has_value());
  REQUIRE(ny->merge(mi::util::days_from_civil(2026, 11, 23), mi::util::days_from_civil(2026, 11, 27), *body));
  CHECK(ny->session_on({2026, 11, 25})->value().close_ns == iso_ns("2026-11-25T18:00:00Z"));
  CHECK(!ny->session_on({2026, 11, 26})->has_value());
  // A range beyond the data that would leave a hole is refused.
  CHECK(!ny->merge(mi::util::days_from_civil(2029, 1, 2), mi::util::days_from_civil(2029, 1, 2), {}).has_value());
  // Right after the data: the coverage grows.
  REQUIRE(ny->merge(mi::util::days_from_civil(2028, 1, 1), mi::util::days_from_civil(2028, 1, 3),
                    {{mi::util::days_from_civil(2028, 1, 3), 570, 960}}));
  CHECK(ny->session_on({2028, 1, 3})->has_value());
}

TEST_CASE("every venue of the registry names a market with a calendar: CRYPTO for crypto exchanges") {
  auto set = load_repo();
  for (const auto& v : mi::venues()) {
    CAPTURE(v.name);
    CHECK(set.find(v.market) != nullptr);
    CHECK((v.kind == mi::venue_kind::crypto_exchange) == (v.market == crypto_market));
  }
}
