#pragma once

// The A-share quote poller (issue 13; docs/protocols.md "A-shares"): which request to send next and what each answer
// changes. Pure (the time is passed in, never read): the venue's actor (actors/cn_quotes) sends what next() gives and
// hands the answer to on_response().
//
// Every `interval` (with jitter) a poll cycle asks for every configured symbol in batches of the source's batch size.
// Each batch goes to the primary source (Tencent) unless its circuit is open; a batch the primary fails (5xx, 429,
// timeout, a body that does not parse) is asked again at once from the secondary (Sina), so a failing primary costs
// no quote. Each source keeps its own token bucket (requests_per_second, burst) and circuit breaker (the documents'
// classes, connectors/documents/source_schedule.hpp); an open primary circuit sends every batch to the secondary
// until its half-open probe succeeds, then the primary serves again. Polls run only inside the markets' poll
// windows (calendar: the opening call auction 09:15 to the end of the morning session, the afternoon session to
// the closing print, plus `grace` after each, so the 11:30 and 15:00 final snapshots are read; none on holidays).
//
//            ┌──────── batch ─────────┐
//            ▼                        │ primary failed
//   primary allowed? ──yes──► primary ┴──────────────► secondary (same batch, at once) ──► fails: batch lost
//        │ no (circuit open)                                                                (counted, a gap)
//        └───────────────────► secondary

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "connectors/cn/quotes.hpp"
#include "connectors/documents/source_schedule.hpp"
#include "messages/calendar/calendar.hpp"

namespace mi::cn {

/// One quote source's limits (config equities.cn.sources.<name>).
struct source_limits {
  std::string url;                           ///< base URL: http://qt.gtimg.cn, http://hq.sinajs.cn
  double requests_per_second = 2;            ///< token bucket rate
  int burst = 2;                             ///< token bucket size
  int batch_size = 60;                       ///< symbols per request (easyquotation: Tencent 60)
  int failure_threshold = 3;                 ///< failures in a row that open the circuit
  std::int64_t open_for_ns = 30'000'000'000; ///< an open circuit's wait before the half-open probe
};

/// The poller's settings.
struct poller_settings {
  std::vector<symbol> symbols;
  source_limits tencent;
  source_limits sina;
  std::int64_t interval_ns = 3'000'000'000; ///< one poll cycle this often
  double jitter = 0.1;                      ///< each cycle drawn from interval * [1 - jitter, 1 + jitter]
  std::int64_t grace_ns = 60'000'000'000;   ///< polls go on this long after the morning and afternoon close
  bool sessions_only = true;                ///< false: poll at any time (the simulator; never in production)
};

/// One request to send.
struct poll_request {
  quote_source source = quote_source::tencent;
  std::vector<symbol> batch;
  std::string url;                                          ///< absolute
  std::vector<std::pair<std::string, std::string>> headers; ///< Sina's Referer
  bool failover = false;                                    ///< the secondary asked because the primary failed
};

/// What an answer gave.
struct poll_step {
  mi::documents::request_outcome outcome = mi::documents::request_outcome::ok;
  std::vector<snapshot> quotes;    ///< every quote of the answer (not yet deduplicated: quote_tracker)
  std::vector<std::string> empty;  ///< codes answered with no data
  std::vector<mi::error> rejected; ///< statements that did not parse (counted, the rest used)
  bool retry_elsewhere = false;    ///< the batch goes to the other source next
  bool batch_lost = false;         ///< both sources failed this batch in this cycle: its quotes are missing
  std::string error;               ///< why the request failed ("" when ok)
};

/// The wait until the next poll window of `cal` opens (0 when `now_ns` is inside one); an error when the calendar
/// does not cover the days it would have to look at (nothing to poll: the caller waits and logs it).
mi::result<std::int64_t> poll_window_wait(const mi::calendar::calendar& cal, std::int64_t now_ns,
                                          std::int64_t grace_ns);

/// The poller of the venue.
class quote_poller {
public:
  /// `cals` must outlive the poller (XSHG and XSHE are looked up in it); `seed` drives the jitter.
  quote_poller(poller_settings settings, const mi::calendar::calendar_set* cals, std::uint64_t seed,
               std::int64_t now_ns);

  /// The request to send now, or the ns to wait before asking again (outside the poll windows: until the next).
  std::variant<poll_request, std::int64_t> next(std::int64_t now_ns);

  /// The answer to `req` (the last next() gave): the HTTP status and body, or a network error when there was none.
  /// `retry_after`: the Retry-After header ("" when absent).
  poll_step on_response(const poll_request& req, std::optional<int> status, std::string_view body,
                        std::string_view retry_after, std::string_view network_error, text_encoding enc,
                        std::int64_t now_ns);

  mi::documents::circuit_state state(quote_source s) const { return src(s).breaker.state(); }
  /// The source that serves now: the primary unless its circuit is open.
  quote_source serving() const;
  const poller_settings& settings() const { return settings_; }
  /// Why the poller is not polling ("" when it is): outside the sessions, a calendar that does not cover today.
  const std::string& idle_reason() const { return idle_reason_; }

private:
  struct source_state {
    source_limits limits;
    mi::documents::token_bucket bucket;
    mi::documents::circuit_breaker breaker;
    std::int64_t not_before_ns = 0; ///< Retry-After
  };
  struct pending {
    std::size_t first = 0; ///< index into settings_.symbols
    std::size_t count = 0;
    bool primary_failed = false;
  };
  source_state& src(quote_source s) { return s == quote_source::tencent ? tencent_ : sina_; }
  const source_state& src(quote_source s) const { return s == quote_source::tencent ? tencent_ : sina_; }
  std::int64_t window_wait(std::int64_t now_ns);
  void start_cycle(std::int64_t now_ns);
  poll_request make(quote_source s, const pending& p, bool failover) const;

  poller_settings settings_;
  const mi::calendar::calendar_set* cals_;
  std::mt19937_64 rng_;
  source_state tencent_, sina_;
  std::deque<pending> queue_; ///< this cycle's batches still to ask for
  std::int64_t next_cycle_ns_;
  std::string idle_reason_;
};

} // namespace mi::cn
