#pragma once

// The event time of each message in flight (outgoing::event_ts_ns, handed back in its publish_outcome), keyed by
// the message handle: an open-addressing slot array sized by the publish window, so a publish and its ack cost no
// allocation (the std::unordered_map it replaces allocated a node per publish). Not thread-safe: the jetstream
// gateway holds its lock around each call. Pure, unit-tested (event_times.test.cpp).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mi::gw {

class event_times {
public:
  /// Room for `window` messages in flight without growing (nats.c's max_pending); the slot array is twice that,
  /// rounded up to a power of two. More messages in flight (retries waiting beside a full window) double it: rare,
  /// and the only allocation after construction.
  explicit event_times(std::size_t window);

  /// Records `ts_ns` (non-zero) for `key` (non-null), replacing an earlier record of the same key.
  void put(const void* key, std::int64_t ts_ns);
  /// The time recorded for `key`, forgotten; 0 when there is none.
  std::int64_t take(const void* key);
  /// Records held.
  std::size_t size() const { return size_; }
  /// Slots (a power of two): grows only when more than half would be used.
  std::size_t capacity() const { return slots_.size(); }

private:
  struct slot {
    const void* key = nullptr; ///< nullptr: empty
    std::int64_t ts_ns = 0;
  };
  std::size_t home(const void* key) const;
  void grow();
  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

} // namespace mi::gw
