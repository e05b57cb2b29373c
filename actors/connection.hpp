#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "actors/actor_slot.hpp"
#include "config/config.hpp"

namespace mi::net {
class io_thread;
}
namespace mi::gw {
class metrics;
}
namespace mi::binance {
class instruments;
}

namespace mi::actors {

struct connection_args {
  std::string exchange = "binance";
  mi::cfg::exchange_config cfg;
  std::vector<std::string> streams;                         ///< "btcusdt@trade", at most 1024
  std::shared_ptr<const mi::binance::instruments> meta;     ///< from exchangeInfo (may be empty)
  actor_slot_ptr publisher;                                 ///< the (supervised) publisher
  mi::net::io_thread* io = nullptr;
  mi::gw::metrics* metrics = nullptr;
  std::uint64_t seed = 1;                                   ///< backoff jitter
};

/// One exchange WebSocket connection: connect, subscribe (paced, 5 msgs/s), decode frames into
/// trades and publish them, reconnect with exponential backoff and jitter, rotate before the
/// exchange's 24 h cut (new connection first, old one closed after the overlap) or on a
/// `serverShutdown` notice.
///
///   idle ─connect─► connecting ─open─► subscribing ─ack─► streaming
///     ▲                 │ fail              │ close            │ close/deadline
///     └──── backoff ◄───┴───────────────────┴──────────────────┘
///
/// Back-pressure: at most a few publish batches are outstanding; beyond that the socket is
/// paused (TCP back-pressure to the exchange) until the publisher replies.
/// Accepts: (stop_atom) -> closes the sockets and quits.
caf::actor spawn_connection(caf::actor_system& sys, connection_args args);

} // namespace mi::actors
