#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace mi::net {

/// Reconnect delay policy: exponential from `initial` to `max` with full jitter (a uniform delay in
/// [0, min(max, initial * 2^attempt)]), reset once a connection stayed up for `healthy_after`.
/// Pure: the caller passes times and a seed, so tests and replays are deterministic.
class backoff {
public:
  /// Typical: backoff{1s, 60s, 30s, seed}.
  backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, std::chrono::milliseconds healthy_after,
          std::uint64_t seed);

  /// The delay before the next attempt, after a failed or closed connection; grows the exponent.
  std::chrono::milliseconds next_delay();

  /// The current upper bound of next_delay() (before jitter).
  std::chrono::milliseconds current_cap() const;

  /// A connection was established (handshake done) at now_ns.
  void on_connected(std::int64_t now_ns);

  /// The connection ended at now_ns; resets the exponent if it lived >= healthy_after.
  void on_disconnected(std::int64_t now_ns);

  /// Failed attempts since the last reset.
  std::uint32_t attempts() const { return attempt_; }

private:
  std::uint64_t next_random();

  std::chrono::milliseconds initial_, max_, healthy_after_;
  std::uint64_t state_;
  std::uint32_t attempt_ = 0;
  std::optional<std::int64_t> connected_ns_;
};

} // namespace mi::net
