#pragma once

#include <chrono>
#include <functional>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

namespace mi::actors {

/// Settings of the periodic calendar refresh (calendars.alpaca_refresh_every).
struct calendar_refresh_args {
  std::chrono::milliseconds every{86'400'000}; ///< period; the first run is one period after the start
  /// One refresh (blocking: an HTTP request): fetches, merges into a copy of the feed's snapshot, publishes a changed
  /// set, logs and counts (app/roles.cpp refresh_market_calendars). Never throws.
  std::function<void()> refresh;
};

/// Detached actor (the refresh blocks on HTTP): runs args.refresh every args.every. The start-time refresh is done
/// by the calendar load itself (app/roles.cpp), so the first run here is one period after the start.
/// Accepts: (stop_atom) -> quits.
caf::actor spawn_calendar_refresh(caf::actor_system& sys, calendar_refresh_args args);

} // namespace mi::actors
