#include "actors/push_hub.hpp"
#include "actors/inspection.hpp"

#include <map>
#include <memory>
#include <set>
#include <spdlog/spdlog.h>
#include <unordered_map>

#include "actors/caf_types.hpp"
#include "caf/actor_system.hpp"
#include "caf/blocking_actor.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/push/push_limits.hpp"
#include "gateways/push/push_protocol.hpp"
#include "messages/book/book_message.hpp"
#include "messages/document.hpp"
#include "messages/codec.hpp"

namespace mi::actors {
namespace {

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
  std::uint64_t dropped_reported = 0;
  /// Book channels: deltas are only sent after a snapshot the client got; a frame its full queue dropped makes the
  /// session skip deltas and ask the hub for a fresh snapshot (conflation instead of a book with holes).
  struct book_sub {
    bool need_snapshot = true;
    bool ask_on_next = false; ///< the snapshot itself was dropped: ask again with the next delta
  };
  std::unordered_map<std::string, book_sub> books;
};

using session_actor = caf::stateful_actor<session_state>;

void report_drops(session_actor* self) {
  auto& st = self->state;
  auto d = st.session->dropped();
  if (d > st.dropped_reported) {
    st.metrics->push().dropped(d - st.dropped_reported);
    st.dropped_reported = d;
  }
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
    self->send(s.hub, chsub_atom::value, s.session->id(), req->channels);
    break;
  }
  case op::unsubscribe:
    for (auto& c : req->channels) {
      s.channels.erase(c);
      s.books.erase(c);
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
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  return {
    [self](c_text_atom, const std::string& frame) {
      handle_frame(self, frame);
      self->state.session->text_done(); // the server reads this client's next frame only within its window
    },
    [self](push_atom, const shared_text& frame) { self->state.session->send(frame); },
    [self](book_atom, const std::string& channel, const shared_text& frame, bool snapshot) {
      auto& s = self->state;
      if (s.channels.count(channel) == 0)
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
    [self](tick_atom) {
      report_drops(self);
      self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
    },
    [self](stop_atom) {
      report_drops(self);
      auto& s = self->state;
      if (s.session->dropped() > 0)
        spdlog::info("push client {} ({}) left; {} messages dropped for it", s.session->id(), s.session->remote(),
                     s.session->dropped());
      self->quit();
    },
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
        caf::anon_send(hub, tmsg_atom::value, subject, std::string(msg.data()));
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

// -- hub ------------------------------------------------------------------------------------

struct client_entry {
  caf::actor actor;
  session_ptr session;
  std::string key_id; ///< the API key the session was opened with ("" = anonymous)
};

struct hub_state {
  static inline const char* name = "mi.push_hub";
  push_hub_args args;
  std::unordered_map<client_id, client_entry> sessions;
  std::unordered_map<caf::actor_addr, std::pair<client_id, session_ptr>> monitored; // session actor -> client
  mi::gw::subscription_index index;
  std::set<std::string> trade_channels; // with a feed requested
  caf::actor feeds;
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

bool is_trade(const std::string& channel) { return channel.starts_with("trade."); }
void fan_out(hub_actor* self, const std::string& channel, const shared_text& frame);
bool is_book(const std::string& channel) { return channel.starts_with("book."); }

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
  if (!is_book(channel)) { // market.bbo.*: best effort, like trades
    if (st.index.subscribers(channel) == nullptr)
      return;
    auto q = mi::book::decode_bbo_pb(payload);
    if (!q) {
      if (st.bad++ < 10)
        spdlog::error("push hub: undecodable BBO on {}: {}", subject, q.err().message);
      return;
    }
    fan_out(self, channel, text(mi::gw::data_frame(channel, mi::book::bbo_to_json(*q))));
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

// Drops a client: its session entry, its subscriptions, the feeds only it needed.
void forget(hub_actor* self, client_id id) {
  auto& st = self->state;
  st.sessions.erase(id);
  stop_feeds(self, st.index.remove_client(id));
  st.args.metrics->push().clients(static_cast<std::int64_t>(st.sessions.size()));
}

void fan_out(hub_actor* self, const std::string& channel, const shared_text& frame) {
  auto& st = self->state;
  if (auto* subs = st.index.subscribers(channel))
    for (auto id : *subs)
      if (auto s = st.sessions.find(id); s != st.sessions.end())
        self->send(s->second.actor, push_atom::value, frame);
}

caf::behavior push_hub(hub_actor* self, push_hub_args args) {
  auto& init = self->state;
  init.args = std::move(args);
  if (init.args.js != nullptr)
    init.feeds = self->spawn<caf::detached + caf::linked>(trade_feeds, init.args.js, init.args.raw_stream,
                                                          caf::actor_cast<caf::actor>(self), init.args.metrics);
  if (init.args.check_keys)
    self->delayed_send(self, init.args.key_check_interval, keychk_atom::value);
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
    [self](chsub_atom, client_id id, const std::vector<std::string>& channels) {
      auto& st = self->state;
      auto client = st.sessions.find(id);
      if (client == st.sessions.end())
        return; // it left while its request was on the way
      for (const auto& c : channels)
        if (is_book(c)) // a snapshot first (also for a channel the client already had: it asked again)
          send_book_snapshot(self, client->second.actor, c);
      for (auto& c : st.index.add(id, channels)) {
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
      stop_feeds(self, self->state.index.remove(id, channels));
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
        fan_out(self, channel, text(mi::gw::data_frame(channel, *json)));
      }
    },
    [self](kmsg_atom, const std::string& subject, const std::string& payload) {
      auto& st = self->state;
      auto channel = mi::gw::channel_for_kline_subject(subject);
      if (st.index.subscribers(channel) == nullptr)
        return;
      auto k = mi::decode_kline_pb(payload);
      if (!k) {
        if (st.bad++ < 10)
          spdlog::error("push hub: undecodable kline on {}: {}", subject, k.err().message);
        return;
      }
      fan_out(self, channel, text(mi::gw::data_frame(channel, mi::kline_to_json(*k))));
    },
    [self](tmsg_atom, const std::string& subject, const std::string& payload) {
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
      fan_out(self, channel, text(mi::gw::data_frame(channel, mi::trade_to_json(*t))));
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
    [self](stop_atom) {
      for (auto& [id, e] : self->state.sessions)
        self->send(e.actor, stop_atom::value);
      if (self->state.feeds)
        self->send(self->state.feeds, stop_atom::value);
      self->quit();
    },
  };
  return inspected(self, "push_hub", "push_hub", std::move(handlers));
}

} // namespace

caf::actor spawn_push_hub(caf::actor_system& sys, push_hub_args args) { return sys.spawn(push_hub, std::move(args)); }

} // namespace mi::actors
