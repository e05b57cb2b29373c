#pragma once

// The one synchronous way to publish to JetStream, for the callers that must know a message is
// stored before they go on: the kline sink (a final before its checkpoint) and the savers (a dead
// letter before the original's ack). The asynchronous path (trades, quarantined trades, gap
// reports) is the publisher actor (actors/publisher.hpp). Retry and backoff live here, once.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <utility>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/result.hpp"

namespace mi::gw {

/// How a synchronous caller retries: waits `initial` after the first failure, doubling up to `max`;
/// at most `attempts` attempts in all (0: until one succeeds).
struct retry_policy {
  std::chrono::milliseconds initial{50};
  std::chrono::milliseconds max{5000};
  int attempts = 0;

  /// The wait after `failed` failed attempts (failed >= 1): initial, 2 initial, 4 initial, ... up to max.
  std::chrono::milliseconds delay_after(int failed) const;
  /// True when another attempt is allowed after `failed` failures.
  bool may_retry(int failed) const { return attempts <= 0 || failed < attempts; }
};

/// What must never be lost (finals, checkpoints): retried until it succeeds, 50 ms doubling to 5 s.
inline constexpr retry_policy until_stored{};
/// One attempt: the caller's own retry is elsewhere (an un-acked message comes back by redelivery).
inline constexpr retry_policy one_attempt{std::chrono::milliseconds(0), std::chrono::milliseconds(0), 1};

/// Told before each wait: the error of the attempt that failed and how long until the next one
/// (for the caller's log line or counter).
using retry_listener = std::function<void(const mi::error&, std::chrono::milliseconds wait)>;

/// Calls `attempt` (returning an mi::result) until it succeeds or `p` allows no more attempts,
/// sleeping between attempts; returns the last result. Blocking: detached actors and tools only.
/// `cancel` (may be null), once true, stops the retries: the last failure is returned at once (a kline
/// sink whose partition was taken over must not write after the next owner started).
template <class F>
auto with_retries(const retry_policy& p, F&& attempt, const retry_listener& on_retry = {},
                  const std::atomic<bool>* cancel = nullptr) -> decltype(attempt()) {
  for (int failed = 0;;) {
    auto r = attempt();
    if (r || !p.may_retry(++failed) || (cancel != nullptr && cancel->load()))
      return r;
    const auto wait = p.delay_after(failed);
    if (on_retry)
      on_retry(r.err(), wait);
    std::this_thread::sleep_for(wait);
  }
}

/// Publishes `m` (its Nats-Msg-Id, Content-Type and more headers) and waits for JetStream's ack,
/// retrying by `p` with the same message (a message that was stored although its ack was lost is
/// then recognised by its Nats-Msg-Id as a duplicate). Returns (stream sequence, duplicate) or the
/// last error. Blocking: detached actors and tools only.
mi::result<std::pair<std::uint64_t, bool>> publish_acked(jetstream& js, const outgoing& m, const retry_policy& p,
                                                         const retry_listener& on_retry = {},
                                                         const std::atomic<bool>* cancel = nullptr);

} // namespace mi::gw
