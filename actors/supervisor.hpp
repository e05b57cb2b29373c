#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "actors/restart_policy.hpp"
#include "caf/actor.hpp"
#include "caf/fwd.hpp"

namespace mi::gw {
class metrics;
}

namespace mi::actors {

/// One child of a supervisor.
struct child_spec {
  std::string name;                                    ///< for logs: "connection.binance.1"
  std::function<caf::actor(caf::actor_system&)> spawn; ///< makes a fresh child (and publishes its address)
};

/// A one-for-one supervisor: its children, how to restart each, and where to count restarts.
struct supervisor_args {
  std::string name;                              ///< the role ("ingest", "kline", ...) or "root"
  std::vector<child_spec> children;              ///< started in this order, stopped in the reverse order
  restart_limits limits;                         ///< per child
  std::chrono::milliseconds stop_timeout{30000}; ///< a child not gone this long after stop is killed
  mi::gw::metrics* metrics = nullptr;            ///< mi_actor_restarts_total{supervisor}; may be null
};

/// The supervision tree (docs/architecture.md, "Supervision"):
///
///   root (max_restarts 0) --- role supervisor "ingest" --- backfill.binance, connection.binance.1, ...
///                          +- role supervisor "kline"  --- kline_stage (router -> symbol windows, sink)
///                          +- ...
///
/// Each child is linked and monitored. A child that dies with an error is restarted alone (one
/// for one) after its restart_policy's backoff; a child that exits normally is done. When a
/// child fails once more than `limits.max_restarts` within `limits.window`, the supervisor gives
/// up: it logs why and quits with an error naming itself, the child and the last reason; the
/// link takes its other children down with it, and its own parent sees the failure. The root
/// restarts nothing: a role that gives up ends the root, which the application monitors and
/// turns into a non-zero exit.
/// A supervisor whose parent (a linked actor that is not its child) dies, dies with it.
/// Accepts: (stop_atom) -> stops the children one by one in reverse order (each gets
///          stop_timeout, then is killed), quits normally once all are down;
///          (status_atom) -> std::vector<std::string>: the names of the children alive now.
caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_args args);

/// The exit reason for an exception that escaped an actor's handler: runtime_error carrying
/// e.what(), so the supervisor's log and escalation say what happened (CAF's default handler
/// keeps only "runtime_error"). Install first thing: self->set_exception_handler(exception_error).
caf::error exception_error(std::exception_ptr& x);

/// The error a supervisor quits with when it gives up: "{supervisor}: {child} failed {n} times
/// within {window}, last: {reason}".
std::string describe_escalation(caf::actor_system& sys, const caf::error& reason);

} // namespace mi::actors
