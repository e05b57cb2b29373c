#pragma once

// The derivatives saver (role store): every event on MARKET_DERIV (market.v1.Derivative: funding, mark, open interest,
// liquidation; actors/derivatives_connection.hpp) into market_derivatives (migration 0010), one row per event,
// through the durable consumer `saver_derivatives`.

#include <string>

#include "caf/fwd.hpp"

namespace mi::gw {
class jetstream;
} // namespace mi::gw

namespace mi::actors {

struct derivatives_saver_args {
  mi::gw::jetstream* js = nullptr;
  std::string stream = "MARKET_DERIV";
  std::string durable = "saver_derivatives";
  std::string dsn;
};

/// Detached (fetches and writes block): fetch up to 500 events (1 s wait), insert them in one transaction, ack; a
/// message that is not a Derivative is terminated (it can never be stored) and logged; on a database error nothing is
/// acked and it retries with backoff (state "retrying", the error in inspection). Accepts (stop_atom).
caf::actor spawn_derivatives_saver(caf::actor_system& sys, derivatives_saver_args args);

} // namespace mi::actors
