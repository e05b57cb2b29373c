#pragma once

// The store path of MARKET_QUOTE (issue 13): every equities venue's quote snapshots (Alpaca's quotes, the A-share
// venue's polled snapshots) into market_quotes through gateways/postgres equity_writer. Thin: the rows are
// equity_writer's (a quote already stored is kept once), the batching is the consumer's fetch.

#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw

namespace mi::actors {

/// The quote saver's arguments.
struct quote_saver_args {
  mi::gw::jetstream* js = nullptr;
  std::string stream = "MARKET_QUOTE";
  std::string durable = "saver_quotes";
  std::string dsn;
  int batch_size = 500;
  mi::gw::metrics* metrics = nullptr;
};

/// Detached actor: durable pull consumer on the stream -> equity_writer::write (one transaction a batch) -> ack
/// after the commit. A message that is not a market.v1.Quote is terminated (logged); a database error leaves the
/// batch un-acked (nak: redelivered) and retries with backoff, so nothing is lost and nothing stored twice.
/// Accepts: (stop_atom) -> quits.
caf::actor spawn_quote_saver(caf::actor_system& sys, quote_saver_args args);

} // namespace mi::actors
