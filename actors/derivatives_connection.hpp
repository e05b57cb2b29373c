#pragma once

#include <cstdint>
#include <string>

#include "actors/actor_slot.hpp"
#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "config/config.hpp"

namespace mi::net {
class io_thread;
}

namespace mi::actors {

/// What a derivatives connection needs.
struct derivatives_connection_args {
  std::string venue = "binance-usdm"; ///< a derivatives venue (messages/venue_registry derivatives_venues())
  mi::cfg::derivatives_config cfg;
  actor_slot_ptr publisher; ///< the (supervised) publisher
  mi::net::io_thread* io = nullptr;
  std::uint64_t seed = 1; ///< backoff jitter
};

/// One perpetual-swap venue's WebSocket connection (issue 15, derivatives channels): connect, subscribe every channel
/// of its symbols (mi::venue::derivatives_feed), heartbeat, decode frames into market.v1.Derivative events published
/// to market.{funding,mark,oi,liquidation}.{exchange}.{symbol} (stream MARKET_DERIV, dedup id mi::deriv::dedup_id),
/// reconnect with exponential backoff and jitter; binance-usdm's open interest is polled from REST every
/// open_interest_interval by a detached helper (blocking HTTP never runs on the scheduler). Malformed frames are
/// logged (rate-limited) and skipped. Accepts: (stop_atom).
caf::actor spawn_derivatives_connection(caf::actor_system& sys, derivatives_connection_args args);

} // namespace mi::actors
