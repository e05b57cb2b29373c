#pragma once

// The calendars a process uses right now (issue 13: calendars.alpaca_refresh_every). A refresh builds a new
// calendar_set and replaces the feed's snapshot whole; readers take the snapshot (an immutable calendar_set behind a
// shared_ptr that keeps it alive while they use it) and never see a set change under them. version() tells a reader
// cheaply (one atomic load) that a newer snapshot exists: the kline stage's windows check it per trade and take the
// new calendar between windows (actors/kline_stage.cpp), the API and the daily job read current() per request.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "messages/calendar/calendar.hpp"

namespace mi::calendar {

/// The current calendar set of a process, replaced whole by a refresh.
class calendar_feed {
public:
  /// Starts with `first` (null: CRYPTO only).
  explicit calendar_feed(std::shared_ptr<const calendar_set> first);
  /// The snapshot in use now; never null, never changed after it was published.
  std::shared_ptr<const calendar_set> current() const;
  /// 1 for the first snapshot, + 1 per replace().
  std::uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
  /// Publishes `next` (ignored when null): readers that take current() from now on get it.
  void replace(std::shared_ptr<const calendar_set> next);

private:
  mutable std::mutex mu_;
  std::shared_ptr<const calendar_set> set_;
  std::atomic<std::uint64_t> version_{1};
};

/// True when the two calendars of a market say the same about every covered day (zone, sessions, covered range and
/// dated rules): a refresh that changes nothing is not published.
bool same_days(const calendar& a, const calendar& b);

} // namespace mi::calendar
