#pragma once

// Items a foreign thread (a WebSocket client's I/O thread, a nats.c delivery thread) hands to an actor, in bursts.
// The thread appends; only the append that finds the inbox empty tells the actor (one mailbox message, "ring"); the
// actor takes everything queued when it gets to that message. Items that arrive while the actor is busy then cost
// one mailbox message, one wake-up of a CAF worker and one downstream batch instead of one of each per item
// (docs/performance.md §21). No item waits for a later one: every item either rang or sits behind one that did.
// Bounded like the mailbox it replaces (a connection whose publishes back up stops reading its socket; nats.c's
// pending limits bound a subscription).

#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

namespace mi::actors {

template <class T>
class inbox {
public:
  /// Appends one item; true when the inbox was empty, so the caller must ring the consumer.
  bool put(T&& item) {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(item));
    return items_.size() == 1;
  }

  /// As put, unless `at_most` items are queued already: then the item is dropped (nullopt).
  std::optional<bool> put_at_most(T&& item, std::size_t at_most) {
    std::lock_guard lock(mu_);
    if (items_.size() >= at_most)
      return std::nullopt;
    items_.push_back(std::move(item));
    return items_.size() == 1;
  }
  /// Moves every queued item, oldest first, into `out` (cleared first; its storage is reused unless a burst made it
  /// larger than kept_capacity items: then it is released, so one burst does not hold its memory for good).
  void take(std::vector<T>& out) {
    out.clear();
    if (out.capacity() > kept_capacity)
      std::vector<T>().swap(out);
    std::lock_guard lock(mu_);
    items_.swap(out);
  }

  static constexpr std::size_t kept_capacity = 4096;

private:
  std::mutex mu_;
  std::vector<T> items_;
};

} // namespace mi::actors
