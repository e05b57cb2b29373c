#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/raw_feed.hpp"
#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "config/config.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/calendar/calendar_feed.hpp"
#include "messages/kline/kline_engine.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw

namespace mi::actors {

/// Test-only faults (config `testing.fault`), for the supervision tests.
enum class kline_fault {
  none,
  stage_throws,       ///< the stage throws at every start (its role gives up)
  window_throws_once, ///< the first symbol window to get its fault_after_trades-th trade throws, once per process
  reader_stalls_once, ///< the MARKET_RAW reader goes silent after fault_after_trades messages, once per process
};

/// "" | "kline_stage_throws" | "symbol_window_throws_once" | "kline_reader_stalls_once" (validated by config);
/// anything else: none.
kline_fault parse_kline_fault(const std::string& text);

struct kline_stage_args {
  /// Finals (acked publishes), checkpoints (KV), live partials (core NATS market.partial.>, best effort).
  mi::gw::jetstream* js = nullptr;
  mi::gw::metrics* metrics = nullptr;
  mi::cfg::kline_config cfg;
  std::string raw_stream = "MARKET_RAW";
  std::string kline_stream = "MARKET_KLINE";   ///< where the finals go (a duplicate's kept copy is read back from it)
  std::string state_bucket = "MI_KLINE_STATE"; ///< KV bucket of the per-symbol checkpoints
  /// This stage aggregates the symbols of partition `partition` of `partitions` (messages/kline/partition.hpp):
  /// it reads every MARKET_RAW message but forwards only theirs, restores only their checkpoints and keeps its
  /// global resume sequence under its own key. 1 partition: every symbol (the single stage).
  std::uint32_t partition = 0;
  std::uint32_t partitions = 1;
  /// Set when this node lost the partition's lease (kline_partitions): from then on the sink publishes and stores
  /// nothing more, not even what it holds (the next owner rebuilds it from the checkpoints). Null: never.
  std::shared_ptr<std::atomic<bool>> abandoned;
  /// This process's acked MARKET_RAW publishes (klines.feed: local on an ingest node): the stage takes them as
  /// they are acked once its reader is at the end of the stream, and reads the stream again for what they miss
  /// (docs/architecture.md "The kline stage's feed"). Null: the stage reads MARKET_RAW only.
  std::shared_ptr<local_raw_feed> local_feed;
  kline_fault fault = kline_fault::none; ///< test only
  int fault_after_trades = 100;          ///< test only
  /// A trade of MARKET_RAW stamped more than this after its receive time is skipped (counted in
  /// mi_kline_trades_skipped_total{reason="clock_skew"}); it neither opens a window nor moves the
  /// watermark. A restored watermark beyond now + this is forgotten (ingest.max_clock_skew).
  std::int64_t max_clock_skew_ms = 300'000;
  /// The markets' calendars (calendars.dir): a symbol aggregates on the calendar of its venue's market
  /// (venue_registry `market`); nullptr or a market without a calendar: UTC windows (crypto). A refreshed snapshot
  /// (calendars.alpaca_refresh_every) is taken by each symbol between sessions: at its first trade or close with no
  /// window of a day or shorter open (symbol_windows::set_sessions); an open window keeps the bounds it opened with.
  std::shared_ptr<const mi::calendar::calendar_feed> calendars;
};

/// The calendar a venue's symbols aggregate on: its registry market's in `calendars`; nullptr for CRYPTO, an unknown
/// venue, or a market `calendars` lacks (the caller checks at start that every enabled venue's market is loaded).
const mi::calendar::calendar* calendar_of_venue(const mi::calendar::calendar_set* calendars, std::string_view venue);

/// The engine options of `klines.*` (intervals validated by config) and ingest.max_clock_skew: one
/// mapping for the kline stage and `replay`, so a replayed candle is built as the live one.
mi::kline_engine::options to_options(const mi::cfg::kline_config& cfg, std::int64_t max_clock_skew_ms);

/// The kline stage: a router fed by an ordered consumer of MARKET_RAW, one symbol_window actor
/// per (exchange, symbol) created on its first trade, and a sink that publishes finals
/// synchronously to MARKET_KLINE (each acked by JetStream, dedup id `{ex}:{sym}:{iv}:{open}:{rev}`,
/// gateways/jetstream/sync_publish.hpp) and then stores the symbol's checkpoint. Live partial
/// candles go to core NATS `market.partial.{ex}.{sym}.{iv}` (no stream, best effort). On start the router reads the
/// checkpoints and replays MARKET_RAW from the lowest sequence any symbol still needs (docs/architecture.md, "Kline
/// recovery"), so a `kill -9` at any moment changes no final. The checkpoint keeps the finals a late trade may revise
/// and the recent trade ids, so a late trade after a restart or a passivation publishes revision + 1 as it would have
/// without one. The sink and every symbol window are linked to the router: a window or the sink that dies with an error
/// takes the stage down, and its supervisor restarts the stage, which restores each window from its checkpoint and
/// replays MARKET_RAW from there (finals already published come again with the same dedup id: JetStream keeps one). A
/// single window cannot rewind the shared consumer, so the stage restarts as a whole. Accepts (router): (stop_atom) ->
/// stops the consumer, lets the sink finish, quits.
caf::actor spawn_kline_stage(caf::actor_system& sys, kline_stage_args args);

} // namespace mi::actors
