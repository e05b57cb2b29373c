#pragma once

#include <vector>

#include "actors/actor_slot.hpp"
#include "actors/supervisor.hpp"
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

/// Plans every enabled exchange: fetches its REST instruments (a configured symbol it does not list
/// is logged, counted in mi_symbols_rejected_total and skipped; the others run on), plans its
/// connections within the exchange's per-connection limit, and returns the children of the ingest
/// role's supervisor: per exchange its backfill actor, then its connection actors (stopped in the
/// reverse order: connections first). Each (re)start of a connection seeds its gap detection with the
/// highest trade id stored in the raw stream for each of its symbols (the subject's last message, or,
/// when that is a backfilled trade, the highest id of the subject's tail: venue::seed_scan_from).
std::vector<mi::actors::child_spec> ingest_children(const mi::cfg::config& cfg, mi::gw::jetstream& js,
                                                    const mi::actors::actor_slot_ptr& publisher, mi::net::io_thread& io,
                                                    mi::gw::metrics& metrics);

} // namespace mi::app
