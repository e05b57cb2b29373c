#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "messages/kline.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw

namespace mi::actors {

/// What a saver stores.
enum class saver_kind : std::uint8_t { trades, klines };

struct batch_saver_args {
  saver_kind kind = saver_kind::trades;
  mi::gw::jetstream* js = nullptr;
  mi::gw::metrics* metrics = nullptr;
  std::string stream;          ///< MARKET_RAW or MARKET_KLINE
  std::string durable;         ///< durable consumer name, e.g. "saver_trades"
  std::string filter;          ///< "market.raw.>"
  std::string dsn;             ///< PostgreSQL conninfo
  int batch_size = 1000;
  std::chrono::milliseconds batch_timeout{1000};
};

/// Durable pull consumer -> batch (size or time, whichever first) -> one PostgreSQL
/// transaction -> ack. Runs detached (blocking fetch and libpqxx never touch the scheduler).
/// A batch is acked only after its transaction committed; a failed write is retried with
/// backoff and the messages stay un-acked in JetStream meanwhile, so a crash loses nothing and
/// the database's unique keys absorb redeliveries.
/// Accepts: (stop_atom) -> finishes the batch in hand (write + ack) and quits.
caf::actor spawn_batch_saver(caf::actor_system& sys, batch_saver_args args);

/// The finals of a kline batch, one per (exchange, symbol, interval, open time), highest
/// revision kept (one upsert statement cannot touch a row twice); partials dropped. Pure.
std::vector<mi::kline> finals_to_store(std::vector<mi::kline> batch);

} // namespace mi::actors
