#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "connectors/venue/venue.hpp"

namespace mi::venue {

/// Paces REST requests to one exchange within its documented limits (rest_limits, from the venue) and
/// honours what its answers say: the weight used this minute (Binance X-MBX-USED-WEIGHT-1M) and, on HTTP
/// 429 or the venue's ban status (Binance 418, Bybit 403), Retry-After. Pure: the caller passes the wall
/// clock (ns since the epoch; Binance's weight windows are calendar minutes) and the answer's headers.
///
///   wait_ns(now) == 0 ──► on_request(now) ──► GET ──► on_answer(now, status, headers)
///        ▲                                                  │ throttled: nothing before Retry-After
///        └──────────────────────────────────────────────────┘
class rest_throttle {
public:
  explicit rest_throttle(rest_limits l) : l_(std::move(l)) {}

  /// How long to wait from now_ns before the next request may be sent; 0: now.
  std::int64_t wait_ns(std::int64_t now_ns) const;
  /// A request is sent at now_ns: counts its weight and starts the minimum interval.
  void on_request(std::int64_t now_ns);

  enum class outcome : std::uint8_t {
    ok,        ///< not a rate-limit answer (success or another error)
    throttled, ///< 429 or the venue's ban status: no request before Retry-After (or the default wait)
  };
  /// The answer to the last request: its status, its Retry-After header and its used-weight header
  /// (empty when absent). A Retry-After that is not whole seconds uses the venue's default wait.
  outcome on_answer(std::int64_t now_ns, unsigned status, std::string_view retry_after, std::string_view used_weight);

  /// The time (ns since the epoch) before which no request goes because of a 429/ban; 0: none so far.
  std::int64_t blocked_until_ns() const { return blocked_until_ns_; }
  const rest_limits& limits() const { return l_; }

  /// The share of weight_per_minute the throttle uses (the rest is left to other processes behind the
  /// same IP and to the instruments request): 90 %.
  static constexpr std::int64_t budget_percent = 90;

private:
  rest_limits l_;
  std::int64_t next_ns_ = 0;          // min interval after the last request
  std::int64_t blocked_until_ns_ = 0; // Retry-After
  std::int64_t minute_ = -1;          // calendar minute that used_ counts
  std::int64_t used_ = 0;             // weight used in minute_ (the exchange's figure when it sends one)
};

/// Whole seconds of a Retry-After header ("120" -> 120); nullopt for an HTTP date, garbage or empty.
std::optional<std::int64_t> retry_after_seconds(std::string_view value);

} // namespace mi::venue
