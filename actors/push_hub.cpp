#include "actors/push_hub.hpp"
#include "actors/inspection.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <spdlog/spdlog.h>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "actors/caf_types.hpp"
#include "caf/actor_system.hpp"
#include "caf/blocking_actor.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/jetstream/range_reader.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/push/push_limits.hpp"
#include "gateways/push/push_protocol.hpp"
#include "gateways/push/push_resume.hpp"
#include "market.pb.h"
#include "messages/book/book_message.hpp"
#include "messages/document.hpp"
#include "messages/codec.hpp"
#include "messages/util/json_writer.hpp"

namespace mi::actors {
namespace {

/// A market.v1.Quote as the quote.* channels send it (docs/api.md "Push"): the keys of GET /api/v1/quotes, `ts_ns`
/// for the source's time, null for what the source did not send; nullopt when the payload is not a Quote.
std::optional<std::string> quote_json(const std::string& payload) {
  market::v1::Quote q;
  if (!q.ParseFromString(payload) || q.venue().empty() || q.symbol().empty())
    return std::nullopt;
  auto text = [](const std::string& x) { return x.empty() ? std::string("null") : mi::util::json_string(x); };
  auto levels = [](const auto& ls) {
    std::string out = "[";
    for (const auto& l : ls) {
      if (out.size() > 1)
        out += ',';
      out += "[" + mi::util::json_string(l.price()) + "," + mi::util::json_string(l.size()) + "]";
    }
    return out + "]";
  };
  return "{\"venue\":" + mi::util::json_string(q.venue()) + ",\"symbol\":" + mi::util::json_string(q.symbol()) +
         ",\"source\":" + mi::util::json_string(q.source()) + ",\"ts_ns\":" + std::to_string(q.ts_ns()) +
         ",\"trading_day\":" + text(q.trading_day()) + ",\"last\":" + text(q.last()) + ",\"bids\":" + levels(q.bids()) +
         ",\"asks\":" + levels(q.asks()) + ",\"volume\":" + text(q.volume()) + ",\"turnover\":" + text(q.turnover()) +
         ",\"open\":" + text(q.open()) + ",\"high\":" + text(q.high()) + ",\"low\":" + text(q.low()) +
         ",\"prev_close\":" + text(q.prev_close()) + ",\"currency\":" + text(q.currency()) + "}";
}

/// A market.v1.MarketStatus as the status.* channels send it (docs/api.md "Push"); nullopt when the payload is not
/// one.
std::optional<std::string> status_json(const std::string& payload) {
  market::v1::MarketStatus s;
  if (!s.ParseFromString(payload) || s.venue().empty() || s.symbol().empty())
    return std::nullopt;
  using mi::util::json_string;
  return "{\"venue\":" + json_string(s.venue()) + ",\"symbol\":" + json_string(s.symbol()) +
         ",\"status_code\":" + json_string(s.status_code()) + ",\"status_message\":" + json_string(s.status_message()) +
         ",\"reason_code\":" + json_string(s.reason_code()) + ",\"reason_message\":" + json_string(s.reason_message()) +
         ",\"halted\":" + (s.halted() ? "true" : "false") + ",\"tape\":" + json_string(s.tape()) +
         ",\"ts_ns\":" + std::to_string(s.ts_ns()) + "}";
}

using mi::gw::channel_kind;
using mi::gw::client_id;

std::shared_ptr<const std::string> text(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

constexpr std::uint16_t close_policy_violation = 1008;
constexpr const char* revoked_reason = "api key revoked";

// -- client_session: one per WebSocket client ------------------------------------------------

struct session_state {
  static inline const char* name = "mi.client_session";
  session_ptr session;
  caf::actor hub;
  mi::gw::metrics* metrics = nullptr;
  std::size_t max_channels = 100;
  std::set<std::string> channels;
  /// Book channels: deltas are only sent after a snapshot the client got; a frame its full queue dropped makes the
  /// session skip deltas and ask the hub for a fresh snapshot (conflation instead of a book with holes).
  struct book_sub {
    bool need_snapshot = true;
    bool ask_on_next = false; ///< the snapshot itself was dropped: ask again with the next delta
  };
  std::unordered_map<std::string, book_sub> books;
};

using session_actor = caf::stateful_actor<session_state>;

// The client holds `channel` by name or by a pattern it subscribed.
bool holds(const session_state& s, const std::string& channel) {
  if (s.channels.count(channel) != 0)
    return true;
  return std::any_of(s.channels.begin(), s.channels.end(), [&](const std::string& p) {
    return mi::gw::is_pattern(p) && mi::gw::channel_matches(p, channel);
  });
}

void handle_frame(session_actor* self, const std::string& frame) {
  auto& s = self->state;
  auto req = mi::gw::parse_client_message(frame, s.max_channels);
  if (!req) {
    auto parts = mi::gw::split_push_error(req.err());
    s.metrics->push().bad_request(parts.code);
    s.session->send(text(mi::gw::reply_error(req.err())));
    return;
  }
  using op = mi::gw::client_request::op;
  switch (req->what) {
  case op::subscribe: {
    std::size_t after = s.channels.size();
    for (auto& c : req->channels)
      after += s.channels.count(c) == 0 ? 1 : 0;
    if (after > s.max_channels) {
      s.metrics->push().bad_request(mi::gw::push_error::too_many_channels);
      s.session->send(
        text(mi::gw::reply_error(mi::gw::push_error::too_many_channels,
                                 "at most " + std::to_string(s.max_channels) + " channels per connection")));
      return;
    }
    for (auto& c : req->channels)
      s.channels.insert(c);
    // The reply goes out before any data: the hub starts sending only after it got chsub.
    s.session->send(text(mi::gw::reply_subscribed(req->channels)));
    self->send(s.hub, chsub_atom::value, s.session->id(),
               subscribe_request{std::move(req->channels), std::move(req->since), req->snapshot});
    break;
  }
  case op::list:
    s.session->send(text(mi::gw::reply_list({s.channels.begin(), s.channels.end()})));
    break;
  case op::unsubscribe:
    for (auto& c : req->channels) {
      s.channels.erase(c);
      std::erase_if(s.books, [&](const auto& b) { return mi::gw::channel_matches(c, b.first); });
    }
    self->send(s.hub, chunsub_atom::value, s.session->id(), req->channels);
    s.session->send(text(mi::gw::reply_unsubscribed(req->channels)));
    break;
  case op::ping:
    s.session->send(text(mi::gw::reply_pong(req->id)));
    break;
  }
}

caf::behavior client_session(session_actor* self, session_ptr session, caf::actor hub, mi::gw::metrics* m,
                             std::size_t max_channels) {
  auto& st = self->state;
  st.session = std::move(session);
  st.hub = std::move(hub);
  st.metrics = m;
  st.max_channels = max_channels;
  // No timer per session: the hub counts every client's drops once a second (10,000 session timers were 10,000
  // messages a second through the actor clock, a quarter of the server's CPU with nothing published).
  return {
    [self](c_text_atom, const std::string& frame) {
      handle_frame(self, frame);
      self->state.session->text_done(); // the server reads this client's next frame only within its window
    },
    [self](book_atom, const std::string& channel, const shared_text& frame, bool snapshot) {
      auto& s = self->state;
      if (!holds(s, channel))
        return; // unsubscribed meanwhile
      auto& b = s.books[channel];
      if (!snapshot && b.need_snapshot) {
        if (b.ask_on_next) {
          b.ask_on_next = false;
          self->send(s.hub, bsnap_atom::value, s.session->id(), channel);
        }
        return;
      }
      const auto before = s.session->dropped();
      s.session->send(frame);
      if (s.session->dropped() == before) {
        if (snapshot)
          b.need_snapshot = false;
        return;
      }
      // The queue was full: this client's book would have a hole. Skip deltas until a fresh snapshot.
      s.metrics->push().book_conflated();
      b.need_snapshot = true;
      if (snapshot)
        b.ask_on_next = true; // paced by the deltas: never a tight loop while the client reads nothing
      else
        self->send(s.hub, bsnap_atom::value, s.session->id(), channel);
    },
    [self](stop_atom) { self->quit(); },
  };
}

// -- trade_feeds: MARKET_RAW ordered consumers, one per subscribed trade subject ----------------
// Detached: starting and stopping a consumer waits for the server.

struct feeds_state {
  static inline const char* name = "mi.push_trade_feeds";
  std::map<std::string, std::unique_ptr<mi::gw::ordered_consumer>> feeds;
};

caf::behavior trade_feeds(caf::stateful_actor<feeds_state>* self, mi::gw::jetstream* js, std::string stream,
                          caf::actor hub, mi::gw::metrics* m) {
  return {
    [=](chsub_atom, const std::string& subject) {
      auto& feeds = self->state.feeds;
      if (feeds.count(subject) != 0)
        return;
      auto oc = mi::gw::ordered_consumer::start(*js, stream, subject, 0, [hub, subject](mi::gw::js_message&& msg) {
        caf::anon_send(hub, tmsg_atom::value, std::string(msg.subject()), std::string(msg.data()), msg.stream_seq(),
                       msg.timestamp_ns());
      });
      if (!oc) {
        spdlog::error("push: cannot feed {} from {}: {}", subject, stream, oc.err().message);
        return;
      }
      feeds.emplace(subject, std::move(*oc));
      m->push().trade_feeds(static_cast<std::int64_t>(feeds.size()));
    },
    [=](chunsub_atom, const std::string& subject) {
      self->state.feeds.erase(subject);
      m->push().trade_feeds(static_cast<std::int64_t>(self->state.feeds.size()));
    },
    [=](stop_atom) {
      self->state.feeds.clear();
      m->push().trade_feeds(0);
      self->quit();
    },
  };
}

// -- replayer: reads the stored range of a resumed channel ------------------------------------
// Detached: a range read waits for the server. One read at a time; each is bounded by resume_max messages kept and
// a deadline.

// The data frame of one stored message of a resumable channel; nullptr when it does not decode.
shared_text stored_frame(channel_kind kind, const std::string& channel, std::string_view payload, std::uint64_t seq,
                         std::int64_t ts) {
  if (kind == channel_kind::kline) {
    auto k = mi::decode_kline_pb(payload);
    return k ? text(mi::gw::data_frame(channel, mi::kline_to_json(*k), seq, ts)) : nullptr;
  }
  auto t = mi::decode_trade_pb(payload);
  return t ? text(mi::gw::data_frame(channel, mi::trade_to_json(*t), seq, ts)) : nullptr;
}

replay_result replay(mi::gw::jetstream* js, const std::string& kline_stream, const std::string& raw_stream,
                     std::size_t max, const std::string& channel, std::uint64_t since) {
  replay_result out;
  const auto kind = mi::gw::kind_of(channel);
  const bool kline = kind == channel_kind::kline;
  mi::gw::stream_range r;
  r.stream = kline ? kline_stream : raw_stream;
  r.filter_subject = kline ? "market.kline." + channel.substr(std::string_view("kline.").size())
                           : mi::gw::trade_subject_for_channel(channel);
  r.from_seq = since + 1;
  r.stall_timeout = std::chrono::seconds(5);
  r.deadline = std::chrono::seconds(30);
  auto state = js != nullptr ? js->state(r.stream) : mi::result<mi::gw::stream_state>(mi::error{"no JetStream"});
  if (!state) {
    out.error = state.err().message;
    return out;
  }
  mi::gw::replay_window w(since, state->first_seq, max);
  if (since < state->last_seq && max > 0) {
    auto read = mi::gw::read_range(*js, r, [&](mi::gw::js_message&& m) {
      if (auto f = stored_frame(*kind, channel, m.data(), m.stream_seq(), m.timestamp_ns()))
        w.add(m.stream_seq(), std::move(f));
    });
    if (!read) {
      out.error = read.err().message;
      return out;
    }
    if (!read->complete) {
      out.error = "the stored range was not read to its end (stalled or too slow)";
      return out;
    }
  } else if (since < state->last_seq) { // resume_max 0: nothing is replayed, all of it is a gap
    w = mi::gw::replay_window(since, state->last_seq + 1, 0);
  }
  out.ok = true;
  out.frames.assign(w.kept().begin(), w.kept().end());
  if (auto g = w.gap()) {
    out.gap_from = g->from;
    out.gap_to = g->to;
  }
  return out;
}

caf::behavior replayer(caf::event_based_actor* self, caf::actor hub, mi::gw::jetstream* js, std::string kline_stream,
                       std::string raw_stream, std::size_t max) {
  return {
    [=](replay_atom, client_id id, const std::string& channel, std::uint64_t since) {
      self->send(hub, replay_atom::value, id, channel, replay(js, kline_stream, raw_stream, max, channel, since));
    },
    [self](stop_atom) { self->quit(); },
  };
}

// -- hub ------------------------------------------------------------------------------------

struct client_entry {
  caf::actor actor;
  session_ptr session;
  std::string key_id; ///< the API key the session was opened with ("" = anonymous)
  std::uint64_t dropped_reported = 0;
  std::uint64_t conflated_reported = 0;
};

// Counts what a client's queue dropped or conflated since the last report (the hub's tick, and when it leaves).
void report_drops(mi::gw::metrics* m, client_entry& e) {
  if (auto d = e.session->dropped(); d > e.dropped_reported) {
    m->push().dropped(d - e.dropped_reported);
    e.dropped_reported = d;
  }
  if (auto c = e.session->conflated(); c > e.conflated_reported) {
    m->push().conflated(c - e.conflated_reported);
    e.conflated_reported = c;
  }
}

struct hub_state {
  static inline const char* name = "mi.push_hub";
  push_hub_args args;
  std::unordered_map<client_id, client_entry> sessions;
  std::unordered_map<caf::actor_addr, std::pair<client_id, session_ptr>> monitored; // session actor -> client
  mi::gw::subscription_index index;
  std::set<std::string> trade_channels; // with a feed requested
  caf::actor feeds;
  caf::actor replays; // the replay worker (resumes)
  /// Wildcards: every channel seen in a message (kline, book, bbo: the hub sees them all), the patterns of each
  /// client, and the channels a client holds only through a pattern.
  std::unordered_set<std::string> known;
  std::unordered_map<client_id, std::set<std::string>> patterns;
  std::unordered_map<client_id, std::set<std::string>> expanded;
  /// Resumes in progress by (client, channel), and how many per channel (fan_out looks only where there are some).
  std::map<std::pair<client_id, std::string>, mi::gw::resume_splice> splices;
  std::unordered_map<std::string, std::size_t> resuming;
  bool rtick_pending = false;
  std::vector<shared_text> scratch; // pump()'s batch, reused
  /// The newest kline message of each channel (payload, publish time): the current candle for "snapshot".
  std::unordered_map<std::string, std::pair<std::string, std::int64_t>> last_kline;
  /// Every book on MARKET_BOOK, by channel "book.{exchange}.{symbol}": the state a new subscriber (or a slow one)
  /// starts from.
  struct book_entry {
    std::string exchange, symbol;
    mi::book::book_replica replica;
    bool seen_snapshot = false;
  };
  std::unordered_map<std::string, book_entry> books;
  std::uint64_t bad = 0;
};

using hub_actor = caf::stateful_actor<hub_state>;

bool is_trade(const std::string& channel) { return mi::gw::kind_of(channel) == channel_kind::trade; }
bool is_book(const std::string& channel) { return mi::gw::kind_of(channel) == channel_kind::book; }
void fan_out(hub_actor* self, const std::string& channel, channel_kind kind, const shared_text& frame,
             std::uint64_t seq, std::uint64_t key);
void discover(hub_actor* self, const std::string& channel);

// The conflation key of a channel's state: one per candle (channel, open time) or one per channel (BBO).
std::uint64_t state_key(const std::string& channel, std::int64_t open_time_ms = 0) {
  const auto h = std::hash<std::string>{}(channel) ^ (static_cast<std::uint64_t>(open_time_ms) * 0x9E3779B97F4A7C15ULL);
  return h == 0 ? 1 : h; // 0 means "never conflate"
}

// The current state of a book channel as a snapshot frame for one session; nothing when no snapshot was seen yet
// (the session then waits for the next one the platform publishes).
void send_book_snapshot(hub_actor* self, const caf::actor& session, const std::string& channel) {
  auto& st = self->state;
  auto it = st.books.find(channel);
  if (it == st.books.end() || !it->second.seen_snapshot)
    return;
  auto& e = it->second;
  self->send(session, book_atom::value, channel,
             text(mi::gw::data_frame(channel, mi::book::book_to_json(e.replica.snapshot(e.exchange, e.symbol)))), true);
}

void on_book_message(hub_actor* self, const std::string& subject, const std::string& payload) {
  auto& st = self->state;
  auto channel = mi::gw::channel_for_book_subject(subject);
  if (channel.empty())
    return;
  discover(self, channel);
  if (!is_book(channel)) { // market.bbo.*: best effort, like trades
    if (st.index.subscribers(channel) == nullptr)
      return;
    auto q = mi::book::decode_bbo_pb(payload);
    if (!q) {
      if (st.bad++ < 10)
        spdlog::error("push hub: undecodable BBO on {}: {}", subject, q.err().message);
      return;
    }
    fan_out(self, channel, channel_kind::bbo, text(mi::gw::data_frame(channel, mi::book::bbo_to_json(*q))), 0,
            state_key(channel));
    return;
  }
  auto u = mi::book::decode_book_pb(payload);
  if (!u) {
    if (st.bad++ < 10)
      spdlog::error("push hub: undecodable book on {}: {}", subject, u.err().message);
    return;
  }
  auto& e = st.books[channel];
  if (e.exchange.empty()) {
    e.exchange = u->exchange;
    e.symbol = u->symbol;
  }
  const auto outcome = e.replica.apply(*u);
  const bool snapshot = u->kind == mi::book::update_kind::snapshot;
  const bool had_snapshot = e.seen_snapshot;
  e.seen_snapshot = e.seen_snapshot || snapshot;
  auto* subs = st.index.subscribers(channel);
  if (subs == nullptr)
    return;
  if (outcome == mi::book::book_replica::outcome::gap || outcome == mi::book::book_replica::outcome::bad) {
    // Before the first snapshot (the feed starts with new messages only) a delta cannot be used: expected. After
    // one it cannot happen with an ordered consumer; if it does, the clients wait for the next snapshot like the hub.
    if (had_snapshot && st.bad++ < 10)
      spdlog::error("push hub: {} delta {} does not follow {}: waiting for a snapshot", channel, u->sequence,
                    e.replica.sequence());
    return;
  }
  if (outcome == mi::book::book_replica::outcome::stale)
    return;
  auto frame = text(mi::gw::data_frame(channel, mi::book::book_to_json(*u)));
  for (auto id : *subs)
    if (auto s = st.sessions.find(id); s != st.sessions.end())
      self->send(s->second.actor, book_atom::value, channel, frame, snapshot);
}

// Feeds for channels that just lost their last subscriber end.
void stop_feeds(hub_actor* self, const std::vector<std::string>& emptied) {
  auto& st = self->state;
  for (auto& c : emptied) {
    if (!is_trade(c) || st.trade_channels.erase(c) == 0)
      continue;
    self->send(st.feeds, chunsub_atom::value, mi::gw::trade_subject_for_channel(c));
  }
}

// Ends one resume (done, or its client left).
void end_splice(hub_actor* self, decltype(hub_state::splices)::iterator it) {
  auto& st = self->state;
  if (auto r = st.resuming.find(it->first.second); r != st.resuming.end() && --r->second == 0)
    st.resuming.erase(r);
  st.splices.erase(it);
}

// Drops a client: its session entry, its subscriptions, its resumes, the feeds only it needed.
void forget(hub_actor* self, client_id id) {
  auto& st = self->state;
  if (auto s = st.sessions.find(id); s != st.sessions.end()) {
    report_drops(st.args.metrics, s->second);
    if (const auto d = s->second.session->dropped(); d > 0)
      spdlog::info("push client {} ({}) left; {} messages dropped for it", id, s->second.session->remote(), d);
    st.sessions.erase(s);
  }
  st.patterns.erase(id);
  st.expanded.erase(id);
  for (auto it = st.splices.lower_bound({id, std::string{}}); it != st.splices.end() && it->first.first == id;)
    end_splice(self, it++);
  stop_feeds(self, st.index.remove_client(id));
  st.args.metrics->push().clients(static_cast<std::int64_t>(st.sessions.size()));
}

// One message to every subscriber of `channel`, straight into each client's queue (no mailbox message per client).
// A client resuming this channel gets it later, through its splice.
void fan_out(hub_actor* self, const std::string& channel, channel_kind kind, const shared_text& frame,
             std::uint64_t seq, std::uint64_t key) {
  auto& st = self->state;
  auto* subs = st.index.subscribers(channel);
  if (subs == nullptr)
    return;
  const auto policy = st.args.policies[static_cast<std::size_t>(kind)];
  const bool resumes = !st.resuming.empty() && st.resuming.count(channel) != 0;
  for (auto id : *subs) {
    auto s = st.sessions.find(id);
    if (s == st.sessions.end())
      continue;
    if (resumes)
      if (auto sp = st.splices.find({id, channel}); sp != st.splices.end()) {
        sp->second.live(seq, frame);
        continue;
      }
    s->second.session->send_data(frame, policy, key);
  }
}

// A channel a client's pattern brings in: held like a named one while the client has room for it.
void expand(hub_actor* self, client_id id, const std::string& channel) {
  auto& st = self->state;
  auto client = st.sessions.find(id);
  if (client == st.sessions.end())
    return;
  if (auto* subs = st.index.subscribers(channel); subs != nullptr && subs->count(id) != 0)
    return; // named explicitly already
  if (st.index.channels_of(id) >= st.args.max_channels) {
    st.args.metrics->push().bad_request(mi::gw::push_error::too_many_channels);
    client->second.session->send(text(mi::gw::reply_error(
      mi::gw::push_error::too_many_channels, "a wildcard matches " + channel + ", over the limit of " +
                                               std::to_string(st.args.max_channels) + " channels: it gets nothing")));
    return;
  }
  st.index.add(id, {channel});
  st.expanded[id].insert(channel);
  if (is_book(channel))
    send_book_snapshot(self, client->second.actor, channel);
}

// The first message of a channel: the clients whose patterns match it start holding it.
void discover(hub_actor* self, const std::string& channel) {
  auto& st = self->state;
  if (st.known.count(channel) != 0 || !st.known.insert(channel).second)
    return;
  for (auto& [id, pats] : st.patterns)
    for (const auto& p : pats)
      if (mi::gw::channel_matches(p, channel)) {
        expand(self, id, channel);
        break;
      }
}

// Hands replayed and spliced frames to the resuming clients, never filling more than half of a client's queue.
void pump(hub_actor* self) {
  auto& st = self->state;
  const std::size_t half = std::max<std::size_t>(1, st.args.queue_limit / 2);
  for (auto it = st.splices.begin(); it != st.splices.end();) {
    auto& sp = it->second;
    auto client = st.sessions.find(it->first.first);
    if (client == st.sessions.end()) {
      end_splice(self, it++);
      continue;
    }
    if (!sp.ready()) {
      ++it;
      continue;
    }
    auto& session = client->second.session;
    const std::size_t queued = session->queued();
    std::optional<mi::gw::seq_gap> lost;
    st.scratch.clear();
    sp.take(queued < half ? half - queued : 0, st.scratch, lost);
    for (auto& f : st.scratch)
      session->send_data(std::move(f), mi::gw::slow_policy::drop, 0);
    if (lost) {
      st.args.metrics->push().resume_gap();
      session->send(text(mi::gw::reply_gap(it->first.second, lost->from, lost->to)));
    }
    if (sp.done())
      end_splice(self, it++);
    else
      ++it;
  }
  if (!st.splices.empty() && !st.rtick_pending) {
    st.rtick_pending = true;
    self->delayed_send(self, std::chrono::milliseconds(2), rtick_atom::value);
  }
}

// The current candle of a kline channel, when the hub has seen one.
void send_kline_snapshot(hub_actor* self, const std::shared_ptr<mi::gw::push_session>& session,
                         const std::string& channel) {
  auto it = self->state.last_kline.find(channel);
  if (it == self->state.last_kline.end())
    return;
  if (auto k = mi::decode_kline_pb(it->second.first))
    session->send(text(mi::gw::data_frame(channel, mi::kline_to_json(*k), 0, it->second.second)));
}

caf::behavior push_hub(hub_actor* self, push_hub_args args) {
  auto& init = self->state;
  init.args = std::move(args);
  if (init.args.js != nullptr)
    init.feeds = self->spawn<caf::detached + caf::linked>(trade_feeds, init.args.js, init.args.raw_stream,
                                                          caf::actor_cast<caf::actor>(self), init.args.metrics);
  if (init.args.js != nullptr)
    init.replays =
      self->spawn<caf::detached + caf::linked>(replayer, caf::actor_cast<caf::actor>(self), init.args.js,
                                               init.args.kline_stream, init.args.raw_stream, init.args.resume_max);
  if (init.args.check_keys)
    self->delayed_send(self, init.args.key_check_interval, keychk_atom::value);
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  // Sessions are monitored: one that dies with an error is removed (its client closed with 1011)
  // and counted, instead of silently swallowing the frames sent to it.
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.monitored.find(dm.source);
    if (it == st.monitored.end())
      return;
    auto [id, session] = it->second;
    st.monitored.erase(it);
    if (!dm.reason || dm.reason == caf::exit_reason::normal)
      return; // stopped by the hub (client gone, or hub stopping)
    st.args.metrics->push().session_failed();
    spdlog::error("push client {} ({}): session failed ({}), closing it", id, session->remote(),
                  self->system().render(dm.reason));
    session->close(1011, "internal error");
    if (auto s = st.sessions.find(id); s != st.sessions.end() && s->second.actor.address() == dm.source)
      forget(self, id);
  });
  caf::behavior handlers{
    [self](c_open_atom, const session_ptr& s) {
      auto& st = self->state;
      auto a = self->spawn(client_session, s, caf::actor_cast<caf::actor>(self), st.args.metrics, st.args.max_channels);
      self->monitor(a);
      st.monitored.emplace(a.address(), std::make_pair(s->id(), s));
      st.sessions.emplace(s->id(), client_entry{a, s, mi::gw::push_token_key(s->target())});
      st.args.metrics->push().clients(static_cast<std::int64_t>(st.sessions.size()));
    },
    [self](c_text_atom, client_id id, std::string& frame) {
      auto it = self->state.sessions.find(id);
      if (it != self->state.sessions.end())
        self->send(it->second.actor, c_text_atom::value, std::move(frame));
    },
    [self](c_close_atom, client_id id) {
      auto& st = self->state;
      auto it = st.sessions.find(id);
      if (it == st.sessions.end())
        return;
      self->send(it->second.actor, stop_atom::value);
      forget(self, id);
    },
    [self](chsub_atom, client_id id, subscribe_request& req) {
      auto& st = self->state;
      auto client = st.sessions.find(id);
      if (client == st.sessions.end())
        return; // it left while its request was on the way
      std::vector<std::string> named;
      for (auto& c : req.channels) {
        if (!mi::gw::is_pattern(c)) {
          if (auto e = st.expanded.find(id); e != st.expanded.end())
            e->second.erase(c); // held by name from now on
          named.push_back(c);
          continue;
        }
        if (!st.patterns[id].insert(c).second)
          continue;
        for (const auto& known : st.known)
          if (mi::gw::channel_matches(c, known))
            expand(self, id, known);
      }
      // Resumes start before the channel is live for this client: no live message can slip past the splice.
      for (auto& [c, since] : req.since) {
        if (!st.splices.try_emplace({id, c}, st.args.resume_max).second)
          continue; // resuming already
        ++st.resuming[c];
        if (st.replays)
          self->send(st.replays, replay_atom::value, id, c, since);
        else // no JetStream: nothing to replay from
          self->send(self, replay_atom::value, id, c, replay_result{false, "no stream to replay from", {}, 0, 0});
      }
      for (const auto& c : named) {
        if (is_book(c)) // a snapshot first (also for a channel the client already had: it asked again)
          send_book_snapshot(self, client->second.actor, c);
        else if (req.snapshot && mi::gw::kind_of(c) == channel_kind::kline && st.splices.count({id, c}) == 0)
          send_kline_snapshot(self, client->second.session, c);
      }
      for (auto& c : st.index.add(id, named)) {
        if (!is_trade(c))
          continue;
        if (st.feeds && st.trade_channels.size() >= st.args.max_trade_feeds) {
          st.index.remove(id, {c});
          st.args.metrics->push().rejected(mi::gw::push_rejection::trade_feeds);
          client->second.session->send(text(mi::gw::reply_error(
            mi::gw::push_error::too_many_channels, "server-wide limit of " + std::to_string(st.args.max_trade_feeds) +
                                                     " trade channels reached: " + c + " gets nothing")));
          continue;
        }
        if (st.feeds && st.trade_channels.insert(c).second)
          self->send(st.feeds, chsub_atom::value, mi::gw::trade_subject_for_channel(c));
      }
    },
    [self](chunsub_atom, client_id id, const std::vector<std::string>& channels) {
      auto& st = self->state;
      std::vector<std::string> gone;
      for (const auto& c : channels) {
        if (auto sp = st.splices.find({id, c}); sp != st.splices.end())
          end_splice(self, sp);
        if (!mi::gw::is_pattern(c)) {
          gone.push_back(c);
          if (auto e = st.expanded.find(id); e != st.expanded.end())
            e->second.erase(c);
          continue;
        }
        auto p = st.patterns.find(id);
        if (p == st.patterns.end() || p->second.erase(c) == 0)
          continue;
        auto e = st.expanded.find(id);
        if (e == st.expanded.end())
          continue;
        for (auto it = e->second.begin(); it != e->second.end();) {
          const bool still = std::any_of(p->second.begin(), p->second.end(),
                                         [&](const std::string& other) { return mi::gw::channel_matches(other, *it); });
          if (mi::gw::channel_matches(c, *it) && !still) {
            gone.push_back(*it);
            it = e->second.erase(it);
          } else {
            ++it;
          }
        }
      }
      stop_feeds(self, st.index.remove(id, gone));
    },
    [self](qmsg_atom, const std::string& subject, const std::string& payload) {
      auto& st = self->state;
      auto channel = mi::gw::channel_for_quote_subject(subject);
      if (channel.empty() || st.index.subscribers(channel) == nullptr)
        return;
      auto json = quote_json(payload);
      if (!json) {
        if (st.bad++ < 10)
          spdlog::error("push hub: undecodable quote on {}", subject);
        return;
      }
      fan_out(self, channel, channel_kind::quote, text(mi::gw::data_frame(channel, *json)), 0, 0);
    },
    [self](smsg_atom, const std::string& subject, const std::string& payload) {
      auto& st = self->state;
      auto channel = mi::gw::channel_for_status_subject(subject);
      if (channel.empty() || st.index.subscribers(channel) == nullptr)
        return;
      auto json = status_json(payload);
      if (!json) {
        if (st.bad++ < 10)
          spdlog::error("push hub: undecodable status on {}", subject);
        return;
      }
      fan_out(self, channel, channel_kind::status, text(mi::gw::data_frame(channel, *json)), 0, 0);
    },
    [self](dmsg_atom, const std::string& subject, const std::string& payload) {
      auto& st = self->state;
      auto d = mi::decode_document_pb(payload);
      if (!d) {
        if (st.bad++ < 10)
          spdlog::error("push hub: undecodable document on {}: {}", subject, d.err().message);
        return;
      }
      std::shared_ptr<const std::string> json; // encoded once, for the first channel that has subscribers
      for (const auto& channel : mi::gw::channels_for_document(d->source, d->symbols)) {
        if (st.index.subscribers(channel) == nullptr)
          continue;
        if (!json)
          json = std::make_shared<const std::string>(mi::document_to_json(*d));
        fan_out(self, channel, channel_kind::doc, text(mi::gw::data_frame(channel, *json)), 0, 0);
      }
    },
    [self](kmsg_atom, const std::string& subject, std::string& payload, std::uint64_t seq, std::int64_t ts) {
      auto& st = self->state;
      auto channel = mi::gw::channel_for_kline_subject(subject);
      if (channel.empty())
        return;
      discover(self, channel);
      if (st.index.subscribers(channel) == nullptr) {
        st.last_kline[channel] = {std::move(payload), ts};
        return;
      }
      auto k = mi::decode_kline_pb(payload);
      if (!k) {
        if (st.bad++ < 10)
          spdlog::error("push hub: undecodable kline on {}: {}", subject, k.err().message);
        return;
      }
      fan_out(self, channel, channel_kind::kline, text(mi::gw::data_frame(channel, mi::kline_to_json(*k), seq, ts)),
              seq, state_key(channel, k->open_time_ms));
      st.last_kline[channel] = {std::move(payload), ts};
    },
    [self](tmsg_atom, const std::string& subject, const std::string& payload, std::uint64_t seq, std::int64_t ts) {
      auto& st = self->state;
      auto channel = mi::gw::channel_for_trade_subject(subject);
      if (st.index.subscribers(channel) == nullptr)
        return;
      auto t = mi::decode_trade_pb(payload);
      if (!t) {
        if (st.bad++ < 10)
          spdlog::error("push hub: undecodable trade on {}: {}", subject, t.err().message);
        return;
      }
      fan_out(self, channel, channel_kind::trade, text(mi::gw::data_frame(channel, mi::trade_to_json(*t), seq, ts)),
              seq, 0);
    },
    [self](replay_atom, client_id id, const std::string& channel, replay_result& r) {
      auto& st = self->state;
      auto sp = st.splices.find({id, channel});
      auto client = st.sessions.find(id);
      if (sp == st.splices.end() || client == st.sessions.end())
        return; // left or unsubscribed meanwhile
      shared_text gap;
      if (!r.ok) {
        spdlog::warn("push client {}: cannot replay {}: {}", id, channel, r.error);
        st.args.metrics->push().bad_request(mi::gw::push_error::resume_failed);
        gap = text(mi::gw::reply_error(mi::gw::push_error::resume_failed,
                                       "cannot replay " + channel + " (" + r.error + "): live messages follow"));
      } else if (r.gap_to > 0) {
        st.args.metrics->push().resume_gap();
        gap = text(mi::gw::reply_gap(channel, r.gap_from, r.gap_to));
      }
      st.args.metrics->push().replayed(r.frames.size());
      sp->second.replayed(std::move(gap), std::move(r.frames));
      pump(self);
    },
    [self](rtick_atom) {
      self->state.rtick_pending = false;
      pump(self);
    },
    [self](bmsg_atom, const std::string& subject, const std::string& payload) {
      on_book_message(self, subject, payload);
    },
    [self](bsnap_atom, client_id id, const std::string& channel) {
      auto& st = self->state;
      if (auto s = st.sessions.find(id); s != st.sessions.end())
        send_book_snapshot(self, s->second.actor, channel);
    },
    [self](revoked_atom, const std::vector<std::string>& key_ids) {
      auto& st = self->state;
      std::set<std::string> revoked(key_ids.begin(), key_ids.end());
      revoked.erase(std::string{});
      for (auto& [id, e] : st.sessions) {
        if (e.key_id.empty() || revoked.count(e.key_id) == 0)
          continue;
        spdlog::info("push client {} ({}): api key {} revoked, closing", id, e.session->remote(), e.key_id);
        st.args.metrics->push().rejected(mi::gw::push_rejection::api_key_revoked);
        e.session->close(close_policy_violation, revoked_reason);
      }
    },
    [self](clients_atom) {
      // The console's push section: the clients that lost the most messages first (at most 20).
      std::vector<const client_entry*> all;
      for (const auto& [id, e] : self->state.sessions)
        all.push_back(&e);
      std::sort(all.begin(), all.end(), [](const client_entry* a, const client_entry* b) {
        return a->session->dropped() != b->session->dropped() ? a->session->dropped() > b->session->dropped()
                                                              : a->session->id() < b->session->id();
      });
      std::string out = "[";
      for (std::size_t i = 0; i < all.size() && i < 20; ++i) {
        const auto& e = *all[i];
        out += (i == 0 ? "{\"id\":" : ",{\"id\":") + std::to_string(e.session->id()) + ",\"peer\":";
        mi::util::append_json_string(out, e.session->remote());
        out += ",\"key_id\":";
        mi::util::append_json_string(out, e.key_id);
        out += ",\"dropped\":" + std::to_string(e.session->dropped()) + "}";
      }
      return out + "]";
    },
    [self](kick_atom, client_id id) {
      auto& st = self->state;
      auto s = st.sessions.find(id);
      if (s == st.sessions.end())
        return false;
      spdlog::info("push client {} ({}): disconnected by an operator", id, s->second.session->remote());
      s->second.session->close(close_policy_violation, "disconnected by an operator");
      return true;
    },
    [self](keychk_atom) {
      auto& st = self->state;
      std::set<std::string> keys;
      for (auto& [id, e] : st.sessions)
        if (!e.key_id.empty())
          keys.insert(e.key_id);
      if (!keys.empty())
        st.args.check_keys({keys.begin(), keys.end()}, caf::actor_cast<caf::actor>(self));
      self->delayed_send(self, st.args.key_check_interval, keychk_atom::value);
    },
    [self](tick_atom) {
      auto& st = self->state;
      for (auto& [id, e] : st.sessions)
        report_drops(st.args.metrics, e);
      self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
    },
    [self](stop_atom) {
      for (auto& [id, e] : self->state.sessions) {
        report_drops(self->state.args.metrics, e);
        self->send(e.actor, stop_atom::value);
      }
      if (self->state.feeds)
        self->send(self->state.feeds, stop_atom::value);
      if (self->state.replays)
        self->send(self->state.replays, stop_atom::value);
      self->quit();
    },
  };
  return inspected(self, "push_hub", "push_hub", std::move(handlers));
}

} // namespace

caf::actor spawn_push_hub(caf::actor_system& sys, push_hub_args args) { return sys.spawn(push_hub, std::move(args)); }

} // namespace mi::actors
