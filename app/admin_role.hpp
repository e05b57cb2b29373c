#pragma once

// Role admin: the operator's console (docs/operations.md "Operator's console") on admin.listen.

#include <memory>

#include "caf/fwd.hpp"

#include "actors/actor_slot.hpp"
#include "config/config.hpp"
#include "gateways/http/admin.hpp"
#include "gateways/http/api.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw
namespace mi::net {
class io_thread;
}

namespace mi::app {

/// What the console reads and acts on; everything outlives the role.
struct admin_deps {
  const mi::cfg::config* cfg = nullptr;
  mi::net::io_thread* io = nullptr;
  mi::gw::metrics* metrics = nullptr;
  mi::gw::jetstream* js = nullptr;
  std::shared_ptr<mi::actors::actor_slot> push_hub; ///< the push hub's address (role push); null: no push role
  caf::actor_system* sys = nullptr;                 ///< to ask the push hub
};

/// The console's server and the history service behind its chart and coverage table.
struct admin_role {
  std::unique_ptr<mi::gw::api_service> history;
  std::unique_ptr<mi::gw::http_server> server; ///< declared after `history`: destroyed (workers joined) first
  void stop() {
    if (server)
      server->stop();
  }
};

/// Starts the console: sections (actors, connections, jetstream, database, push), the event stream, the actions
/// (restart, pause, resume, ...) and the REST history behind the admin token. False after logging why.
bool start_admin(admin_role& out, const admin_deps& d);

} // namespace mi::app
