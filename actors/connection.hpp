#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "actors/actor_slot.hpp"
#include "config/config.hpp"
#include "connectors/venue/venue.hpp"
#include "messages/trade_admission.hpp"

namespace mi::net {
class io_thread;
}
namespace mi::gw {
class metrics;
class jetstream;
} // namespace mi::gw

namespace mi::actors {

/// The trade with the highest id of a symbol stored before this process started (app/ingest.cpp
/// load_seeds): gap detection starts from it, so a restart does not lose the downtime's trades.
struct last_trade {
  std::string symbol;
  std::int64_t id = 0;
  std::int64_t ts_ns = 0;
};

struct connection_args {
  std::string exchange = "binance";
  mi::cfg::exchange_config cfg;
  mi::venue::venue_options venue_opts;
  std::vector<mi::venue::subscription> subs; ///< within the venue's per-connection limit
  mi::venue::instruments_ptr instruments;    ///< parsed once per exchange, shared (may be null)
  std::vector<last_trade> seeds;             ///< last stored trade per symbol
  actor_slot_ptr publisher;                  ///< the (supervised) publisher
  actor_slot_ptr backfill;                   ///< the exchange's (supervised) backfill actor; null: none
  mi::net::io_thread* io = nullptr;
  mi::gw::metrics* metrics = nullptr;
  std::uint64_t seed = 1;         ///< backoff jitter
  mi::admission_limits admission; ///< edge check before MARKET_RAW (actors/quarantine.hpp)
  /// Core NATS for market.bbo.* (best effort, no stream); null: no BBO is published. Books themselves go through
  /// the publisher (MARKET_BOOK and the book_snapshots bucket).
  mi::gw::jetstream* js = nullptr;
};

/// One exchange WebSocket connection, any of the five exchanges (the protocol is a mi::venue):
/// connect, subscribe (paced within the exchange's limit), heartbeat, decode frames into trades
/// and publish them, detect gaps in sequential trade ids and hand them to the backfill actor,
/// reconnect with exponential backoff and jitter, rotate before the exchange's 24 h cut (new
/// connection first, old one closed after the overlap) or on a forced-disconnect notice.
///
///   idle ─connect─► connecting ─open─► subscribing ─ack─► streaming
///     ▲                 │ fail              │ close            │ close/deadline/watchdog
///     └──── backoff ◄───┴───────────────────┴──────────────────┘
///
/// Watchdog (1 s tick): a dead heartbeat or a connection without trades for silence_timeout
/// (after it had some) is reconnected; a symbol without trades for symbol_silence is resubscribed
/// (the venue's unsubscribe, then subscribe: a second SUBSCRIBE alone is a no-op on the exchanges).
/// Venues without sequential ids (Bybit): the ids of the last 1000 trades per symbol (live and polled)
/// are kept, and only trades not seen before are published.
/// Back-pressure: at most a few publish batches are outstanding; beyond that the socket is
/// paused (TCP back-pressure to the exchange) until the publisher replies.
/// Books (cfg.books.enabled): the venue's book channel of every symbol on the same connection, one book codec per
/// symbol (venue::book_feed): market.book.{exchange}.{symbol} (snapshot when valid and every snapshot_interval,
/// deltas between, our gap-free sequence) and the latest snapshot in the book_snapshots bucket through the
/// publisher, top of book on core NATS market.bbo.{exchange}.{symbol}. A resync (sequence break, checksum mismatch,
/// stale REST snapshot, reconnect) is counted (mi_book_resyncs_total) and publishes the book invalid until a new
/// snapshot: Binance's from REST through the backfill actor, the others' by unsubscribing and subscribing again.
/// Accepts: (stop_atom) -> closes the sockets and quits; (bookrest_atom, symbol, ok, body) -> a REST book snapshot;
/// (recent_atom, symbol, trade_list) -> the backfill actor's answer to a recent-trades poll: publishes the trades not
/// seen before.
caf::actor spawn_connection(caf::actor_system& sys, connection_args args);

} // namespace mi::actors
