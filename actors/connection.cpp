#include "actors/connection.hpp"
#include "actors/inspection.hpp"
#include "actors/ws_events.hpp"
#include "actors/symbol_pauses.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <algorithm>
#include <set>
#include <spdlog/spdlog.h>
#include <unordered_map>

#include "actors/caf_types.hpp"
#include "actors/publish_window.hpp"
#include "actors/publisher.hpp"
#include "actors/quarantine.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "connectors/binance/codec.hpp"
#include "connectors/transport/backoff.hpp"
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "connectors/venue/book_feed.hpp"
#include "connectors/venue/seen_trades.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/codec.hpp"
#include "messages/util/clock.hpp"

namespace mi::actors {
namespace {

constexpr std::size_t max_outstanding_batches = 4; // publish requests in flight before pausing the socket
/// A rotated (or noticed) connection stays open until its successor carried a trade of every
/// symbol, checked from rotation_overlap on, and at most max_overlap (a quiet symbol proves nothing).
constexpr auto rotation_overlap = std::chrono::seconds(3);
constexpr auto max_overlap = std::chrono::seconds(30);
constexpr auto tick_period = std::chrono::seconds(1);
/// Venues without sequential ids: how often a symbol's recent trades are fetched from REST (the
/// backfill actor paces and coalesces the requests within the exchange's rate limit).
constexpr std::int64_t recent_poll_ns = 1'000'000'000;

using mi::util::now_ns;

/// The book_snapshots key-value bucket's subjects: a KV put is a JetStream publish to $KV.<bucket>.<key>, so the
/// snapshot goes through the publisher (async, acked, back-pressured) like everything else.
const std::string book_kv_subject_prefix = "$KV." + std::string(mi::book::snapshots_bucket) + ".";

struct symbol_activity {
  std::int64_t last_trade_ns = 0; ///< 0: no trade yet on this connection
  std::int64_t last_poll_ns = 0;  ///< non-sequential venues: last recent-trades request
};

struct connection_state {
  static inline const char* name = "mi.connection";

  connection_args args;
  std::unique_ptr<mi::venue::venue> venue;
  mi::venue::gap_tracker gaps;
  mi::venue::deferred_gaps overlap_gaps; ///< gaps seen while two generations stream (rotation, notice)
  mi::venue::seen_trades seen;           ///< venues without sequential ids: ids already published (live or polled)
  /// Venues that backfill by time (venue::backfills_by_time): the newest trade time per symbol (live or seeded),
  /// and the symbols whose first live trade since the connection opened has not come yet: that trade closes a gap.
  std::unordered_map<std::string, std::int64_t> last_ts;
  std::set<std::string> await_first;
  std::unordered_map<std::string, symbol_activity> activity; ///< by normalized symbol
  std::unique_ptr<mi::net::backoff> backoff;
  std::unique_ptr<mi::binance::send_pacer> pacer;
  std::deque<std::string> control_out; // paced control messages (subscribe requests)
  bool send_scheduled = false;
  std::map<std::uint64_t, std::shared_ptr<mi::net::ws_client>> clients; // generation -> client
  std::vector<ws_frame> frames;                                         // reused: the frames of one take
  // Trades not yet handed to the publisher: those of one take of frames, or of one REST poll (flush_trades).
  outgoing_batch outbox;
  std::size_t outbox_admitted = 0;
  std::uint64_t active = 0;   // generation of the connection we stream from
  std::set<std::string> warm; // symbols with a trade on the active generation since it opened
  std::int64_t active_opened_ns = 0;
  std::uint64_t next_gen = 1;
  publish_window publishing{max_outstanding_batches}; // publish batches awaiting the publisher's reply
  bool paused = false;
  bool stopping = false;
  bool up = false; // counted in the connections gauge
  bool opened_once = false;
  std::int64_t last_trade_ns = 0;   // any symbol, active connection; 0 = not watched (no trade seen yet)
  bool had_trades = false;          // some connection of this actor carried trades: silence is suspicious
  std::uint64_t rejected = 0;       // malformed frames, for log rate limiting
  std::unique_ptr<quarantine> gate; // trades that may not reach MARKET_RAW go to market.rejected
  // The exchange's counters, taken once at start.
  mi::gw::connection_probe* probe = nullptr;
  // Order books (cfg.books.enabled and the venue supports them).
  std::unique_ptr<mi::venue::book_feed> books;
  std::unordered_map<std::string, mi::gw::book_probe*> book_probes; // by normalized symbol
  mi::venue::book_events book_out;                                  // reused
  std::uint64_t bbo_failures = 0;                                   // for log rate limiting

  // However the actor ends (stop or crash), its sockets close and the gauge stays true.
  ~connection_state() {
    for (auto& [gen, c] : clients)
      c->close();
    if (up && probe != nullptr)
      probe->connection_up(false);
  }
};

using connection_actor = caf::stateful_actor<connection_state>;

const mi::venue::subscription* find_sub(const connection_state& st, std::string_view symbol) {
  for (const auto& s : st.args.subs)
    if (s.symbol == symbol)
      return &s;
  return nullptr;
}

void set_paused(connection_actor* self, bool paused) {
  auto& st = self->state;
  if (st.paused == paused)
    return;
  st.paused = paused;
  for (auto& [gen, c] : st.clients)
    paused ? c->pause_reading() : c->resume_reading();
}

void pump_sends(connection_actor* self) {
  auto& st = self->state;
  while (!st.control_out.empty()) {
    auto it = st.clients.find(st.active);
    if (it == st.clients.end())
      return;
    auto wait = st.pacer->try_send(now_ns());
    if (wait > 0) {
      if (!st.send_scheduled) {
        st.send_scheduled = true;
        self->delayed_send(self, std::chrono::nanoseconds(wait), send_atom::value);
      }
      return;
    }
    it->second->send(std::move(st.control_out.front()));
    st.control_out.pop_front();
  }
}

void queue_subscribe(connection_actor* self, const std::vector<mi::venue::subscription>& subs,
                     bool unsubscribe_first = false) {
  auto& st = self->state;
  // A second SUBSCRIBE of a subscription the exchange thinks is live changes nothing (Binance, OKX) or
  // is refused: a resubscribe unsubscribes first, in the same paced queue.
  if (unsubscribe_first)
    for (auto& req : st.venue->unsubscribe_requests(subs))
      st.control_out.push_back(std::move(req));
  for (auto& req : st.venue->subscribe_requests(subs))
    st.control_out.push_back(std::move(req));
  pump_sends(self);
}

// Opens a new connection generation; the previous one (if any) stays up until told otherwise.
void open_connection(connection_actor* self) {
  auto& st = self->state;
  auto u = mi::net::parse_url(st.args.cfg.ws_url);
  if (!u) {
    // Validated at start, so this is a programming error; fail fast and let the supervisor see it.
    self->quit(caf::make_error(caf::sec::invalid_argument, "bad ws_url: " + u.err().message));
    return;
  }
  const std::uint64_t gen = st.next_gen++;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto h = ws_inbox_events(me, gen, std::make_shared<frame_inbox>());
  mi::net::ws_options o;
  o.connect_timeout = st.args.cfg.connect_timeout;
  o.read_timeout = st.args.cfg.read_timeout;
  auto client = mi::net::ws_client::create(st.args.io->context(), *u, o, std::move(h));
  st.clients.emplace(gen, client);
  st.active = gen;
  if (st.paused)
    client->pause_reading();
  client->start();
  spdlog::info("{}: connecting to {} ({} symbols)", st.args.exchange, st.args.cfg.ws_url, st.args.subs.size());
  inspect_state(self, "connecting");
}

// Closes the active connection; its on_close then reconnects with backoff.
void force_reconnect(connection_actor* self, const char* why) {
  auto& st = self->state;
  auto it = st.clients.find(st.active);
  if (it == st.clients.end())
    return;
  st.probe->watchdog(mi::gw::watchdog_action::reconnect);
  spdlog::warn("{}: {}; reconnecting", st.args.exchange, why);
  it->second->close();
}

void request_recent(connection_actor* self, const mi::venue::subscription& sub, std::int64_t now) {
  auto& st = self->state;
  if (!st.args.backfill || st.venue->sequential_ids() || st.venue->backfills_by_time())
    return;
  st.activity[sub.symbol].last_poll_ns = now;
  self->send(st.args.backfill->get(), recent_atom::value, sub.symbol);
}

const std::vector<std::string>& resync_reason_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < mi::venue::resync_reason_count; ++i)
      out.emplace_back(mi::venue::to_string(static_cast<mi::venue::resync_reason>(i)));
    return out;
  }();
  return names;
}

std::size_t book_depth(const connection_state& st) { return static_cast<std::size_t>(st.args.cfg.books.depth); }

// What the book feed produced: count resyncs, publish books (MARKET_BOOK + the book_snapshots bucket, through the
// publisher and its back-pressure window) and BBOs (core NATS), ask for the snapshots it wants.
void flush_books(connection_actor* self) {
  auto& st = self->state;
  auto& ev = st.book_out;
  if (ev.empty())
    return;
  for (const auto& r : ev.resyncs) {
    if (auto it = st.book_probes.find(r.symbol); it != st.book_probes.end())
      it->second->resync(static_cast<std::size_t>(r.reason));
    spdlog::warn("{}: {} book resync ({}): {}", st.args.exchange, r.symbol, mi::venue::to_string(r.reason), r.detail);
  }
  if (!ev.books.empty()) {
    outgoing_batch batch;
    batch.reserve(ev.books.size() + 2);
    for (const auto& b : ev.books) {
      auto data = mi::book::encode_book_pb(b);
      const bool snapshot = b.kind == mi::book::update_kind::snapshot;
      if (snapshot) // the latest snapshot per symbol, for a consumer that starts late (KV: no dedup id)
        batch.push_back(mi::gw::outgoing{std::string(book_kv_subject_prefix) + b.exchange + "." + b.symbol,
                                         {},
                                         std::string(mi::book::book_content_type),
                                         data,
                                         {},
                                         0});
      batch.push_back(mi::gw::outgoing{mi::book::book_subject(b.exchange, b.symbol),
                                       b.exchange + ":" + b.symbol + ":" + std::to_string(b.session) + ":" +
                                         std::to_string(b.sequence),
                                       std::string(mi::book::book_content_type),
                                       std::move(data),
                                       {},
                                       0});
      if (auto it = st.book_probes.find(b.symbol); it != st.book_probes.end()) {
        it->second->published(snapshot);
        if (snapshot)
          it->second->valid(b.valid);
      }
    }
    publish_within(self, st.publishing, st.args.publisher->get(), std::move(batch),
                   [self](bool paused) { set_paused(self, paused); });
  }
  if (st.args.js != nullptr)
    for (const auto& q : ev.bbos) {
      mi::gw::outgoing m{mi::book::bbo_subject(q.exchange, q.symbol),
                         {},
                         std::string(mi::book::bbo_content_type),
                         mi::book::encode_bbo_pb(q),
                         {},
                         0};
      if (auto r = st.args.js->publish_core_buffered(m); !r && st.bbo_failures++ % 1000 == 0)
        spdlog::warn("{}: BBO on {} not published ({} so far): {}", st.args.exchange, m.subject, st.bbo_failures,
                     r.err().message);
    }
  for (const auto& symbol : ev.snapshots_wanted) {
    const auto* sub = find_sub(st, symbol);
    if (sub == nullptr)
      continue;
    if (auto req = st.venue->book_snapshot_request(*sub, book_depth(st))) {
      if (st.args.backfill)
        self->send(st.args.backfill->get(), bookrest_atom::value, symbol, req->target);
    } else if (st.clients.count(st.active) != 0) {
      // The snapshot comes with a new subscription.
      for (auto& m : st.venue->book_unsubscribe_requests({*sub}, book_depth(st)))
        st.control_out.push_back(std::move(m));
      for (auto& m : st.venue->book_subscribe_requests({*sub}, book_depth(st)))
        st.control_out.push_back(std::move(m));
      pump_sends(self);
    }
  }
  ev.clear();
}

void on_open(connection_actor* self, std::uint64_t gen) {
  auto& st = self->state;
  if (gen != st.active)
    return;
  const auto now = now_ns();
  st.backoff->on_connected(now);
  if (!st.up)
    st.probe->connection_up(true);
  st.up = true;
  // Once trades have flowed, a new connection that stays silent is watched from its opening.
  st.last_trade_ns = st.had_trades ? now : 0;
  st.venue->on_open(now);
  spdlog::info("{}: connected, subscribing to {} symbols", st.args.exchange, st.args.subs.size());
  inspect_state(self, "connected");
  st.control_out.clear();
  queue_subscribe(self, st.args.subs);
  if (st.books) {
    // A new connection (a reconnect, a rotation) starts every book again from a new snapshot.
    st.books->reset(now, st.book_out);
    for (auto& m : st.venue->book_subscribe_requests(st.args.subs, book_depth(st)))
      st.control_out.push_back(std::move(m));
    pump_sends(self);
    flush_books(self);
  }
  // Without sequential ids, a (re)connect cannot tell what it missed: ask REST for the recent trades
  // (duplicates of what we already published are dropped by the dedup ids).
  for (const auto& sub : st.args.subs)
    request_recent(self, sub, now);
  if (st.venue->backfills_by_time())
    for (const auto& sub : st.args.subs)
      st.await_first.insert(sub.symbol);
  st.opened_once = true;
  st.warm.clear();
  st.active_opened_ns = now;
  // Older generations (a rotation) keep streaming during the overlap; dedup ids make the
  // duplicates harmless.
  for (auto& [g, c] : st.clients)
    if (g != gen)
      self->delayed_send(self, rotation_overlap, close_old_atom::value, g);
  self->delayed_send(self, st.args.cfg.rotate_after, rotate_atom::value, gen);
}

void report_gap(connection_actor* self, const std::string& symbol, const mi::venue::gap& g) {
  auto& st = self->state;
  st.probe->gap_detected();
  spdlog::warn("{}: {} trade ids {}..{} missing ({} trades); backfilling", st.args.exchange, symbol, g.first_id,
               g.last_id, g.size());
  if (st.args.backfill)
    self->send(st.args.backfill->get(), gap_atom::value, symbol, g.first_id, g.last_id, g.after_ts_ns, g.before_ts_ns);
}

// Gap detection on the trades of one frame; gaps go to the backfill actor. While two generations stream
// (a rotation's or a notice's overlap) their frames interleave, so a gap is held until the overlap ends
// and only the ids that arrived on neither connection are backfilled.
void track_gaps(connection_actor* self, const std::vector<mi::trade>& trades,
                const std::vector<std::int64_t>& first_ids) {
  auto& st = self->state;
  if (!st.venue->sequential_ids())
    return;
  for (std::size_t i = 0; i < trades.size(); ++i) {
    const auto& t = trades[i];
    const auto& id = t.id_number; // read by the codec
    if (!id)
      continue;
    const std::int64_t first = i < first_ids.size() ? first_ids[i] : *id;
    if (!st.overlap_gaps.empty())
      st.overlap_gaps.on_trade(t.symbol, first, *id);
    auto g = st.gaps.on_trade(t.symbol, *id, t.ts_ns, first);
    if (!g)
      continue;
    if (st.clients.size() > 1 && st.overlap_gaps.hold(t.symbol, *g))
      continue;
    report_gap(self, t.symbol, *g);
  }
}

// Venues that backfill by time: the first live trade of a symbol since the connection opened closes the gap that
// began with the last trade seen before (live on an earlier connection, or the last one stored before a restart).
void track_time_gaps(connection_actor* self, const std::vector<mi::trade>& trades) {
  auto& st = self->state;
  if (!st.venue->backfills_by_time())
    return;
  for (const auto& t : trades) {
    auto last = st.last_ts.find(t.symbol);
    if (st.await_first.erase(t.symbol) != 0 && last != st.last_ts.end() && t.ts_ns > last->second) {
      st.probe->gap_detected();
      spdlog::warn("{}: {} trades between {} and {} may be missing (reconnected); backfilling by time",
                   st.args.exchange, t.symbol, last->second, t.ts_ns);
      if (st.args.backfill)
        self->send(st.args.backfill->get(), gap_atom::value, t.symbol, std::int64_t{0}, std::int64_t{0}, last->second,
                   t.ts_ns);
    }
    if (last == st.last_ts.end())
      st.last_ts.emplace(t.symbol, t.ts_ns);
    else
      last->second = std::max(last->second, t.ts_ns);
  }
}

// The overlap is over (one generation left, or none): what is still missing is a real gap.
void release_overlap_gaps(connection_actor* self) {
  auto& st = self->state;
  if (st.overlap_gaps.empty() || st.clients.size() > 1)
    return;
  for (const auto& [symbol, g] : st.overlap_gaps.release())
    report_gap(self, symbol, g);
}

// Hands the trades gathered in the outbox to the publisher as one batch.
void flush_trades(connection_actor* self) {
  auto& st = self->state;
  if (st.outbox.empty())
    return;
  st.probe->trade_received(st.outbox_admitted);
  st.outbox_admitted = 0;
  // If the publisher dies with our batch, we fail so the supervisor restarts us; the restarted
  // connection seeds its gap detection from the stream and backfills what was lost.
  publish_within(self, st.publishing, st.args.publisher->get(), std::exchange(st.outbox, publish_batches().take()),
                 [self](bool paused) { set_paused(self, paused); });
}

// live: trades of the WebSocket stream (they feed the watchdog); otherwise the REST recent-trades poll. They wait in
// the outbox until the caller flushes it (flush_trades): once per take of frames, once per poll.
void publish_trades(connection_actor* self, std::vector<mi::trade>& trades, bool live = true) {
  auto& st = self->state;
  auto& batch = st.outbox;
  const auto before = batch.size();
  const auto now = now_ns();
  const bool sequential = st.venue->sequential_ids();
  std::size_t admitted = 0;
  for (auto& t : trades) {
    if (!mi::is_subject_token(t.symbol)) {
      st.probe->frame_rejected(mi::gw::frame_reject::bad_symbol);
      continue;
    }
    if (live)
      st.activity[t.symbol].last_trade_ns = now;
    // Without sequential ids every poll returns the last trades again: publish each id once.
    if (!sequential && !st.seen.first_time(t.symbol, t.trade_id))
      continue;
    if (auto q = st.gate->check(t, now)) { // quarantined: market.rejected, never MARKET_RAW
      batch.push_back(std::move(*q));
      continue;
    }
    batch.push_back(raw_trade_message(t));
    ++admitted;
  }
  if (batch.size() == before)
    return;
  if (live) {
    st.last_trade_ns = now;
    st.had_trades = true;
  }
  st.outbox_admitted += admitted;
}

// An operator's pause (actors/symbol_pauses.hpp): the symbol's trades are neither tracked nor published (the
// watchdog still sees them arrive, so the symbol is not resubscribed); after the resume the gap tracker sees the
// skipped ids as a gap and the backfill actor fetches them.
void drop_paused(connection_actor* self, std::vector<mi::trade>& trades, std::vector<std::int64_t>& first_ids) {
  auto& st = self->state;
  const auto& pauses = symbol_pauses::process();
  if (!pauses.any())
    return;
  const auto now = now_ns();
  auto paused = [&](const std::string& symbol) {
    if (pauses.paused(st.args.exchange, symbol))
      return true;
    for (const auto& s : st.args.subs) // the configured form ("BTC/USDT"), as the console lists it
      if (s.symbol == symbol)
        return pauses.paused(st.args.exchange, s.unified);
    return false;
  };
  std::size_t kept = 0;
  for (std::size_t i = 0; i < trades.size(); ++i) {
    if (paused(trades[i].symbol)) {
      st.activity[trades[i].symbol].last_trade_ns = now;
      continue;
    }
    if (kept != i) {
      trades[kept] = std::move(trades[i]);
      if (i < first_ids.size())
        first_ids[kept] = first_ids[i]; // parallel to the trades (a trade's first id when it aggregates several)
    }
    ++kept;
  }
  trades.resize(kept);
  if (first_ids.size() > kept)
    first_ids.resize(kept);
}

void on_rejected_symbol(connection_actor* self, const std::string& symbol, const std::string& why) {
  auto& st = self->state;
  auto it = std::find_if(st.args.subs.begin(), st.args.subs.end(), [&](const auto& s) { return s.symbol == symbol; });
  if (it == st.args.subs.end())
    return;
  st.probe->symbol_rejected();
  st.probe->symbol_status(it->unified, false);
  spdlog::error("{}: symbol {} ({}) refused by the exchange: {}; the other symbols run on", st.args.exchange,
                it->unified, it->wire, why);
  st.activity.erase(symbol);
  st.args.subs.erase(it);
}

void on_text(connection_actor* self, std::uint64_t gen, const std::string& text, std::int64_t recv_ns) {
  auto& st = self->state;
  if (st.clients.count(gen) == 0)
    return;
  if (gen == st.active)
    st.venue->on_frame(recv_ns);
  if (st.books) {
    // Venues that number every message of the connection (Coinbase): a lost message may have been a book update.
    if (gen == st.active)
      if (auto lost = st.venue->connection_sequence_break(text)) {
        st.books->resync_all(*lost, now_ns(), st.book_out);
        flush_books(self);
      }
    if (auto route = st.venue->book_frame(text)) {
      // Books are read from the active connection only (a rotation's old one is about to close).
      if (gen != st.active)
        return;
      if (const std::string* symbol = st.books->symbol_of_key(route->key)) {
        st.books->on_frame(*symbol, text, route->ts_ns, recv_ns, now_ns(), st.book_out);
        flush_books(self);
      }
      return;
    }
  }
  auto ev = st.venue->decode(text, recv_ns);
  if (!ev) {
    st.probe->frame_malformed(ev.err().code);
    if (st.rejected++ < 10 || st.rejected % 1000 == 0)
      spdlog::warn("{}: rejected frame ({} so far): {}: {:.200}", st.args.exchange, st.rejected, ev.err().message,
                   text);
    return;
  }
  // Quotes and trading statuses (Alpaca): from the active connection only (an overlapping one repeats them; their
  // dedup ids would absorb that too), published as the venue encoded them.
  if (!ev->side.empty() && gen == st.active) {
    outgoing_batch side;
    side.reserve(ev->side.size());
    for (auto& m : ev->side)
      side.push_back(mi::gw::outgoing{
        std::move(m.subject), std::move(m.msg_id), std::move(m.content_type), std::move(m.data), {}, 0});
    publish_within(self, st.publishing, st.args.publisher->get(), std::move(side),
                   [self](bool paused) { set_paused(self, paused); });
  }
  using kind = mi::venue::events::kind;
  switch (ev->what) {
  case kind::trades:
    if (gen == st.active)
      for (const auto& t : ev->trades)
        st.warm.insert(t.symbol);
    drop_paused(self, ev->trades, ev->first_ids);
    track_gaps(self, ev->trades, ev->first_ids);
    track_time_gaps(self, ev->trades);
    publish_trades(self, ev->trades);
    break;
  case kind::ack:
  case kind::heartbeat:
  case kind::ignored:
    break;
  case kind::error:
    st.probe->exchange_error();
    spdlog::error("{}: exchange error: {}", st.args.exchange, ev->message);
    if (!ev->rejected.empty())
      on_rejected_symbol(self, ev->rejected, ev->message);
    break;
  case kind::reconnect_notice:
    spdlog::warn("{}: forced-disconnect notice ({}), opening a new connection now", st.args.exchange, ev->message);
    self->send(self, rotate_atom::value, gen);
    break;
  }
}

void on_close(connection_actor* self, std::uint64_t gen, const std::string& reason) {
  auto& st = self->state;
  st.clients.erase(gen);
  release_overlap_gaps(self);
  if (gen != st.active || st.stopping)
    return;
  if (st.books) {
    st.books->reset(now_ns(), st.book_out);
    flush_books(self);
  }
  if (st.up)
    st.probe->connection_up(false);
  st.up = false;
  st.backoff->on_disconnected(now_ns());
  auto delay = st.backoff->next_delay();
  st.probe->reconnect();
  spdlog::warn("{}: connection closed ({}), reconnecting in {} ms", st.args.exchange, reason, delay.count());
  inspect_state(self, "backing off");
  inspect_error(self, "connection closed: " + reason);
  st.active = 0;
  self->delayed_send(self, delay, connect_atom::value);
}

// Heartbeat and watchdog, once a second.
void on_tick(connection_actor* self) {
  auto& st = self->state;
  self->delayed_send(self, tick_period, wdog_atom::value);
  auto it = st.clients.find(st.active);
  if (it == st.clients.end() || !st.up)
    return;
  const auto now = now_ns();
  if (st.venue->heartbeat_timed_out(now)) {
    force_reconnect(self, "heartbeat unanswered");
    return;
  }
  if (auto ping = st.venue->ping_due(now))
    it->second->send(std::move(*ping));
  if (st.books) {
    st.books->tick(now, st.book_out);
    flush_books(self);
  }
  const auto& cfg = st.args.cfg;
  const auto silence_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(cfg.silence_timeout).count();
  if (st.last_trade_ns > 0 && now - st.last_trade_ns > silence_ns) {
    force_reconnect(self, "no trade on the connection for the silence_timeout");
    return;
  }
  const auto symbol_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(cfg.symbol_silence).count();
  std::vector<mi::venue::subscription> resub;
  for (auto& [symbol, act] : st.activity) {
    if (symbol_ns > 0 && act.last_trade_ns > 0 && now - act.last_trade_ns > symbol_ns) {
      if (const auto* sub = find_sub(st, symbol)) {
        resub.push_back(*sub);
        act.last_trade_ns = now; // next check after another symbol_silence
      }
    }
  }
  if (!resub.empty()) {
    for (const auto& s : resub) {
      st.probe->watchdog(mi::gw::watchdog_action::resubscribe);
      spdlog::warn("{}: no trade for {} within symbol_silence; resubscribing", st.args.exchange, s.symbol);
    }
    queue_subscribe(self, resub, true);
  }
  if (!st.venue->sequential_ids())
    for (const auto& sub : st.args.subs)
      if (now - st.activity[sub.symbol].last_poll_ns >= recent_poll_ns)
        request_recent(self, sub, now);
}

caf::behavior connection(connection_actor* self, connection_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  // The instruments were parsed once at start by this exchange's venue: failing here is a programming error.
  auto v = mi::venue::make_venue(st.args.exchange, st.args.venue_opts, st.args.instruments);
  if (!v) {
    self->quit(caf::make_error(caf::sec::invalid_argument, v.err().message));
    return {};
  }
  st.venue = std::move(*v);
  st.probe = &st.args.metrics->connection(st.args.exchange);
  st.gate = std::make_unique<quarantine>(st.args.exchange, st.probe, st.args.admission);
  for (const auto& s : st.args.seeds) {
    st.gaps.seed(s.symbol, s.id, s.ts_ns);
    st.last_ts[s.symbol] = std::max(st.last_ts[s.symbol], s.ts_ns);
  }
  st.pacer = std::make_unique<mi::binance::send_pacer>(st.venue->control_messages_per_second());
  auto& rc = st.args.cfg.reconnect;
  st.backoff = std::make_unique<mi::net::backoff>(rc.initial, rc.max, rc.healthy_after, st.args.seed);
  if (st.args.cfg.books.enabled && st.venue->supports_books()) {
    mi::venue::book_feed_options bo;
    bo.depth = book_depth(st);
    bo.snapshot_interval_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(st.args.cfg.books.snapshot_interval).count();
    st.books = std::make_unique<mi::venue::book_feed>(st.args.exchange, *st.venue, st.args.subs, bo,
                                                      static_cast<std::uint64_t>(now_ns()));
    for (const auto& sub : st.args.subs) {
      auto& p = st.args.metrics->book(st.args.exchange, sub.symbol, resync_reason_names());
      p.valid(false);
      st.book_probes.emplace(sub.symbol, &p);
    }
  }
  open_connection(self);
  self->delayed_send(self, tick_period, wdog_atom::value);
  caf::behavior handlers{
    [self](ws_open_atom, std::uint64_t gen) { on_open(self, gen); },
    [self](ws_frames_atom, std::uint64_t gen, const std::shared_ptr<frame_inbox>& frames) {
      auto& st = self->state;
      frames->take(st.frames);
      for (const auto& f : st.frames)
        on_text(self, gen, f.text, f.recv_ns); // frames of a closed connection are passed over there
      flush_trades(self);
    },
    [self](ws_close_atom, std::uint64_t gen, const std::string& reason) { on_close(self, gen, reason); },
    [self](send_atom) {
      self->state.send_scheduled = false;
      pump_sends(self);
    },
    [self](wdog_atom) { on_tick(self); },
    [self](recent_atom, const std::string& symbol, trade_list& trades) {
      // The backfill actor's answer to request_recent: only trades not seen before are published.
      if (find_sub(self->state, symbol) != nullptr)
        publish_trades(self, trades, false);
      flush_trades(self);
    },
    [self](bookrest_atom, const std::string& symbol, bool ok, const std::string& body) {
      auto& st = self->state;
      if (!st.books)
        return;
      if (!ok) {
        spdlog::warn("{}: {} REST book snapshot failed: {}", st.args.exchange, symbol, body);
        st.books->snapshot_failed(symbol);
        return;
      }
      st.books->on_rest_snapshot(symbol, body, now_ns(), st.book_out);
      flush_books(self);
    },
    [self](connect_atom) {
      if (!self->state.stopping && self->state.active == 0)
        open_connection(self);
    },
    [self](rotate_atom, std::uint64_t gen) {
      // Only the connection that is still active rotates (a stale timer is ignored).
      if (gen == self->state.active && !self->state.stopping) {
        spdlog::info("{}: rotating connection {}", self->state.args.exchange, gen);
        open_connection(self);
      }
    },
    [self](close_old_atom, std::uint64_t gen) {
      auto& st = self->state;
      auto it = st.clients.find(gen);
      if (it == st.clients.end() || gen == st.active)
        return;
      // Keep the old connection while the new one has not yet carried every symbol (subscriptions
      // are paced, and a loaded machine is slow to get there): closing earlier would cut trades.
      const bool all_warm = std::all_of(st.args.subs.begin(), st.args.subs.end(),
                                        [&](const auto& sub) { return st.warm.count(sub.symbol) != 0; });
      const auto open_for = std::chrono::nanoseconds(now_ns() - st.active_opened_ns);
      if (!all_warm && open_for < max_overlap) {
        self->delayed_send(self, std::chrono::milliseconds(500), close_old_atom::value, gen);
        return;
      }
      it->second->close();
    },
    [self](stop_atom) {
      auto& s = self->state;
      s.stopping = true;
      for (auto& [gen, c] : s.clients)
        c->close();
      s.clients.clear();
      release_overlap_gaps(self); // held gaps still go to the backfill
      // Trades already handed to the publisher are its responsibility now.
      self->quit();
    },
  };
  // Killed (an operator's restart, a crash): the exchange connection closes and the supervisor opens a new one,
  // which is a reconnect as the exchange sees it.
  self->attach_functor([probe = st.probe](const caf::error& reason) {
    if (reason && reason != caf::exit_reason::normal)
      probe->reconnect();
  });
  return inspected(self, "connection", st.args.exchange, std::move(handlers));
}

} // namespace

caf::actor spawn_connection(caf::actor_system& sys, connection_args args) {
  return sys.spawn(connection, std::move(args));
}

} // namespace mi::actors
