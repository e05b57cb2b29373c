#pragma once

// One durable consumer into PostgreSQL, the way every small saver of the store role works (gap reports, derivatives,
// quotes, documents): fetch a batch, decode each message (one that can never be stored is terminated and logged),
// write the batch in one transaction, ack after the commit; a write that fails acks nothing (nak: redelivered) and
// retries with backoff (state "retrying", the error in inspection). The trades and klines savers are the batch_saver
// (actors/batch_saver.hpp): they bisect, dead-letter and count per row, which these streams do not need.

#include <chrono>
#include <functional>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "messages/result.hpp"

namespace mi::gw {
class jetstream;
class js_message;
} // namespace mi::gw

namespace mi::actors {

struct row_saver_args {
  std::string what;  ///< "quote saver": log lines
  std::string actor; ///< inspection name: "quote_saver"
  mi::gw::jetstream* js = nullptr;
  std::string stream;
  std::string durable;
  int batch = 500;                            ///< messages per fetch (and transaction)
  std::chrono::milliseconds wait{500};        ///< a fetch's wait for the first message
  int max_ack_pending = 4 * 500 + 100;        ///< the durable consumer's bound
  std::chrono::milliseconds backoff_min{100}; ///< after a failure: doubling to 5 s
  /// Adds a message to the batch being built; an error says why it can never be stored (it is terminated).
  std::function<mi::result<bool>(const mi::gw::js_message&)> add;
  /// Writes the batch added since the last call and empties it (also on error). An error: nothing is acked.
  std::function<mi::result<bool>()> write;
};

/// Detached (fetches and writes block). Accepts (stop_atom).
caf::actor spawn_row_saver(caf::actor_system& sys, row_saver_args args);

} // namespace mi::actors
