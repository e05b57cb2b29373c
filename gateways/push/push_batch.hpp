#pragma once

// The hand-off from writers (the push hub's thread) to one io thread of the push server: one list per io thread,
// so a broadcast to 10,000 clients wakes each io thread about once instead of posting 10,000 handlers to 10,000
// strands (docs/performance.md §12: that post, a futex wake-up each, was most of a delivery's cost).
//
//   writer ── add(item) ──► [pending] ── the first add since the last take: "schedule a run" (one post)
//   io thread ── take() ──► [running] ── delivers each item on its own thread, in the order added
//
// Plain (no Asio): the server posts the run when `add` says so. Items are delivered exactly once and in order; the
// two vectors swap, so a steady state allocates nothing.

#include <mutex>
#include <utility>
#include <vector>

namespace mi::gw {

template <class Item>
class push_batch {
public:
  /// Appends `item`; thread-safe. True when the caller must schedule one run (nothing was pending and no run is
  /// scheduled): at most one run is scheduled at a time.
  bool add(Item&& item) {
    std::lock_guard lock{mu_};
    pending_.push_back(std::move(item));
    if (scheduled_)
      return false;
    scheduled_ = true;
    return true;
  }

  /// In the run: everything added so far, oldest first, in `out` (cleared first; its capacity is reused for the
  /// next adds). The run is over: the next add schedules another one.
  void take(std::vector<Item>& out) {
    out.clear();
    std::lock_guard lock{mu_};
    out.swap(pending_);
    scheduled_ = false;
  }

  /// Items added and not taken yet.
  std::size_t pending() const {
    std::lock_guard lock{mu_};
    return pending_.size();
  }

private:
  mutable std::mutex mu_;
  std::vector<Item> pending_; // guarded by mu_
  bool scheduled_ = false;    // guarded by mu_: a run is scheduled and has not taken yet
};

} // namespace mi::gw
