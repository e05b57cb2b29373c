#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/actor_slot.hpp"
#include "actors/caf_types.hpp"
#include "actors/recycler.hpp"

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

namespace mi {
struct trade;
}
namespace mi::gw {
struct outgoing;
class jetstream;
class metrics;
struct publish_outcome;
} // namespace mi::gw

namespace mi::actors {

/// Shared between the publisher and the JetStream ack callback (a nats.c thread): the callback
/// wakes the publisher when in-flight acks fall below the low-water mark while it waits.
/// Outlives every publisher incarnation: a restarted publisher stores its address in the slot
/// (under the slot's lock), so a nats.c thread never reads a handle while it is rewritten.
struct publish_feedback {
  std::atomic<bool> waiting{false};
  actor_slot publisher; ///< the current publisher, set by spawn_publisher on every (re)start
  std::int64_t low_water = 0;
  /// Subject prefix -> stream name, the `stream` label of mi_publish_failures_total
  /// (e.g. {"market.gap.", "MARKET_GAP"}); set before the first publish, read-only afterwards.
  std::vector<std::pair<std::string, std::string>> streams = {{"market.raw.", "MARKET_RAW"},
                                                              {"market.kline.", "MARKET_KLINE"},
                                                              {"market.gap.", "MARKET_GAP"},
                                                              {"market.dlq.", "MARKET_DLQ"}};
};

/// The stream a subject is published to, by `fb.streams`; "other" when none matches.
std::string_view stream_of(const publish_feedback& fb, std::string_view subject);

struct publisher_args {
  mi::gw::jetstream* js = nullptr;
  mi::gw::metrics* metrics = nullptr;
  std::int64_t max_in_flight = 4096;
  std::shared_ptr<publish_feedback> feedback;
};

/// JetStream async publisher with bounded in-flight acks.
/// Accepts: (pub_atom, outgoing_batch) -> bool: the reply comes when every message of the batch
///          was handed to JetStream, which waits while in-flight acks are at the limit: that
///          withheld reply is the back-pressure on producers. Nothing is dropped: a publish nats.c
///          refuses (e.g. while reconnecting) is retried; a timed-out ack is retried with the same
///          Nats-Msg-Id by the gateway. Only a message that can never be sent (a header that would
///          break NATS's header block: the gateway's errc::bad_input) fails at once, counted in
///          mi_publish_failures_total and logged like a publish that failed for good.
///          (resume_atom) from the ack callback; (stop_atom) -> quits once its queue is empty.
caf::actor spawn_publisher(caf::actor_system& sys, publisher_args args);

/// The publisher's emptied batches, for the connections to gather their next take of trades in (actors/recycler.hpp).
recycler<outgoing_batch>& publish_batches();

/// A trade as it goes to MARKET_RAW: subject market.raw.{exchange}.{symbol}, Nats-Msg-Id
/// {exchange}:{symbol}:{trade_id}, protobuf payload. Live and backfilled trades use this one
/// encoding, so the same trade is deduplicated whichever way it came.
mi::gw::outgoing raw_trade_message(const mi::trade& t);

/// The `on_outcome` hook to install in gw::jetstream::options: counts (a permanent failure under
/// its own stream's label), latency, wake-ups.
/// `fb` must outlive the jetstream object.
void on_publish_outcome(const std::shared_ptr<publish_feedback>& fb, mi::gw::metrics* m, mi::gw::jetstream* js,
                        const mi::gw::publish_outcome& o);

} // namespace mi::actors
