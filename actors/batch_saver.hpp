#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "actors/saver_batch.hpp"
#include "config/config.hpp"
#include "messages/kline.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw

namespace mi::actors {

struct batch_saver_args {
  saver_kind kind = saver_kind::trades;
  mi::gw::jetstream* js = nullptr;
  mi::gw::metrics* metrics = nullptr;
  std::string stream;  ///< MARKET_RAW or MARKET_KLINE
  std::string durable; ///< durable consumer name, e.g. "saver_trades"
  std::string filter;  ///< "market.raw.>"
  std::string dsn;     ///< PostgreSQL conninfo
  int batch_size = 1000;
  std::chrono::milliseconds batch_timeout{1000};
  /// Deliveries of a message that fails for a data reason before it is dead-lettered.
  int max_attempts = 5;
  /// Dead letters go to `dlq_prefix` + "trades" | "klines" (stream MARKET_DLQ, created by `run`).
  std::string dlq_prefix = "market.dlq.";
  /// synchronous_commit of the PostgreSQL session (false = off).
  bool synchronous_commit = true;
  /// saver.acks: batch (the durable acks all up to a sequence: one ack per stored run, actors/ack_frontier.hpp) or
  /// each (explicit acks, for several savers sharing the durable).
  bool ack_all = true;
  /// How often mi_consumer_lag{consumer=durable} is refreshed from the consumer info.
  std::chrono::milliseconds lag_interval{2000};
};

/// The saver of `kind` as `run` configures it: stream, durable consumer ("saver_trades" |
/// "saver_klines") and filter of nats.*, postgres.dsn and saver.* (js and metrics are the caller's).
batch_saver_args to_saver_args(const mi::cfg::config& cfg, saver_kind kind);

/// Durable pull consumer -> batch (size or time, whichever first) -> one PostgreSQL
/// transaction -> ack. Runs detached (blocking fetch and libpqxx never touch the scheduler).
/// A batch is acked only after its transaction committed; a failed write is retried with
/// backoff and the messages stay un-acked in JetStream meanwhile, so a crash loses nothing and
/// the database's unique keys absorb redeliveries.
///
/// Faults: a transient failure (PostgreSQL down, connection lost, server shutting down) keeps
/// the whole batch in hand and retries with backoff forever; nothing is dead-lettered. A data
/// failure (the server rejects rows: SQLSTATE class 22/23) is narrowed down by bisecting the
/// batch: every good message is stored and acked, each message that fails alone (or does not
/// decode) is nak'ed for redelivery until JetStream's delivery count reaches max_attempts; then
/// it is published to market.dlq.{kind} with headers Mi-Dlq-Reason, Mi-Dlq-Attempts,
/// Mi-Dlq-Subject, Mi-Dlq-Stream, Mi-Dlq-Sequence, Mi-Dlq-Msg-Id (same payload and
/// Content-Type), and acked.
/// Accepts: (stop_atom) -> finishes the batch in hand (write + ack) and quits.
caf::actor spawn_batch_saver(caf::actor_system& sys, batch_saver_args args);

} // namespace mi::actors
