#pragma once

// Exchange calendars as data: per market (XNYS, XSHG, XSHE, and the 24/7 default CRYPTO) the IANA time zone, the
// regular session (one or two segments: New York 09:30-16:00, Shanghai 09:30-11:30 + 13:00-15:00), the call
// auctions, the trading weekdays, and per covered year the holidays and early closes. Loaded from the text files
// of deploy/calendars/ (format in deploy/calendars/README.md; parse errors name file and line); XNYS days can be
// replaced by Alpaca's /v2/calendar answer (parse_alpaca_calendar + calendar::merge). Pure: no clock, no I/O
// except load_calendars(); local times through messages/util/time_zone.hpp (the system tz database).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::calendar {

/// The market of the crypto venues: always open, UTC.
inline constexpr std::string_view crypto_market = "CRYPTO";

/// A local time of day in minutes after midnight ([begin, end)).
struct local_span {
  int begin = 0; ///< minutes after local midnight
  int end = 0;
  bool operator==(const local_span&) const = default;
};

/// One trading day's regular session, in local minutes and in UTC nanoseconds.
struct session {
  mi::util::civil_date date; ///< the local trading date
  local_span local;          ///< open .. close (local minutes; the close is the early close on such a day)
  std::optional<local_span> local_break;
  std::int64_t open_ns = 0;
  std::int64_t close_ns = 0;
  std::int64_t break_start_ns = 0; ///< == break_end_ns when there is no break
  std::int64_t break_end_ns = 0;
  bool early_close = false;
  /// Opening call auction (trades from its start up to the open are its print and join the first minute):
  /// its start in UTC ns, == open_ns when the market has none.
  std::int64_t opening_auction_ns = 0;
  /// Closing call auction start in UTC ns (== close_ns when none); its print, stamped in the minute after the close
  /// ([close, closing_print_until_ns)), joins the last minute.
  std::int64_t closing_auction_ns = 0;
  std::int64_t closing_print_until_ns = 0; ///< == close_ns when the market has no closing auction
  bool operator==(const session&) const = default;
};

/// What a calendar file says about one date beside the regular rule.
struct day_rule {
  bool closed = false;      ///< a holiday
  std::optional<int> open;  ///< a late open (local minutes); only from Alpaca
  std::optional<int> close; ///< an early close (local minutes)
  std::string note;         ///< the holiday's name and source as written in the file
  bool operator==(const day_rule&) const = default;
};

/// A market's calendar.
class calendar {
public:
  /// The 24/7 crypto calendar (UTC, no sessions, no holidays): calendar::always_open() is true.
  static calendar crypto();

  const std::string& market() const { return market_; }
  const std::string& time_zone() const { return zone_; }
  bool always_open() const { return always_open_; }
  /// The regular session's segments (local minutes, in order; two with a lunch break).
  const std::vector<local_span>& segments() const { return segments_; }
  std::optional<local_span> opening_auction() const { return opening_auction_; }
  std::optional<local_span> closing_auction() const { return closing_auction_; }
  /// Covered dates (inclusive): a date outside has no data (error).
  mi::util::civil_date first_date() const;
  mi::util::civil_date last_date() const;
  bool covers(std::int64_t day) const; ///< days since 1970-01-01 (local date)

  /// The session of local date `d`: nullopt on a weekend or holiday; an error when the date is not covered.
  mi::result<std::optional<session>> session_on(const mi::util::civil_date& d) const;
  /// The same by days since 1970-01-01.
  mi::result<std::optional<session>> session_on_day(std::int64_t day) const;
  /// Every session from `from` to `to` (inclusive, local dates); an error when a date in between is not covered.
  mi::result<std::vector<session>> sessions(const mi::util::civil_date& from, const mi::util::civil_date& to) const;
  /// The local date (days since 1970-01-01) of `ns` in the market's zone.
  std::int64_t local_day_of(std::int64_t ns) const;

  /// Replaces the days [first, last] (days since 1970-01-01) by `days` (local dates with their open and close;
  /// a weekday of the range that is absent is a holiday), as Alpaca's /v2/calendar reports them. The covered range
  /// grows to include [first, last] when it touches or overlaps it. Error (nothing changed) when a day lies outside
  /// [first, last] or the range would leave a hole in the coverage.
  struct reported_day {
    std::int64_t day = 0; ///< days since 1970-01-01
    int open = 0;         ///< local minutes
    int close = 0;
  };
  mi::result<bool> merge(std::int64_t first, std::int64_t last, const std::vector<reported_day>& days);

  /// The dated rules (holidays, early closes), by days since 1970-01-01.
  const std::map<std::int64_t, day_rule>& day_rules() const { return rules_; }

private:
  friend mi::result<calendar> parse_calendar(std::string_view, std::string_view, const std::vector<calendar>*);
  std::string market_;
  std::string zone_ = "UTC";
  bool always_open_ = false;
  std::vector<local_span> segments_;
  std::optional<local_span> opening_auction_;
  std::optional<local_span> closing_auction_;
  unsigned weekdays_ = 0x3e;   ///< bit 0 = Sunday ... bit 6 = Saturday; default Mon-Fri
  std::int64_t first_day_ = 0; ///< covered range, days since 1970-01-01 (inclusive)
  std::int64_t last_day_ = -1;
  std::map<std::int64_t, day_rule> rules_;
};

/// Parses a calendar file's text (deploy/calendars/README.md). `file` names it in errors ("xnys.cal:12: ...").
/// `known`: calendars already loaded, for `holidays_of <MARKET>`.
mi::result<calendar> parse_calendar(std::string_view text, std::string_view file,
                                    const std::vector<calendar>* known = nullptr);

/// Parses Alpaca's GET /v2/calendar answer (a JSON array of {"date","open","close",...}, or one such object) into
/// XNYS days (open/close are New York local "HH:MM"). Errors name the element and field.
mi::result<std::vector<calendar::reported_day>> parse_alpaca_calendar(std::string_view json);

/// The calendars of every market: CRYPTO always, plus each *.cal file of a directory.
class calendar_set {
public:
  calendar_set(); ///< CRYPTO only
  /// The calendar of `market` ("XNYS"), nullptr when none is loaded.
  const calendar* find(std::string_view market) const;
  /// The markets, CRYPTO first then by name.
  std::vector<std::string> markets() const;
  /// Adds or replaces a calendar.
  void add(calendar c);
  calendar* find_mutable(std::string_view market);

private:
  std::vector<calendar> all_;
};

/// Loads every `*.cal` file of `dir` (a file naming `holidays_of X` after X's file). Errors name the file and line.
mi::result<calendar_set> load_calendars(const std::string& dir);

/// Where calendars are looked for when config `calendars.dir` is empty: the installed data directory
/// (<prefix>/share/market-ingestor/calendars), then the source tree's deploy/calendars. The first that exists wins.
std::vector<std::string> default_calendar_dirs();
/// `configured` if not empty, else the first of default_calendar_dirs() that exists; an error naming what was tried.
mi::result<std::string> resolve_calendar_dir(const std::string& configured);

/// "YYYY-MM-DD" -> days since 1970-01-01; nullopt when malformed or not a real date (2026-02-30).
std::optional<std::int64_t> parse_date_text(std::string_view s);

/// "HH:MM" of local minutes.
std::string minutes_text(int minutes);

} // namespace mi::calendar
