#include "actors/kline_stage.hpp"
#include "actors/inbox.hpp"
#include "actors/inspection.hpp"

#include <atomic>
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <map>
#include <spdlog/spdlog.h>
#include <thread>
#include <unordered_map>

#include "actors/caf_types.hpp"
#include "actors/kline_recovery.hpp"
#include "actors/raw_feed.hpp"
#include "actors/supervisor.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/fenced_kv.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/jetstream/range_reader.hpp"
#include "gateways/jetstream/sync_publish.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/codec.hpp"
#include "messages/kline/kline_engine.hpp"
#include "messages/kline/partition.hpp"
#include "messages/util/clock.hpp"
#include "messages/venue_registry.hpp"

namespace mi::actors {
namespace {

namespace ke = mi::kline_engine;

// Wall-clock closes have their own timers; the tick drives partials, fills and passivation.
constexpr auto tick_every = std::chrono::milliseconds(500);
constexpr auto global_every = std::chrono::seconds(2);
// A MARKET_RAW reader that delivered nothing this long while the stream grew is started again
// after the last sequence it delivered (a push consumer can stall: nats.c's ordered consumer
// relies on heartbeats and a re-create that can fail under load).
constexpr auto reader_stall_after = std::chrono::seconds(5);
// Behind the stream for this long: not caught up, whatever the last message's pending count said,
// so no window closes by the wall clock while trades wait to be read.
constexpr auto reader_behind_after = std::chrono::seconds(1);
// The local feed (klines.feed: local) is missing a sequence this long: the stage reads the stream from there.
constexpr auto local_gap_wait = std::chrono::milliseconds(100);
// After a gap the stage reads the stream at least this long before it goes back to the local feed (another
// publisher that stored one message is likely to store more).
constexpr auto stream_hold = std::chrono::seconds(60);

using mi::util::now_ms;

// " p{i}/{n}" for a partitioned stage (logs, inspection), "" for the single stage.
std::string partition_label(const kline_stage_args& a) {
  return a.partitions > 1 ? " p" + std::to_string(a.partition) + "/" + std::to_string(a.partitions) : std::string();
}

std::string state_key(const std::string& exchange, const std::string& symbol) { return "w." + exchange + "." + symbol; }

// -- sink: publishes finals synchronously, then the checkpoint ----------------------------

// A final must never be lost and a checkpoint never precede its finals: both are retried until
// JetStream has them (the sink is detached: waiting blocks only its own thread).
mi::gw::retry_listener warn_retry(const char* what) {
  return [what](const mi::error& e, std::chrono::milliseconds wait) {
    spdlog::warn("kline sink: {} failed ({}), retrying in {} ms", what, e.message, wait.count());
  };
}

struct sink_state {
  static inline const char* name = "mi.kline_sink";
  mi::gw::jetstream* js = nullptr;
  mi::gw::metrics* metrics = nullptr;
  std::shared_ptr<mi::gw::fenced_kv> checkpoints; // the partition's keys, taken over by recover()
  std::string kline_stream;                       // MARKET_KLINE: a duplicate's kept copy is read back from it
  std::string global_key;                         // the stage's global resume sequence (one per partition)
  std::uint64_t duplicates = 0;                   // finals JetStream already had (log pacing)
  std::shared_ptr<std::atomic<bool>> abandoned;   // the partition's lease is lost: publish nothing more
  bool abandoned_now() const { return abandoned && abandoned->load(); }
  caf::actor router;
};

using sink_actor = caf::stateful_actor<sink_state>;

// Until stored, or until the partition is abandoned (then false: nothing more may be written).
constexpr mi::gw::retry_policy a_while{std::chrono::milliseconds(50), std::chrono::milliseconds(1000), 8};

// Revision-checked (docs/architecture.md "Kline partitions and their leases"): once the partition is abandoned, a
// write the next owner's take-over made stale is refused, never stored over what it read. False when abandoned.
bool store_checkpoint(sink_state& st, const std::string& key, const std::string& value, const char* what) {
  while (!st.abandoned_now())
    if (auto r = mi::gw::with_retries(
          a_while, [&] { return st.checkpoints->write(key, value, st.abandoned.get()); }, warn_retry(what),
          st.abandoned.get()))
      return *r;
  return false;
}

// The final's ack: (stream sequence, duplicate); nullopt when the partition was abandoned first.
std::optional<std::pair<std::uint64_t, bool>> publish_final(sink_state& st, const mi::gw::outgoing& o) {
  while (!st.abandoned_now())
    if (auto r = mi::gw::publish_acked(*st.js, o, a_while, warn_retry("final publish"), st.abandoned.get()))
      return *r;
  return std::nullopt;
}

// JetStream already had a final with this dedup id (`{ex}:{sym}:{iv}:{open}:{rev}`), stored at `seq`. Usually the same
// final, published before a restart or a takeover whose checkpoint was not stored yet: finals are deterministic in
// the trades of MARKET_RAW. Not when a stage closed the window by the wall clock (trades held back beyond the grace)
// and went before publishing the late trades' revision: the replay here closes it by event time with every trade, and
// the stream kept the stage's earlier values. Then the window publishes its own one revision above (the window that
// sent the final hears it). True when the kept copy differs.
bool kept_copy_differs(sink_state& st, const mi::kline& k, std::uint64_t seq) {
  auto m = st.js->get_message(st.kline_stream, seq);
  if (!m || !*m) {
    spdlog::warn("kline sink: cannot read back the kept copy of final {}:{}:{}:{} (seq {}): {}", k.symbol, k.interval,
                 k.open_time_ms, k.revision, seq, m ? "gone" : m.err().message);
    return false;
  }
  auto kept = mi::decode_kline_pb((*m)->data());
  if (!kept || *kept == k)
    return false;
  spdlog::warn("kline sink: MARKET_KLINE kept {} {} {} open {} revision {} with other values ({} trades, ours {}): "
               "publishing ours as a higher revision",
               k.exchange, k.symbol, k.interval, k.open_time_ms, k.revision, kept->trade_count, k.trade_count);
  return true;
}

// The lease of the stage's partition is lost: what the sink holds is left to the next owner.
void quit_abandoned(sink_actor* self) {
  spdlog::warn("kline sink: partition abandoned (its lease is lost): publishing nothing more");
  self->quit();
}

caf::behavior kline_sink(sink_actor* self, mi::gw::jetstream* js, mi::gw::metrics* m,
                         std::shared_ptr<mi::gw::fenced_kv> checkpoints, std::string kline_stream,
                         std::string global_key, std::shared_ptr<std::atomic<bool>> abandoned, caf::actor router) {
  self->state.abandoned = std::move(abandoned);
  self->state.js = js;
  self->state.metrics = m;
  self->state.checkpoints = std::move(checkpoints);
  self->state.kline_stream = std::move(kline_stream);
  self->state.global_key = std::move(global_key);
  self->state.router = std::move(router);
  caf::behavior handlers{
    [self](final_atom, const std::string& key, const kline_list& finals, const std::string& ckpt,
           std::uint64_t min_resume, std::int64_t detected_ms) {
      auto& st = self->state;
      for (const auto& k : finals) {
        mi::gw::outgoing o{mi::kline_subject(k), mi::dedup_id(k), std::string(mi::kline_content_type),
                           mi::encode_kline_pb(k)};
        auto acked = publish_final(st, o);
        if (!acked) {
          quit_abandoned(self);
          return;
        }
        // Already in MARKET_KLINE (same dedup id): published before a restart or a takeover whose checkpoint was not
        // stored yet; JetStream kept the first copy. After a graceful hand-over none comes (docs/architecture.md).
        if (acked->second && st.duplicates++ % 1000 == 0)
          spdlog::info("kline sink: final {} was already in the stream, kept once by its dedup id ({} so far)",
                       o.msg_id, st.duplicates);
        if (acked->second && kept_copy_differs(st, k, acked->first)) {
          st.metrics->kline().final_superseded();
          self->send(caf::actor_cast<caf::actor>(self->current_sender()), supsd_atom::value, k.interval, k.open_time_ms,
                     k.revision);
        }
        st.metrics->kline().kline_final(k.interval);
        st.metrics->kline().final_latency(static_cast<double>(now_ms() - detected_ms) / 1000.0);
      }
      if (!store_checkpoint(st, key, ckpt, "checkpoint")) {
        quit_abandoned(self);
        return;
      }
      self->send(st.router, ckpt_atom::value, key, min_resume);
    },
    // A passivated window's state: stored, then the router may forget the symbol, and so does the fence (its next
    // write, if it trades again, reads the revision back).
    [self](passive_atom, const std::string& key, const std::string& ckpt) {
      auto& st = self->state;
      if (!store_checkpoint(st, key, ckpt, "checkpoint")) {
        quit_abandoned(self);
        return;
      }
      st.checkpoints->forget(key);
      self->send(st.router, passive_atom::value, key);
    },
    [self](global_atom, std::uint64_t seq) {
      auto& st = self->state;
      if (!store_checkpoint(st, st.global_key, std::to_string(seq), "global checkpoint"))
        quit_abandoned(self);
    },
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "kline_sink", "kline_sink", std::move(handlers));
}

// -- symbol_window: the open windows of one (exchange, symbol) -----------------------------

struct window_state {
  static inline const char* name = "mi.symbol_window";
  std::string key;
  std::unique_ptr<ke::symbol_windows> windows;
  const ke::options* opts = nullptr;
  caf::actor sink;
  caf::actor router;
  mi::gw::jetstream* js = nullptr;             // live partials: core NATS, best effort
  mi::gw::kline_trades_probe* probe = nullptr; // the exchange's, taken once at spawn
  std::int64_t idle_after_ms = 600'000;
  bool caught_up = false;         // the router has read MARKET_RAW up to its end
  std::int64_t armed_ms = 0;      // deadline of the close timer in flight (0: none)
  std::int64_t last_trade_ms = 0; // wall clock of the last trade, for passivation
  std::uint64_t last_seq = 0;
  kline_fault fault = kline_fault::none; // test only
  int fault_after_trades = 0;
  int trades_seen = 0;
  std::string exchange, symbol;
  std::string raw_stream;                                         // amendments read the symbol's trades back from it
  const mi::calendar::calendar* sessions = nullptr;               // the symbol's market (nullptr: UTC), in calendar_set
  std::shared_ptr<const mi::calendar::calendar_feed> calendars;   // the process's feed (null: no calendars)
  std::shared_ptr<const mi::calendar::calendar_set> calendar_set; // the snapshot `sessions` points into
  std::uint64_t calendar_version = 0;                             // of calendars when calendar_set was taken
  std::shared_ptr<const mi::calendar::calendar_set> pending_set;  // a newer snapshot not taken yet
  std::uint64_t pending_version = 0;
  std::uint64_t skipped = 0;         // trades the engine refused (for log pacing)
  std::uint64_t partials_failed = 0; // partials nats.c refused (for log pacing)
};

std::atomic<bool> window_fault_fired{false}; // symbol_window_throws_once: once per process

using window_actor = caf::stateful_actor<window_state>;

// A refreshed calendar (calendars.alpaca_refresh_every) is taken between sessions: when no window of a day or shorter
// is open (symbol_windows::set_sessions refuses otherwise and this is tried again at the next trade or close). The
// snapshot is read from the feed once per version (kept in `pending_set` meanwhile): a retry costs no lock. A symbol
// whose market has no sessions (crypto) adopts it at once (nothing to map).
void take_refreshed_calendar(window_actor* self) {
  auto& st = self->state;
  if (!st.calendars)
    return;
  const auto version = st.calendars->version();
  if (version == st.calendar_version)
    return;
  if (version != st.pending_version) {
    st.pending_set = st.calendars->current();
    st.pending_version = version;
  }
  const auto* cal = calendar_of_venue(st.pending_set.get(), st.exchange);
  if ((cal != nullptr || st.sessions != nullptr) && !st.windows->set_sessions(cal))
    return;
  st.sessions = cal;
  st.calendar_set = std::move(st.pending_set);
  st.calendar_version = st.pending_version;
  if (cal != nullptr)
    spdlog::debug("kline stage: {} aggregates on calendar version {} from now on", st.key, st.calendar_version);
}

// `detected_ms`: when the close condition became true (for the close -> ack latency metric).
void emit(window_actor* self, std::vector<mi::kline>& finals, std::int64_t now, std::int64_t detected_ms) {
  auto& st = self->state;
  if (!finals.empty()) {
    auto cp = st.windows->current_checkpoint();
    self->send(st.sink, final_atom::value, st.key, kline_list(std::move(finals)), cp.encode(), cp.min_resume_seq(),
               detected_ms);
    finals.clear();
  }
  std::vector<mi::kline> partials;
  st.windows->take_partials(now, partials);
  // Partials are best effort (the next one supersedes them): core NATS on market.partial.>, never a
  // stream, never a wait. A refused one (nats.c's reconnect buffer is full) is only logged.
  for (const auto& k : partials) {
    auto r = st.js->publish_core_buffered(
      mi::gw::outgoing{mi::partial_subject(k), {}, std::string(mi::kline_content_type), mi::encode_kline_pb(k)});
    if (!r && st.partials_failed++ % 1000 == 0)
      spdlog::warn("kline stage: live partial of {} not sent ({}; {} so far for this symbol)", st.key, r.err().message,
                   st.partials_failed);
  }
}

// A timer for the earliest wall-clock close, so a quiet symbol's final is not late by a tick.
void arm_close_timer(window_actor* self, std::int64_t now) {
  auto& st = self->state;
  if (!st.caught_up)
    return; // replaying: the router's tick re-arms once caught up
  auto next = st.windows->next_close_ms();
  if (!next || (st.armed_ms != 0 && st.armed_ms <= *next))
    return;
  st.armed_ms = *next;
  self->delayed_send(self, std::chrono::milliseconds(std::max<std::int64_t>(0, *next - now)), close_atom::value, *next);
}

void close_by_clock(window_actor* self, std::int64_t now, std::int64_t detected_ms) {
  std::vector<mi::kline> finals;
  // While replaying, the wall clock says nothing about windows still being read.
  if (self->state.caught_up)
    self->state.windows->close_by_wall_clock(now, finals);
  emit(self, finals, now, detected_ms);
  take_refreshed_calendar(self);
  arm_close_timer(self, now);
}

// How far before an amendment's time (Alpaca's `t` of a correction or cancel) the amended trade is looked for, at
// least: the read back starts at the earliest window holding that time or the amendment's own.
constexpr std::int64_t amendment_lookback_ns = 15LL * 60 * 1'000'000'000;
// The read back of one amendment gives up after this long (mi_trade_amendments_total{result="failed"}).
constexpr auto amendment_read_deadline = std::chrono::seconds(20);

// An amendment (Alpaca correction or cancel, docs/architecture.md "Trade amendments") at stream sequence `seq`: the
// symbol's messages before it are read back from MARKET_RAW from the earliest window that can hold the amended
// trade, re-aggregated with the amendments applied, and the windows holding the amended trade take the result
// (finals: revision + 1 through the late-trade path). Blocking read on this scheduler thread: amendments are rare
// (a few per symbol and day) and one read is bounded by a day of one symbol's trades and a deadline.
void on_amendment(window_actor* self, const mi::trade& a, std::uint64_t seq) {
  auto& s = self->state;
  std::optional<std::int64_t> from_ms;
  auto earliest = [&](std::optional<std::int64_t> v) {
    if (v)
      from_ms = from_ms ? std::min(*from_ms, *v) : *v;
  };
  earliest(a.ts_ns / 1'000'000 - amendment_lookback_ns / 1'000'000);
  earliest(s.windows->earliest_window_open(a.ts_ns - amendment_lookback_ns));
  earliest(s.windows->earliest_window_open(a.ts_ns));
  std::optional<ke::amendment_rebuild> rebuilt;
  // Twice at most: a trade amended long after it printed lies in windows that open before the first read began.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<std::pair<mi::trade, std::uint64_t>> history;
    mi::gw::stream_range r;
    r.stream = s.raw_stream;
    r.filter_subject = mi::raw_subject(s.exchange, s.symbol);
    r.from_time_ns = std::max<std::int64_t>(0, (*from_ms - s.opts->max_clock_skew_ms) * 1'000'000);
    r.to_seq = seq - 1;
    r.deadline = amendment_read_deadline;
    auto read = mi::gw::read_range(*s.js, r, [&history](mi::gw::js_message&& m) {
      if (auto t = mi::decode_trade_pb(m.data()))
        history.emplace_back(std::move(*t), m.stream_seq());
    });
    if (!read || !read->complete) {
      s.probe->amendment(3);
      spdlog::error("kline stage: amendment {} of {} {} at seq {} not applied: MARKET_RAW could not be read back ({})",
                    a.trade_id, s.exchange, s.symbol, seq, read ? "incomplete" : read.err().message);
      return;
    }
    rebuilt = ke::rebuild_for_amendment(s.exchange, s.symbol, *s.opts, s.sessions, history, a);
    if (!rebuilt->amended_ts_ns)
      break;
    auto needed = s.windows->earliest_window_open(*rebuilt->amended_ts_ns);
    if (!needed || *needed >= *from_ms)
      break;
    from_ms = *needed;
  }
  if (!rebuilt->amended_ts_ns) {
    s.probe->amendment(1);
    spdlog::warn("kline stage: amendment {} of {} {} at seq {}: trade {} is not among the trades read back; "
                 "no kline revised",
                 a.trade_id, s.exchange, s.symbol, seq, a.amends);
    return;
  }
  auto r = s.windows->amend(*rebuilt->windows, *rebuilt->amended_ts_ns, seq);
  if (r.revised > 0 || r.replaced > 0) {
    s.probe->amendment(0);
    for (int i = 0; i < r.revised; ++i)
      s.probe->kline_revised();
  } else if (r.too_late > 0) {
    s.probe->amendment(2);
  }
  spdlog::info("kline stage: amendment {} ({} {}) of {} {} at seq {}: {} finals revised, {} open windows replaced, "
               "{} too late",
               a.trade_id, a.canceled ? "cancels" : "corrects", a.amends, s.exchange, s.symbol, seq, r.revised,
               r.replaced, r.too_late);
}

// One trade of MARKET_RAW, in stream order.
void on_trade(window_actor* self, const mi::trade& t, std::uint64_t seq, bool caught_up) {
  auto& s = self->state;
  if (s.fault == kline_fault::window_throws_once && ++s.trades_seen == s.fault_after_trades &&
      !window_fault_fired.exchange(true))
    throw std::runtime_error("testing.fault symbol_window_throws_once: " + s.key + " at seq " + std::to_string(seq));
  s.caught_up = caught_up;
  s.last_seq = seq;
  auto now = now_ms();
  s.last_trade_ms = now;
  take_refreshed_calendar(self);
  if (t.is_amendment()) {
    on_amendment(self, t, seq);
    std::vector<mi::kline> finals;
    s.windows->close_by_event_time(finals); // the revised finals (revision + 1)
    emit(self, finals, now, now);
    arm_close_timer(self, now);
    return;
  }
  auto r = s.windows->add(t, seq);
  if (r.rejected != mi::reject_reason::none) {
    s.probe->trade_skipped(r.rejected);
    if (s.skipped++ % 1000 == 0)
      spdlog::warn("kline stage: trade {} of {} {} at seq {} skipped ({}; {} so far for this symbol)", t.trade_id,
                   t.exchange, t.symbol, seq, mi::to_string(r.rejected), s.skipped);
  }
  if (r.outside_session != ke::outside::none)
    s.probe->outside_session(static_cast<std::uint8_t>(r.outside_session));
  if (r.late > 0)
    s.probe->late_trade();
  if (r.revised > 0)
    s.probe->kline_revised();
  std::vector<mi::kline> finals;
  s.windows->close_by_event_time(finals);
  // Partials on every trade only when configured so (0 ms); otherwise on the tick.
  if (!finals.empty() || s.opts->partial_every_ms == 0)
    emit(self, finals, now, now);
  arm_close_timer(self, now);
}

caf::behavior symbol_window(window_actor* self, std::string exchange, std::string symbol, const ke::options* opts,
                            std::shared_ptr<const ke::checkpoint> restored, caf::actor sink, caf::actor router,
                            mi::gw::jetstream* js, mi::gw::metrics* metrics, std::int64_t idle_after_ms,
                            const kline_stage_args* fault_args,
                            std::shared_ptr<const mi::calendar::calendar_feed> calendars, std::string raw_stream) {
  self->set_exception_handler(exception_error);
  auto& st = self->state;
  st.exchange = exchange;
  st.symbol = symbol;
  st.raw_stream = std::move(raw_stream);
  if ((st.calendars = std::move(calendars))) {
    st.calendar_version = st.calendars->version();
    st.calendar_set = st.calendars->current();
    st.sessions = calendar_of_venue(st.calendar_set.get(), exchange);
  }
  st.key = state_key(exchange, symbol);
  st.opts = opts;
  st.windows = std::make_unique<ke::symbol_windows>(exchange, symbol, *opts, restored.get(), st.sessions);
  // A watermark a far-future trade froze (stored by an earlier version) is forgotten.
  if (opts->max_clock_skew_ms > 0 && st.windows->watermark_ms() > now_ms() + opts->max_clock_skew_ms) {
    spdlog::warn("kline stage: {} {}: restored watermark {} ms is beyond the clock skew; forgotten", exchange, symbol,
                 st.windows->watermark_ms());
    st.windows->clamp_watermark(now_ms() + opts->max_clock_skew_ms);
  }
  st.sink = std::move(sink);
  st.router = std::move(router);
  st.js = js;
  st.probe = &metrics->kline_trades(exchange);
  st.idle_after_ms = idle_after_ms;
  st.last_trade_ms = now_ms();
  if (auto* args = fault_args; args != nullptr) { // set by the router, test only
    st.fault = args->fault;
    st.fault_after_trades = args->fault_after_trades;
  }
  caf::behavior handlers{
    [self](trade_atom, const sequenced_trades& trades, bool caught_up) {
      for (const auto& [t, seq] : trades)
        on_trade(self, t, seq, caught_up);
    },
    // The stream kept another final under this window's dedup id (the sink read it back): ours goes out one above.
    [self](supsd_atom, const std::string& interval, std::int64_t open_ms, std::uint32_t published) {
      auto& s = self->state;
      if (!s.windows->supersede(interval, open_ms, published)) {
        spdlog::error("kline stage: {} {} {} open {}: MARKET_KLINE holds other values for revision {} and the "
                      "window is no longer kept here; `replay` rebuilds it",
                      s.exchange, s.symbol, interval, open_ms, published);
        return;
      }
      std::vector<mi::kline> finals;
      s.windows->close_by_event_time(finals);
      const auto now = now_ms();
      emit(self, finals, now, now);
    },
    [self](close_atom, std::int64_t deadline) {
      if (self->state.armed_ms == deadline)
        self->state.armed_ms = 0;
      close_by_clock(self, now_ms(), deadline);
    },
    [self](tick_atom, std::int64_t now, bool caught_up) {
      auto& s = self->state;
      s.caught_up = caught_up;
      close_by_clock(self, now, now);
      // Idle and nothing open: hand the state back to the router (memory stays bounded).
      if (s.windows->open_windows() == 0 && now - s.last_trade_ms >= s.idle_after_ms) {
        auto cp = s.windows->current_checkpoint();
        self->send(s.router, idle_atom::value, s.key, cp.encode(), cp.min_resume_seq(), s.last_seq);
      }
    },
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "symbol_window", st.key, std::move(handlers));
}

// -- router: MARKET_RAW -> symbol windows ---------------------------------------------------

/// MARKET_RAW entries the router handles per mailbox message (the rest of a take waits for the next one).
constexpr std::size_t raw_chunk = 1024;

struct router_state {
  static inline const char* name = "mi.kline_router";
  kline_stage_args args;
  ke::options opts;
  caf::actor sink;
  std::unique_ptr<mi::gw::ordered_consumer> consumer; // the MARKET_RAW reader; null while the local feed is read
  // From the reader's nats.c thread and, with a local feed, from nats.c's publish-ack thread.
  std::shared_ptr<inbox<raw_entry>> raw_in = std::make_shared<inbox<raw_entry>>();
  std::vector<raw_entry> raw_taken;                    // one take of raw_in
  std::size_t raw_next = 0;                            // raw_taken[raw_next..]: not handled yet
  std::unordered_map<std::string, caf::actor> windows; // key -> actor
  kline_recovery recovery; // restored checkpoints, durable resume points, passivations (global resume)
  std::shared_ptr<mi::gw::fenced_kv> checkpoints; // read (taken over) by recover(), then written by the sink only
  std::uint64_t last_written_global = 0;
  bool caught_up = false;
  bool stopping = false; // stop_atom received: the reader is closed, nothing more is read, ticked or opened
  std::uint64_t bad = 0;
  raw_sequencer seq; // the reader's and the local feed's entries in stream order; last(): the highest handled
  std::chrono::steady_clock::time_point last_read_at{}; // when an entry was handled last (or the reader started)
  std::unique_ptr<local_raw_feed::subscription> local;  // klines.feed local on an ingest node; else null
  bool stream_at_end = false;                           // the reader's last entry had nothing pending after it
  std::chrono::steady_clock::time_point stream_until{}; // the local feed is not used before (after a gap)
  bool gap_check_queued = false;
  bool lingered = false; // a take waits out klines.feed_linger (the delayed raw_atom takes, whatever comes first)
  std::shared_ptr<std::atomic<std::uint64_t>> reader_stall; // testing: messages left before the reader goes silent
};

using router_actor = caf::stateful_actor<router_state>;

std::atomic<bool> reader_fault_fired{false}; // kline_reader_stalls_once: once per process

// The reader's filter of a partitioned stage, used by one nats.c thread at a time (the consumer's callback).
struct partition_filter {
  std::uint32_t partition = 0;
  std::uint32_t partitions = 1;
  std::uint64_t skipped = 0;
};
// Messages of other partitions are dropped on the nats.c thread (no copy, no decode); the router hears how far the
// reader got once per this many of them, and whenever the reader is at the end of the stream (the watchdog and
// "caught up" need it, the windows do not).
constexpr std::uint64_t skip_report_every = 256;
// (Re)starts the MARKET_RAW reader at `from`; the old one (if any) is closed first.
mi::result<bool> start_reader(router_actor* self, std::uint64_t from) {
  auto& st = self->state;
  st.consumer.reset(); // no callback of the old reader after this returns
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto stall = std::exchange(st.reader_stall, nullptr); // a restarted reader is never stalled
  // One consumer of every subject, filtered here: nats-server 2.9 takes one filter subject per consumer, and a
  // partition's symbols are an open set (docs/architecture.md, "Kline partitions").
  auto filter = st.args.partitions > 1
                  ? std::make_shared<partition_filter>(partition_filter{st.args.partition, st.args.partitions, 0})
                  : nullptr;
  auto consumer = mi::gw::ordered_consumer::start(
    *st.args.js, st.args.raw_stream, "market.raw.>", from, [me, stall, filter, in = st.raw_in](mi::gw::js_message&& m) {
      if (stall && stall->load() == 0)
        return; // testing.fault kline_reader_stalls_once: silent from here on
      if (stall)
        stall->fetch_sub(1);
      // Messages of other partitions only move the read position (in order with the others).
      const bool other =
        filter && mi::kline_engine::partition_of_subject(m.subject(), filter->partitions) != filter->partition;
      if (other && ++filter->skipped % skip_report_every != 0 && m.num_pending() != 0)
        return;
      if (in->put(raw_entry{m.stream_seq(), other ? std::string() : std::string(m.data()), m.num_pending(), other}))
        caf::anon_send(me, raw_atom::value);
    });
  if (!consumer)
    return consumer.err();
  st.consumer = std::move(*consumer);
  // What lies before `from` counts as read (a stage that starts past the end of the stream has
  // nothing to wait for: without this the watchdog would see it "behind" and replay from 1).
  st.seq.read_from(from);
  st.stream_at_end = false;
  st.last_read_at = std::chrono::steady_clock::now();
  return true;
}

// The local feed missed messages (another publisher stored them, or an ack was lost), or the reader is not running (its
// last start failed): the reader starts after the last sequence handled; after a switch from the local feed it stays
// for stream_hold.
void read_stream(router_actor* self, const std::string& why) {
  auto& st = self->state;
  const auto from = st.seq.last() + 1;
  if (st.local) { // a switch from the local feed (not only a start of a reader whose last start failed)
    spdlog::info("kline stage{}: {}: reading {} from seq {} (the local feed again in {} s at the earliest)",
                 partition_label(st.args), why, st.args.raw_stream, from,
                 std::chrono::duration_cast<std::chrono::seconds>(stream_hold).count());
    st.args.metrics->kline().reader_switched(false);
    st.stream_until = std::chrono::steady_clock::now() + stream_hold;
  } else {
    spdlog::warn("kline stage{}: {}: starting it at seq {}", partition_label(st.args), why, from);
  }
  if (auto r = start_reader(self, from); !r)
    spdlog::error("kline stage: cannot start the {} reader: {}; trying again in {} ms", st.args.raw_stream,
                  r.err().message, std::chrono::duration_cast<std::chrono::milliseconds>(tick_every).count());
}

// This node's acked MARKET_RAW publishes go to the router's inbox beside the reader's entries (klines.feed: local).
void attach_local_feed(router_actor* self) {
  auto& st = self->state;
  if (!st.args.local_feed)
    return;
  local_raw_feed::reader r;
  r.in = st.raw_in;
  const auto partition = st.args.partition, partitions = st.args.partitions;
  r.wanted = [partition, partitions](std::string_view subject) {
    return subject.substr(0, 11) == "market.raw." &&
           (partitions <= 1 || mi::kline_engine::partition_of_subject(subject, partitions) == partition);
  };
  r.ring = [me = caf::actor_cast<caf::actor>(self)] { caf::anon_send(me, raw_atom::value); };
  st.local = local_raw_feed::attach(st.args.local_feed, std::move(r));
}

// The watchdog of the reader: silent while MARKET_RAW holds more, it is behind (no wall-clock
// closes), and after reader_stall_after it is started again.
void check_reader(router_actor* self) {
  auto& st = self->state;
  auto silent = std::chrono::steady_clock::now() - st.last_read_at;
  if (silent < reader_behind_after)
    return;
  auto raw = st.args.js->state(st.args.raw_stream);
  if (!raw)
    return; // ask again at the next tick
  if (raw->last_seq <= st.seq.last()) {
    st.last_read_at = std::chrono::steady_clock::now(); // read up to the end as of now: idle, not behind
    return;
  }
  st.caught_up = false;
  if (!st.consumer) { // on the local feed (the stream holds messages this node did not publish), or a start failed
    read_stream(self,
                st.local ? "MARKET_RAW holds messages the local feed did not bring" : "the reader is not running");
    return;
  }
  if (silent < reader_stall_after)
    return;
  auto from = std::max(st.seq.last() + 1, raw->first_seq);
  spdlog::warn("kline stage: the {} reader delivered nothing for {} s while the stream holds up to seq {}; "
               "restarting it at seq {}",
               st.args.raw_stream, std::chrono::duration_cast<std::chrono::seconds>(reader_stall_after).count(),
               raw->last_seq, from);
  if (auto r = start_reader(self, from); !r)
    spdlog::error("kline stage: cannot restart the {} reader: {}; trying again in {} ms", st.args.raw_stream,
                  r.err().message, std::chrono::duration_cast<std::chrono::milliseconds>(tick_every).count());
}

// Recovery: every stored checkpoint, then where to start reading MARKET_RAW. False after quitting.
bool recover(router_actor* self) {
  auto& st = self->state;
  auto& js = *st.args.js;
  auto fail = [self](const std::string& what) {
    spdlog::error("kline stage: {}", what);
    self->quit(caf::make_error(caf::sec::runtime_error, what));
    return false;
  };
  if (auto r = js.kv_ensure(st.args.state_bucket); !r)
    return fail("cannot open KV bucket " + st.args.state_bucket + ": " + r.err().message);
  auto keys = js.kv_keys(st.args.state_bucket);
  if (!keys)
    return fail("cannot list checkpoints: " + keys.err().message);
  // Every read from the bucket's leader: a replica a moment behind (a member just restarted) could serve a symbol's
  // checkpoint older than the global resume point read beside it, and the trades between would be missed. A leased
  // partition's own keys are taken over (written back at the revision read): a sink of the previous owner that is
  // still finishing a write can then no longer store over them (docs/architecture.md "Kline partitions").
  st.checkpoints = std::make_shared<mi::gw::fenced_kv>(js, st.args.state_bucket);
  const bool leased = st.args.abandoned != nullptr;
  const auto own_global = mi::kline_engine::global_key(st.args.partition, st.args.partitions);
  std::map<std::string, std::uint64_t> globals; // every stage's global resume ("global", g.{P}.{p})
  for (const auto& key : *keys) {
    const bool is_global = key == "global" || key.rfind("g.", 0) == 0;
    // Another partition's symbol: its checkpoint is not read (key "w.{exchange}.{symbol}").
    if (!is_global && st.args.partitions > 1 &&
        (key.rfind("w.", 0) != 0 ||
         mi::kline_engine::partition_of(std::string_view(key).substr(2), st.args.partitions) != st.args.partition))
      continue;
    mi::result<std::optional<std::string>> v = std::optional<std::string>{};
    if (is_global && key != own_global) {
      auto e = js.kv_get_latest(st.args.state_bucket, key); // another layout's resume point: read only
      if (!e)
        return fail("cannot read checkpoint " + key + ": " + e.err().message);
      if (*e)
        v = std::optional<std::string>{(*e)->value};
    } else {
      v = leased ? st.checkpoints->take_over(key) : st.checkpoints->read(key);
      if (!v)
        return fail("cannot take over checkpoint " + key + ": " + v.err().message);
    }
    if (!*v)
      continue;
    if (is_global) {
      globals[key] = std::strtoull((*v)->c_str(), nullptr, 10);
      continue;
    }
    auto cp = ke::checkpoint::decode(**v);
    if (!cp) {
      spdlog::warn("kline stage: ignoring unreadable checkpoint {}: {}", key, cp.err().message);
      continue;
    }
    st.recovery.restore(key, std::make_shared<const ke::checkpoint>(std::move(*cp)));
  }
  auto raw = js.state(st.args.raw_stream);
  if (!raw)
    return fail("cannot read stream " + st.args.raw_stream + ": " + raw.err().message);
  const auto global = mi::kline_engine::partition_resume(globals, st.args.partition, st.args.partitions);
  const auto start_seq = st.recovery.begin(global, raw->first_seq);
  st.caught_up = raw->last_seq < start_seq;
  spdlog::info("kline stage{}: {} checkpoints, replaying {} from seq {} (last {})", partition_label(st.args),
               st.recovery.restored(), st.args.raw_stream, start_seq, raw->last_seq);
  if (st.args.fault == kline_fault::reader_stalls_once && !reader_fault_fired.exchange(true))
    st.reader_stall = std::make_shared<std::atomic<std::uint64_t>>(st.args.fault_after_trades);
  if (auto r = start_reader(self, start_seq); !r)
    return fail("cannot consume " + st.args.raw_stream + ": " + r.err().message);
  attach_local_feed(self);
  return true;
}

// A symbol passivated earlier in this run and forgotten: its last state is in the KV bucket.
// Without its checkpoint the symbol would start from scratch (a final could repeat): retry in
// place, which keeps the order of the stream (the router is a detached actor).
std::shared_ptr<const ke::checkpoint> read_passivated(router_state& s, const std::string& key) {
  // From the leader: the passivation this stage stored last, never an older replica's copy.
  auto v = s.args.js->kv_get_latest(s.args.state_bucket, key);
  for (auto delay = std::chrono::milliseconds(50); !v; delay = std::min(delay * 2, std::chrono::milliseconds(5000))) {
    spdlog::error("kline stage: cannot read checkpoint {}: {}; retrying", key, v.err().message);
    std::this_thread::sleep_for(delay);
    v = s.args.js->kv_get_latest(s.args.state_bucket, key);
  }
  if (*v) {
    auto c = ke::checkpoint::decode((*v)->value);
    if (c)
      return std::make_shared<const ke::checkpoint>(std::move(*c));
    spdlog::warn("kline stage: ignoring unreadable checkpoint {}: {}", key, c.err().message);
  }
  return nullptr;
}

// The first trade of `key` in this run (or since its passivation): its window, from its checkpoint.
caf::actor open_window(router_actor* self, const mi::trade& t, const std::string& key, std::uint64_t seq) {
  auto& s = self->state;
  auto cp = s.recovery.take_restored(key); // the window holds it now; passivation stores it again
  if (!cp && s.recovery.ever_passivated())
    cp = read_passivated(s, key);
  auto w = self->system().spawn(
    symbol_window, t.exchange, t.symbol, &s.opts, cp, s.sink, caf::actor_cast<caf::actor>(self), s.args.js,
    s.args.metrics, static_cast<std::int64_t>(s.args.cfg.idle_after.count()),
    s.args.fault == kline_fault::window_throws_once ? &s.args : nullptr, s.args.calendars, s.args.raw_stream);
  self->link_to(w); // a window that dies with an error takes the stage down (and back up)
  inspection::process().adopt(w.id(), self->id(), t.exchange + "." + t.symbol);
  s.windows.emplace(key, w);
  s.recovery.started(key, cp, seq);
  s.args.metrics->kline().symbol_windows(static_cast<std::int64_t>(s.windows.size()));
  return w;
}

caf::behavior kline_router(router_actor* self, kline_stage_args args) {
  self->set_exception_handler(exception_error);
  auto& st = self->state;
  st.args = std::move(args);
  st.opts = to_options(st.args.cfg, st.args.max_clock_skew_ms);
  if (st.args.fault == kline_fault::stage_throws)
    throw std::runtime_error("testing.fault kline_stage_throws: the kline stage fails at start");

  if (!recover(self))
    return {};
  // After recover(): the sink writes the keys it took over (the reader's messages wait in this mailbox meanwhile).
  caf::actor me = caf::actor_cast<caf::actor>(self);
  st.sink = self->system().spawn<caf::detached>(
    kline_sink, st.args.js, st.args.metrics, st.checkpoints, st.args.kline_stream,
    mi::kline_engine::global_key(st.args.partition, st.args.partitions), st.args.abandoned, me);
  self->link_to(st.sink);
  inspection::process().adopt(st.sink.id(), self->id(), "kline_sink");
  self->delayed_send(self, tick_every, tick_atom::value);
  self->delayed_send(self, global_every, global_atom::value);
  caf::behavior handlers{
    [self](raw_atom) {
      auto& s = self->state;
      if (s.stopping)
        return; // queued before the reader closed: the next start reads it again
      // The inbox is taken whole, then handled raw_chunk entries per message, so a burst of a catch-up (tens of
      // thousands of messages) is never decoded at once. Every message that did not take from the inbox is
      // followed by one that does: a ring absorbed by a continuation is not lost.
      const bool took = s.raw_next >= s.raw_taken.size();
      if (took && !s.lingered && s.args.cfg.feed_linger.count() > 0) {
        // Rung by the first entry of a burst: let the burst gather (the inbox is not empty, so its later entries do
        // not ring) and take it whole after klines.feed_linger: one wake-up and one message per symbol window per
        // linger, not per trade. A raw_atom meanwhile takes at once; the delayed one then lingers at most once more.
        s.lingered = true;
        self->delayed_send(self, s.args.cfg.feed_linger, raw_atom::value);
        return;
      }
      if (took) {
        s.lingered = false;
        s.raw_in->take(s.raw_taken);
        s.raw_next = 0;
      }
      if (s.raw_taken.empty())
        return;
      const auto end = std::min(s.raw_taken.size(), s.raw_next + raw_chunk);
      // One message per symbol window with its trades of this chunk, in stream order.
      std::vector<std::pair<caf::actor, sequenced_trades>> out;
      std::unordered_map<std::string, std::size_t> out_of; // window key -> its place in out
      auto handle = [&](const raw_entry& e) {
        if (e.other_partition)
          return;
        auto t = mi::decode_trade_pb(e.data);
        if (!t) {
          if (s.bad++ < 10)
            spdlog::error("kline stage: undecodable message at seq {}: {}", e.seq, t.err().message);
          return;
        }
        auto key = state_key(t->exchange, t->symbol);
        auto it = s.windows.find(key);
        auto w = it != s.windows.end() ? it->second : open_window(self, *t, key, e.seq);
        s.recovery.forwarded(key, e.seq);
        auto [o, added] = out_of.try_emplace(std::move(key), out.size());
        if (added)
          out.emplace_back(w, sequenced_trades{});
        out[o->second].second.emplace_back(std::move(*t), e.seq);
      };
      raw_entry held;
      const auto last_before = s.seq.last();
      for (; s.raw_next < end; ++s.raw_next) {
        auto& e = s.raw_taken[s.raw_next];
        // Each sequence counts once, in stream order: a restarted reader may repeat what the old one had queued
        // here, and the local feed brings what the reader brings too until the reader is closed.
        if (e.local) {
          if (s.seq.accept_local(e) != raw_sequencer::verdict::handle)
            continue;
        } else {
          s.stream_at_end = e.pending == 0; // also when the local feed brought this one first
          if (!s.seq.accept_stream(e.seq))
            continue;
        }
        handle(e);
        while (s.seq.next_held(held))
          handle(held);
      }
      if (s.seq.last() != last_before) // progress (local entries only held, or repeated, are none: the watchdog)
        s.last_read_at = std::chrono::steady_clock::now();
      // Reading the stream: caught up when the reader's last entry had nothing after it; on the local feed: when no
      // sequence is missing.
      s.caught_up = s.consumer ? s.stream_at_end : !s.seq.gap();
      for (auto& [w, trades] : out)
        self->send(w, trade_atom::value, std::move(trades), s.caught_up);
      if (s.local && s.consumer && s.stream_at_end && !s.seq.gap() &&
          std::chrono::steady_clock::now() >= s.stream_until) {
        // The reader reached the end of the stream: what comes next is this node's (the local feed) or shows as
        // a gap in it (read from the stream again).
        s.consumer.reset();
        s.args.metrics->kline().reader_switched(true);
        spdlog::info("kline stage{}: at the end of {} (seq {}): taking this node's trades as they are acked",
                     partition_label(s.args), s.args.raw_stream, s.seq.last());
      }
      if (!s.consumer && s.seq.gap() && !s.gap_check_queued) {
        s.gap_check_queued = true;
        self->delayed_send(self, local_gap_wait, rawgap_atom::value, s.seq.last());
      }
      if (!took || s.raw_next < s.raw_taken.size())
        self->send(self, raw_atom::value);
    },
    [self](rawgap_atom, std::uint64_t last_then) {
      auto& s = self->state;
      s.gap_check_queued = false;
      if (s.stopping || s.consumer || !s.seq.gap())
        return;                        // filled meanwhile (a late ack), or the reader runs already
      if (s.seq.last() != last_then) { // moved on, and missing another one now: give that one its wait too
        s.gap_check_queued = true;
        self->delayed_send(self, local_gap_wait, rawgap_atom::value, s.seq.last());
        return;
      }
      read_stream(self, "seq " + std::to_string(s.seq.last() + 1) + " did not come through the local feed");
    },
    [self](tick_atom) {
      auto& s = self->state;
      if (s.stopping)
        return;           // no reader to watch (a restarted one would read into a stage that is stopping)
      check_reader(self); // before the windows hear whether the stage is caught up
      auto now = now_ms();
      for (auto& [key, w] : s.windows)
        self->send(w, tick_atom::value, now, s.caught_up);
      self->delayed_send(self, tick_every, tick_atom::value);
    },
    [self](ckpt_atom, const std::string& key, std::uint64_t min_resume) {
      self->state.recovery.stored(key, min_resume); // a passivated symbol is forgotten, not re-added
    },
    [self](passive_atom, const std::string& key) { self->state.recovery.passivation_stored(key); },
    [self](idle_atom, const std::string& key, const std::string& ckpt, std::uint64_t /*min_resume*/,
           std::uint64_t last_seq) {
      auto& s = self->state;
      auto it = s.windows.find(key);
      // A trade forwarded after the window reported idle wins: it stays.
      if (it == s.windows.end() || !s.recovery.may_passivate(key, last_seq))
        return;
      auto cp = ke::checkpoint::decode(ckpt);
      if (!cp)
        return;
      // Until the sink has stored it, the checkpoint stays here (a trade meanwhile revives from it,
      // and global_resume still counts its min resume).
      s.recovery.passivated(key, std::make_shared<const ke::checkpoint>(std::move(*cp)));
      self->send(s.sink, passive_atom::value, key, ckpt);
      self->send(it->second, stop_atom::value);
      s.windows.erase(it);
      s.args.metrics->kline().symbol_windows(static_cast<std::int64_t>(s.windows.size()));
    },
    [self](global_atom) {
      auto& s = self->state;
      if (s.stopping)
        return;
      auto g = s.recovery.global_resume();
      if (g > s.last_written_global) {
        self->send(s.sink, global_atom::value, g);
        s.last_written_global = g;
      }
      self->delayed_send(self, global_every, global_atom::value);
    },
    [self](stop_atom) {
      auto& s = self->state;
      if (std::exchange(s.stopping, true))
        return;           // stopping already (a lost lease repeats the request)
      s.consumer.reset(); // no callback after this returns
      s.local.reset();    // nor a ring of the local feed
      for (auto& [key, w] : s.windows)
        self->send(w, stop_atom::value);
      // The sink finishes the finals already queued (publish + checkpoint) before it stops.
      self->send(s.sink, stop_atom::value);
      self->monitor(s.sink);
      self->set_down_handler([self](caf::down_msg& dm) {
        if (dm.source == self->state.sink)
          self->quit();
      });
    },
  };
  return inspected(self, "kline_router", "kline_stage" + partition_label(self->state.args), std::move(handlers));
}

} // namespace

mi::kline_engine::options to_options(const mi::cfg::kline_config& cfg, std::int64_t max_clock_skew_ms) {
  mi::kline_engine::options opts;
  for (const auto& name : cfg.intervals)
    opts.intervals.push_back(*mi::kline_engine::parse_interval(name)); // validated by config
  opts.grace_ms = cfg.grace.count();
  opts.partial_every_ms = cfg.partial_interval.count();
  opts.revise_late = cfg.late_policy == mi::cfg::late_mode::revise;
  opts.fill_empty = cfg.empty_windows == mi::cfg::empty_window_mode::fill;
  opts.max_clock_skew_ms = max_clock_skew_ms;
  return opts;
}

const mi::calendar::calendar* calendar_of_venue(const mi::calendar::calendar_set* calendars, std::string_view venue) {
  const auto* v = mi::find_venue(venue);
  if (calendars == nullptr || v == nullptr || v->market == mi::calendar::crypto_market)
    return nullptr;
  return calendars->find(v->market);
}

kline_fault parse_kline_fault(const std::string& text) {
  if (text == "kline_stage_throws")
    return kline_fault::stage_throws;
  if (text == "symbol_window_throws_once")
    return kline_fault::window_throws_once;
  if (text == "kline_reader_stalls_once")
    return kline_fault::reader_stalls_once;
  return kline_fault::none;
}

caf::actor spawn_kline_stage(caf::actor_system& sys, kline_stage_args args) {
  // Detached: the start-up reads (checkpoints) block, and the router is the hot path of the stage.
  return sys.spawn<caf::detached>(kline_router, std::move(args));
}

} // namespace mi::actors
