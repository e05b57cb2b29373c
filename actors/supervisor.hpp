#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

namespace mi::actors {

/// How a supervisor restarts its child.
struct supervisor_args {
  std::string name;                                    ///< for logs: "connection.binance"
  std::function<caf::actor(caf::actor_system&)> spawn; ///< makes a fresh child
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
  int max_restarts = 20;                               ///< within `window`, then escalate
  std::chrono::seconds window{60};
};

/// Keeps one child alive: monitors it, restarts it with exponential backoff when it dies
/// abnormally, and quits with the child's error (escalates) after too many restarts.
/// Accepts: (stop_atom) -> forwards stop to the child, quits once the child is down.
caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_args args);

} // namespace mi::actors
