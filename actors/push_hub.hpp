#pragma once

#include <cstddef>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

namespace mi::gw {
class metrics;
}

namespace mi::actors {

struct push_hub_args {
  mi::gw::metrics* metrics = nullptr;
  std::size_t max_channels = 100; ///< per client
};

/// The push gateway's router: one client_session actor per WebSocket client (its protocol,
/// its subscriptions), and the channel index that fans each kline out to the subscribed
/// sessions. A kline is encoded to JSON once and shared by every receiver; each client's
/// bounded queue (in gw::push_server) drops that client's newest messages when full.
/// Accepts: (c_open_atom, session_ptr), (c_text_atom, client_id, std::string),
///          (c_close_atom, client_id) from the server's io thread;
///          (kmsg_atom, std::string subject, std::string payload) from the MARKET_KLINE
///          consumer (new messages only, never history); (stop_atom).
/// Sessions are monitored: a session actor that dies with an error is removed from the index,
/// its client closed with 1011, and counted (mi_push_sessions_failed_total).
caf::actor spawn_push_hub(caf::actor_system& sys, push_hub_args args);

} // namespace mi::actors
