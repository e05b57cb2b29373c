#include "actors/connection.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "connectors/binance/codec.hpp"
#include "connectors/binance/instruments.hpp"
#include "connectors/transport/backoff.hpp"
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/codec.hpp"

namespace mi::actors {
namespace {

constexpr std::size_t max_outstanding_batches = 4; // publish requests in flight before pausing the socket
constexpr auto rotation_overlap = std::chrono::seconds(3);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

struct connection_state {
  static inline const char* name = "mi.connection";

  connection_args args;
  std::unique_ptr<mi::binance::codec> codec;
  std::unique_ptr<mi::net::backoff> backoff;
  mi::binance::send_pacer pacer{5};
  std::deque<std::string> control_out; // paced control messages (SUBSCRIBE)
  bool send_scheduled = false;
  std::map<std::uint64_t, std::shared_ptr<mi::net::ws_client>> clients; // generation -> client
  std::uint64_t active = 0;     // generation of the connection we stream from
  std::uint64_t next_gen = 1;
  std::int64_t next_request_id = 1;
  std::size_t outstanding = 0;  // publish batches awaiting the publisher's reply
  bool paused = false;
  bool stopping = false;
  bool up = false;              // counted in the connections gauge
  std::uint64_t rejected = 0;   // malformed frames, for log rate limiting

  // However the actor ends (stop or crash), its sockets close and the gauge stays true.
  ~connection_state() {
    for (auto& [gen, c] : clients)
      c->close();
    if (up && args.metrics != nullptr)
      args.metrics->connection_up(args.exchange, false);
  }
};

using connection_actor = caf::stateful_actor<connection_state>;

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
    auto wait = st.pacer.try_send(now_ns());
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
  mi::net::ws_handlers h;
  h.on_open = [me, gen] { caf::anon_send(me, ws_open_atom::value, gen); };
  h.on_text = [me, gen](std::string&& text, std::int64_t recv_ns) {
    caf::anon_send(me, ws_text_atom::value, gen, std::move(text), recv_ns);
  };
  h.on_close = [me, gen](std::string reason) { caf::anon_send(me, ws_close_atom::value, gen, std::move(reason)); };
  mi::net::ws_options o;
  o.connect_timeout = st.args.cfg.connect_timeout;
  o.read_timeout = st.args.cfg.read_timeout;
  auto client = mi::net::ws_client::create(st.args.io->context(), *u, o, std::move(h));
  st.clients.emplace(gen, client);
  st.active = gen;
  if (st.paused)
    client->pause_reading();
  client->start();
  spdlog::info("{}: connecting to {} ({} streams)", st.args.exchange, st.args.cfg.ws_url, st.args.streams.size());
}

void on_open(connection_actor* self, std::uint64_t gen) {
  auto& st = self->state;
  if (gen != st.active)
    return;
  st.backoff->on_connected(now_ns());
  if (!st.up)
    st.args.metrics->connection_up(st.args.exchange, true);
  st.up = true;
  spdlog::info("{}: connected, subscribing to {} streams", st.args.exchange, st.args.streams.size());
  st.control_out.clear();
  for (auto& req : mi::binance::subscribe_requests(st.args.streams, st.next_request_id))
    st.control_out.push_back(std::move(req));
  st.next_request_id += static_cast<std::int64_t>(st.control_out.size());
  pump_sends(self);
  // Older generations (a rotation) keep streaming during the overlap; dedup ids make the
  // duplicates harmless.
  for (auto& [g, c] : st.clients)
    if (g != gen)
      self->delayed_send(self, rotation_overlap, close_old_atom::value, g);
  self->delayed_send(self, st.args.cfg.rotate_after, rotate_atom::value, gen);
}

void on_text(connection_actor* self, std::uint64_t gen, const std::string& text, std::int64_t recv_ns) {
  auto& st = self->state;
  if (st.clients.count(gen) == 0)
    return;
  auto ev = st.codec->decode(text, recv_ns);
  if (!ev) {
    st.args.metrics->frame_rejected(st.args.exchange, "malformed");
    if (st.rejected++ < 10 || st.rejected % 1000 == 0)
      spdlog::warn("{}: rejected frame ({} so far): {}: {:.200}", st.args.exchange, st.rejected, ev.err().message,
                   text);
    return;
  }
  using kind = mi::binance::frame_events::kind;
  switch (ev->what) {
    case kind::trades: {
      outgoing_batch batch;
      batch.reserve(ev->trades.size());
      for (auto& t : ev->trades) {
        if (!mi::is_subject_token(t.symbol)) {
          st.args.metrics->frame_rejected(st.args.exchange, "bad_symbol");
          continue;
        }
        batch.push_back(mi::gw::outgoing{mi::raw_subject(t.exchange, t.symbol), mi::dedup_id(t),
                                         std::string(mi::trade_content_type), mi::encode_trade_pb(t)});
      }
      if (batch.empty())
        return;
      st.args.metrics->trade_received(st.args.exchange, batch.size());
      ++st.outstanding;
      if (st.outstanding >= max_outstanding_batches)
        set_paused(self, true);
      self->request(st.args.publisher->get(), caf::infinite, pub_atom::value, std::move(batch))
        .then(
          [self](bool) {
            auto& s = self->state;
            --s.outstanding;
            if (s.outstanding < max_outstanding_batches / 2)
              set_paused(self, false);
          },
          [self](caf::error& err) {
            // The publisher died with our batch: fail so the supervisor restarts us and the
            // exchange side (resend/backfill) recovers; never pretend it was published.
            self->quit(err);
          });
      break;
    }
    case kind::ack:
      spdlog::debug("{}: subscription ack id {}", st.args.exchange, ev->ack_id.value_or(-1));
      break;
    case kind::error:
      st.args.metrics->exchange_error(st.args.exchange);
      spdlog::error("{}: exchange error: {}", st.args.exchange, ev->error_message);
      break;
    case kind::server_shutdown:
      spdlog::warn("{}: serverShutdown notice, rotating the connection now", st.args.exchange);
      self->send(self, rotate_atom::value, gen);
      break;
    case kind::ignored:
      break;
  }
}

void on_close(connection_actor* self, std::uint64_t gen, const std::string& reason) {
  auto& st = self->state;
  st.clients.erase(gen);
  if (gen != st.active || st.stopping)
    return;
  if (st.up)
    st.args.metrics->connection_up(st.args.exchange, false);
  st.up = false;
  st.backoff->on_disconnected(now_ns());
  auto delay = st.backoff->next_delay();
  st.args.metrics->reconnect(st.args.exchange);
  spdlog::warn("{}: connection closed ({}), reconnecting in {} ms", st.args.exchange, reason, delay.count());
  st.active = 0;
  self->delayed_send(self, delay, connect_atom::value);
}

caf::behavior connection(connection_actor* self, connection_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.codec = std::make_unique<mi::binance::codec>(st.args.meta.get());
  auto& rc = st.args.cfg.reconnect;
  st.backoff = std::make_unique<mi::net::backoff>(rc.initial, rc.max, rc.healthy_after, st.args.seed);
  open_connection(self);
  return {
    [self](ws_open_atom, std::uint64_t gen) { on_open(self, gen); },
    [self](ws_text_atom, std::uint64_t gen, const std::string& text, std::int64_t recv_ns) {
      on_text(self, gen, text, recv_ns);
    },
    [self](ws_close_atom, std::uint64_t gen, const std::string& reason) { on_close(self, gen, reason); },
    [self](send_atom) {
      self->state.send_scheduled = false;
      pump_sends(self);
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
      auto it = self->state.clients.find(gen);
      if (it != self->state.clients.end() && gen != self->state.active)
        it->second->close();
    },
    [self](stop_atom) {
      auto& s = self->state;
      s.stopping = true;
      for (auto& [gen, c] : s.clients)
        c->close();
      s.clients.clear();
      // Trades already handed to the publisher are its responsibility now.
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_connection(caf::actor_system& sys, connection_args args) {
  return sys.spawn(connection, std::move(args));
}

} // namespace mi::actors
