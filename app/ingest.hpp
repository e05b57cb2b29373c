#pragma once

#include <vector>

#include "actors/actor_slot.hpp"
#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "config/config.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw
namespace mi::net {
class io_thread;
}

namespace mi::app {

/// The supervised actors of the ingest role.
struct ingest_actors {
  std::vector<caf::actor> connections; ///< connection supervisors (stop these first)
  std::vector<caf::actor> backfills;   ///< backfill supervisors, one per exchange (stop after the connections)
};

/// Starts every enabled exchange: fetches its REST instruments (a configured symbol it does not list
/// is logged, counted in mi_symbols_rejected_total and skipped; the others run on), plans its
/// connections within the exchange's per-connection limit, and spawns a supervised backfill actor
/// and supervised connection actors. Each (re)start of a connection seeds its gap detection with the
/// highest trade id stored in the raw stream for each of its symbols (the subject's last message, or,
/// when that is a backfilled trade, the highest id of the subject's tail: venue::seed_scan_from).
ingest_actors start_ingest(caf::actor_system& sys, const mi::cfg::config& cfg, mi::gw::jetstream& js,
                           const mi::actors::actor_slot_ptr& publisher, mi::net::io_thread& io,
                           mi::gw::metrics& metrics);

} // namespace mi::app
