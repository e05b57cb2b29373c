#include "actors/derivatives_connection.hpp"

#include <chrono>
#include <map>
#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "actors/publish_window.hpp"
#include "actors/publisher.hpp"
#include "actors/ws_events.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "connectors/transport/backoff.hpp"
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "connectors/venue/derivatives_feed.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "messages/util/clock.hpp"

namespace mi::actors {
namespace {

using mi::util::now_ns;
constexpr auto tick_period = std::chrono::seconds(1);
constexpr std::size_t max_outstanding_batches = 4;

struct deriv_state {
  static inline const char* name = "mi.derivatives";
  derivatives_connection_args args;
  std::unique_ptr<mi::venue::derivatives_feed> feed;
  std::unique_ptr<mi::net::backoff> backoff;
  std::map<std::uint64_t, std::shared_ptr<mi::net::ws_client>> clients;
  std::uint64_t active = 0, next_gen = 1;
  publish_window publishing{max_outstanding_batches};
  caf::actor rest; ///< the detached REST helper (open interest)
  std::int64_t next_oi_ns = 0;
  std::uint64_t rejected = 0;
  bool stopping = false;

  ~deriv_state() {
    for (auto& [gen, c] : clients)
      c->close();
  }
};

using deriv_actor = caf::stateful_actor<deriv_state>;

void open_connection(deriv_actor* self) {
  auto& st = self->state;
  auto u = mi::net::parse_url(st.args.cfg.ws_url);
  if (!u) {
    self->quit(caf::make_error(caf::sec::invalid_argument, "bad ws_url: " + u.err().message));
    return;
  }
  const std::uint64_t gen = st.next_gen++;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto h = ws_events(me, gen);
  mi::net::ws_options o;
  o.connect_timeout = st.args.cfg.connect_timeout;
  o.read_timeout = st.args.cfg.read_timeout;
  auto client = mi::net::ws_client::create(st.args.io->context(), *u, o, std::move(h));
  st.clients.emplace(gen, client);
  st.active = gen;
  client->start();
  spdlog::info("{}: connecting to {} ({} symbols)", st.args.venue, st.args.cfg.ws_url, st.feed->symbols().size());
}

void publish(deriv_actor* self, std::vector<mi::deriv::derivative>& events) {
  auto& st = self->state;
  if (events.empty())
    return;
  outgoing_batch batch;
  batch.reserve(events.size());
  for (const auto& d : events)
    batch.push_back(mi::gw::outgoing{mi::deriv::subject(d),
                                     mi::deriv::dedup_id(d),
                                     std::string(mi::deriv::content_type),
                                     mi::deriv::encode_pb(d),
                                     {},
                                     0});
  publish_within(self, st.publishing, st.args.publisher->get(), std::move(batch), [self](bool paused) {
    for (auto& [gen, c] : self->state.clients)
      paused ? c->pause_reading() : c->resume_reading();
  });
}

void rejected(deriv_actor* self, const std::string& why, std::string_view text) {
  auto& st = self->state;
  if (st.rejected++ < 10 || st.rejected % 1000 == 0)
    spdlog::warn("{}: rejected frame ({} so far): {}: {:.200}", st.args.venue, st.rejected, why, text);
}

// A blocking HTTP GET per request, off the scheduler: (oirest_atom, url) -> answers (oirest_atom, ok, body).
caf::behavior rest_helper(caf::event_based_actor* self, std::chrono::milliseconds timeout) {
  (void)self;
  return {[timeout](oirest_atom, const std::string& url) {
    auto u = mi::net::parse_url(url);
    if (!u)
      return caf::make_message(oirest_atom::value, false, u.err().message);
    auto body = mi::net::http_get(*u, timeout);
    if (!body)
      return caf::make_message(oirest_atom::value, false, body.err().message);
    return caf::make_message(oirest_atom::value, true, std::move(*body));
  }};
}

caf::behavior derivatives_connection(deriv_actor* self, derivatives_connection_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  auto feed = mi::venue::make_derivatives_feed(st.args.venue, st.args.cfg.symbols);
  if (!feed) {
    self->quit(caf::make_error(caf::sec::invalid_argument, feed.err().message));
    return {};
  }
  st.feed = std::move(*feed);
  auto& rc = st.args.cfg.reconnect;
  st.backoff = std::make_unique<mi::net::backoff>(rc.initial, rc.max, rc.healthy_after, st.args.seed);
  if (!st.feed->open_interest_requests().empty())
    st.rest = self->spawn<caf::detached + caf::linked>(
      rest_helper, std::chrono::duration_cast<std::chrono::milliseconds>(st.args.cfg.connect_timeout * 2));
  open_connection(self);
  self->delayed_send(self, tick_period, wdog_atom::value);
  return {
    [self](ws_open_atom, std::uint64_t gen) {
      auto& st = self->state;
      if (gen != st.active)
        return;
      const auto now = now_ns();
      st.backoff->on_connected(now);
      st.feed->on_open(now);
      spdlog::info("{}: connected, subscribing", st.args.venue);
      if (auto it = st.clients.find(gen); it != st.clients.end())
        for (auto& req : st.feed->subscribe_requests())
          it->second->send(std::move(req));
    },
    [self](ws_text_atom, std::uint64_t gen, const std::string& text, std::int64_t recv_ns) {
      auto& st = self->state;
      if (gen != st.active)
        return;
      st.feed->on_frame(recv_ns);
      auto events = st.feed->decode(text, recv_ns);
      if (!events)
        return rejected(self, events.err().message, text);
      publish(self, *events);
    },
    [self](ws_close_atom, std::uint64_t gen, const std::string& reason) {
      auto& st = self->state;
      st.clients.erase(gen);
      if (gen != st.active || st.stopping)
        return;
      st.backoff->on_disconnected(now_ns());
      auto delay = st.backoff->next_delay();
      spdlog::warn("{}: connection closed ({}), reconnecting in {} ms", st.args.venue, reason, delay.count());
      st.active = 0;
      self->delayed_send(self, delay, connect_atom::value);
    },
    [self](connect_atom) {
      if (!self->state.stopping && self->state.active == 0)
        open_connection(self);
    },
    [self](wdog_atom) {
      auto& st = self->state;
      self->delayed_send(self, tick_period, wdog_atom::value);
      const auto now = now_ns();
      if (auto it = st.clients.find(st.active); it != st.clients.end())
        if (auto ping = st.feed->ping_due(now))
          it->second->send(std::move(*ping));
      if (st.rest && now >= st.next_oi_ns) {
        st.next_oi_ns =
          now + std::chrono::duration_cast<std::chrono::nanoseconds>(st.args.cfg.open_interest_interval).count();
        for (const auto& req : st.feed->open_interest_requests())
          self->send(st.rest, oirest_atom::value, st.args.cfg.rest_url + req.target);
      }
    },
    [self](oirest_atom, bool ok, const std::string& body) {
      auto& st = self->state;
      if (!ok)
        return rejected(self, "open interest request failed", body);
      auto d = st.feed->parse_open_interest(body, now_ns());
      if (!d)
        return rejected(self, d.err().message, body);
      std::vector<mi::deriv::derivative> one{std::move(*d)};
      publish(self, one);
    },
    [self](stop_atom) {
      auto& st = self->state;
      st.stopping = true;
      for (auto& [gen, c] : st.clients)
        c->close();
      st.clients.clear();
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_derivatives_connection(caf::actor_system& sys, derivatives_connection_args args) {
  return sys.spawn(derivatives_connection, std::move(args));
}

} // namespace mi::actors
