#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

/// The request discipline of one document source (pure: the time is passed in, never read; docs/operations.md
/// "Documents"): a poll interval with jitter, a token bucket (SEC: at most 10 requests/s), conditional requests
/// (ETag / Last-Modified), a circuit breaker, 429 Retry-After, and the gap record of a source that was unreachable
/// for longer than its backfill horizon. The source's actor owns one and asks it what to do; a broken source never
/// slows another because each has its own.
namespace mi::documents {

/// How one request ended: the label `outcome` of mi_source_requests_total{source,outcome} (a closed set).
enum class request_outcome : std::uint8_t {
  ok,            ///< 2xx, body parsed
  not_modified,  ///< 304 to a conditional request
  rate_limited,  ///< 429 (Retry-After honoured)
  server_error,  ///< 5xx
  client_error,  ///< other 4xx
  network_error, ///< connect, TLS, timeout
  bad_body,      ///< 2xx whose body does not parse (malformed XML/JSON): counted, the source is not trusted
};
/// "ok", "not_modified", "rate_limited", "server_error", "client_error", "network_error", "bad_body".
std::string_view to_string(request_outcome o);
/// Every outcome, in enum order (metric label values).
inline constexpr request_outcome all_request_outcomes[] = {
  request_outcome::ok,           request_outcome::not_modified, request_outcome::rate_limited,
  request_outcome::server_error, request_outcome::client_error, request_outcome::network_error,
  request_outcome::bad_body};
/// The outcome of an HTTP status (200..299 ok, 304, 429, 5xx, other 4xx; anything else server_error).
request_outcome outcome_of_status(int status);
/// True for the outcomes that count as a failure of the source (rate_limited, server_error, network_error,
/// bad_body); client_error is our request's fault and does not open the circuit.
bool is_failure(request_outcome o);

/// Circuit breaker states, the value of mi_source_circuit_state{source}.
///
///      N failures in a row             open_for elapsed
///   closed ─────────────────► open ───────────────────► half_open (one probe request)
///     ▲                        ▲                              │
///     │                        └──────── probe fails ─────────┤
///     └──────────────────────────────── probe succeeds ───────┘
enum class circuit_state : std::uint8_t { closed = 0, open = 1, half_open = 2 };
/// "closed", "open", "half_open".
std::string_view to_string(circuit_state s);

/// A generic cell rate limiter (token bucket): `rate_per_second` requests per second on average, `burst` at once.
class token_bucket {
public:
  token_bucket(double rate_per_second, int burst);
  /// 0 when a request may go at `now_ns` (and takes its token), else the ns to wait before asking again.
  std::int64_t acquire(std::int64_t now_ns);

private:
  std::int64_t interval_ns_;  ///< ns per token
  std::int64_t tolerance_ns_; ///< (burst - 1) tokens of credit
  std::int64_t tat_ns_ = 0;   ///< theoretical arrival time of the next request
};

/// The closed -> open -> half_open machine above.
class circuit_breaker {
public:
  circuit_breaker(int failure_threshold, std::int64_t open_for_ns);
  /// True when a request may go now: closed; or open for open_for and no probe in flight (becomes half_open and the
  /// caller's request is the probe).
  bool allow(std::int64_t now_ns);
  /// A request succeeded: closed, failures forgotten.
  void on_success();
  /// A request failed: one more failure; open after failure_threshold in a row, or at once when it was the probe.
  void on_failure(std::int64_t now_ns);
  circuit_state state() const { return state_; }
  /// When an open circuit lets its probe through.
  std::int64_t reopens_at_ns() const { return opened_at_ns_ + open_for_ns_; }
  int consecutive_failures() const { return failures_; }

private:
  int threshold_;
  std::int64_t open_for_ns_;
  circuit_state state_ = circuit_state::closed;
  int failures_ = 0;
  std::int64_t opened_at_ns_ = 0;
};

/// Conditional-request validators of one URL: the ETag and Last-Modified of the last 200.
struct validators {
  std::string etag;
  std::string last_modified;
  /// The request headers they give: If-None-Match and If-Modified-Since (those that are known).
  std::vector<std::pair<std::string, std::string>> request_headers() const;
  /// Keeps the response's ETag / Last-Modified (a 200; a 304 keeps the old ones).
  void update(std::string_view etag_header, std::string_view last_modified_header);
  bool operator==(const validators&) const = default;
};

/// Retry-After (RFC 9110): delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT") -> the ns to wait
/// from `now_ns` (0 for a date in the past); nullopt when it is neither.
std::optional<std::int64_t> parse_retry_after_ns(std::string_view value, std::int64_t now_ns);

/// One source's settings (config documents.sources.<name>).
struct schedule_config {
  std::int64_t interval_ns = 60'000'000'000;             ///< poll period
  double jitter = 0.1;                                   ///< each period drawn from interval * [1 - jitter, 1 + jitter]
  double requests_per_second = 1;                        ///< token bucket rate (SEC: at most 10)
  int burst = 1;                                         ///< token bucket size
  int failure_threshold = 5;                             ///< failures in a row that open the circuit
  std::int64_t open_for_ns = 60'000'000'000;             ///< an open circuit's wait before the half-open probe
  std::int64_t backfill_horizon_ns = 86'400'000'000'000; ///< unreachable longer than this: a gap record
  std::int64_t max_retry_after_ns = 3'600'000'000'000;   ///< a longer Retry-After is capped (a server's typo)
};

/// A time range in which a source could not be read and which its backfill cannot cover.
struct source_gap {
  std::int64_t from_ns = 0; ///< the last successful poll
  std::int64_t to_ns = 0;   ///< the success that ended the outage
  bool operator==(const source_gap&) const = default;
};

/// The schedule of one source: when to poll, whether a request may go, what each outcome changes.
class source_schedule {
public:
  /// `seed`: the jitter's random generator (tests pass a fixed one); `now_ns`: start time (first poll at once).
  source_schedule(const schedule_config& config, std::uint64_t seed, std::int64_t now_ns);

  /// When the next poll is due: the jittered interval after the last, not before a Retry-After, not before an open
  /// circuit's probe time.
  std::int64_t next_poll_ns() const { return next_poll_ns_; }

  /// 0 when one request (of a poll, or the next page of one) may go at `now_ns`: the circuit allows it and the bucket
  /// has a token (taken). Otherwise the ns to wait.
  std::int64_t acquire(std::int64_t now_ns);

  /// Records how a request ended and plans the next poll. A success after an outage longer than the backfill
  /// horizon returns the gap. `retry_after_ns`: the parsed Retry-After of a 429 or 503.
  std::optional<source_gap> record(request_outcome outcome, std::int64_t now_ns,
                                   std::optional<std::int64_t> retry_after_ns = std::nullopt);

  /// The source was heard from at `now_ns` by another path (Alpaca's news stream): an outage of the polls is
  /// measured from here, so a poll after a long live stream is no gap.
  void heard(std::int64_t now_ns) { last_success_ns_ = std::max(last_success_ns_, now_ns); }

  circuit_state state() const { return breaker_.state(); }
  const circuit_breaker& breaker() const { return breaker_; }

private:
  std::int64_t jittered_interval();

  schedule_config config_;
  std::mt19937_64 rng_;
  token_bucket bucket_;
  circuit_breaker breaker_;
  std::int64_t next_poll_ns_;
  std::int64_t not_before_ns_ = 0; ///< Retry-After
  std::int64_t last_success_ns_;   ///< start counts as a success: an outage is measured from there
};

} // namespace mi::documents
