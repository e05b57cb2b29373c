#include "actors/push_hub.hpp"

#include <set>
#include <spdlog/spdlog.h>
#include <unordered_map>

#include "actors/caf_types.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/push/push_protocol.hpp"
#include "messages/codec.hpp"

namespace mi::actors {
namespace {

using mi::gw::client_id;

std::shared_ptr<const std::string> text(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

// -- client_session: one per WebSocket client ------------------------------------------------

struct session_state {
  static inline const char* name = "mi.client_session";
  session_ptr session;
  caf::actor hub;
  mi::gw::metrics* metrics = nullptr;
  std::size_t max_channels = 100;
  std::set<std::string> channels;
  std::uint64_t dropped_reported = 0;
};

using session_actor = caf::stateful_actor<session_state>;

void report_drops(session_actor* self) {
  auto& st = self->state;
  auto d = st.session->dropped();
  if (d > st.dropped_reported) {
    st.metrics->push_dropped(d - st.dropped_reported);
    st.dropped_reported = d;
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
      auto& s = self->state;
      auto req = mi::gw::parse_client_message(frame, s.max_channels);
      if (!req) {
        auto parts = mi::gw::split_push_error(req.err());
        s.metrics->push_bad_request(parts.code);
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
            s.metrics->push_bad_request(mi::gw::push_error::too_many_channels);
            s.session->send(text(mi::gw::reply_error(mi::gw::push_error::too_many_channels,
                                                     "at most " + std::to_string(s.max_channels) +
                                                       " channels per connection")));
            return;
          }
          for (auto& c : req->channels)
            s.channels.insert(c);
          self->send(s.hub, chsub_atom::value, s.session->id(), req->channels);
          s.session->send(text(mi::gw::reply_subscribed(req->channels)));
          break;
        }
        case op::unsubscribe:
          for (auto& c : req->channels)
            s.channels.erase(c);
          self->send(s.hub, chunsub_atom::value, s.session->id(), req->channels);
          s.session->send(text(mi::gw::reply_unsubscribed(req->channels)));
          break;
        case op::ping:
          s.session->send(text(mi::gw::reply_pong(req->id)));
          break;
      }
    },
    [self](push_atom, const shared_text& frame) { self->state.session->send(frame); },
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

// -- hub ------------------------------------------------------------------------------------

struct hub_state {
  static inline const char* name = "mi.push_hub";
  push_hub_args args;
  std::unordered_map<client_id, caf::actor> sessions;
  std::unordered_map<caf::actor_addr, std::pair<client_id, session_ptr>> monitored; // session actor -> client
  std::unordered_map<std::string, std::set<client_id>> subscribers; // channel -> clients
  std::uint64_t bad = 0;
};

using hub_actor = caf::stateful_actor<hub_state>;

void forget(hub_actor* self, client_id id) {
  auto& st = self->state;
  st.sessions.erase(id);
  for (auto sit = st.subscribers.begin(); sit != st.subscribers.end();) {
    sit->second.erase(id);
    sit = sit->second.empty() ? st.subscribers.erase(sit) : std::next(sit);
  }
  st.args.metrics->push_clients(static_cast<std::int64_t>(st.sessions.size()));
}

caf::behavior push_hub(hub_actor* self, push_hub_args args) {
  self->state.args = args;
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
    st.args.metrics->push_session_failed();
    spdlog::error("push client {} ({}): session failed ({}), closing it", id, session->remote(),
                  self->system().render(dm.reason));
    session->close(1011, "internal error");
    if (auto s = st.sessions.find(id); s != st.sessions.end() && s->second.address() == dm.source)
      forget(self, id);
  });
  return {
    [self](c_open_atom, const session_ptr& s) {
      auto& st = self->state;
      auto a = self->spawn(client_session, s, caf::actor_cast<caf::actor>(self), st.args.metrics, st.args.max_channels);
      self->monitor(a);
      st.monitored.emplace(a.address(), std::make_pair(s->id(), s));
      st.sessions.emplace(s->id(), a);
      st.args.metrics->push_clients(static_cast<std::int64_t>(st.sessions.size()));
    },
    [self](c_text_atom, client_id id, std::string& frame) {
      auto it = self->state.sessions.find(id);
      if (it != self->state.sessions.end())
        self->send(it->second, c_text_atom::value, std::move(frame));
    },
    [self](c_close_atom, client_id id) {
      auto& st = self->state;
      auto it = st.sessions.find(id);
      if (it == st.sessions.end())
        return;
      self->send(it->second, stop_atom::value);
      forget(self, id);
    },
    [self](chsub_atom, client_id id, const std::vector<std::string>& channels) {
      for (auto& c : channels)
        self->state.subscribers[c].insert(id);
    },
    [self](chunsub_atom, client_id id, const std::vector<std::string>& channels) {
      auto& subs = self->state.subscribers;
      for (auto& c : channels) {
        auto it = subs.find(c);
        if (it == subs.end())
          continue;
        it->second.erase(id);
        if (it->second.empty())
          subs.erase(it);
      }
    },
    [self](kmsg_atom, const std::string& subject, const std::string& payload) {
      auto& st = self->state;
      auto channel = mi::gw::channel_for_kline_subject(subject);
      auto it = st.subscribers.find(channel);
      if (it == st.subscribers.end())
        return;
      auto k = mi::decode_kline_pb(payload);
      if (!k) {
        if (st.bad++ < 10)
          spdlog::error("push hub: undecodable kline on {}: {}", subject, k.err().message);
        return;
      }
      auto frame = text(mi::gw::data_frame(channel, mi::kline_to_json(*k)));
      for (auto id : it->second)
        if (auto s = st.sessions.find(id); s != st.sessions.end())
          self->send(s->second, push_atom::value, frame);
    },
    [self](stop_atom) {
      for (auto& [id, a] : self->state.sessions)
        self->send(a, stop_atom::value);
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_push_hub(caf::actor_system& sys, push_hub_args args) {
  return sys.spawn(push_hub, args);
}

} // namespace mi::actors
