#include "actors/derivatives_saver.hpp"

#include <spdlog/spdlog.h>
#include <thread>

#include "actors/caf_types.hpp"
#include "actors/inspection.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/postgres/derivatives_store.hpp"
#include "messages/deriv/derivative.hpp"

namespace mi::actors {

namespace {

struct deriv_saver_state {
  static inline const char* name = "mi.derivatives_saver";
  derivatives_saver_args args;
  std::unique_ptr<mi::gw::pull_consumer> consumer;
  std::chrono::milliseconds backoff{100};
};

using deriv_saver_actor = caf::stateful_actor<deriv_saver_state>;

void failed(deriv_saver_actor* self, const std::string& what) {
  auto& st = self->state;
  spdlog::warn("derivatives saver: {}; retrying in {} ms", what, st.backoff.count());
  inspect_error(self, what);
  inspect_state(self, "retrying");
  std::this_thread::sleep_for(st.backoff); // detached thread: blocks nobody else
  st.backoff = std::min(st.backoff * 2, std::chrono::milliseconds(5000));
}

void step(deriv_saver_actor* self) {
  auto& st = self->state;
  if (!st.consumer) {
    auto c = mi::gw::pull_consumer::create(*st.args.js,
                                           {st.args.stream, st.args.durable, "", std::chrono::seconds(30), 1000, -1});
    if (!c)
      return failed(self, "consumer " + st.args.durable + ": " + c.err().message);
    st.consumer = std::move(*c);
    inspect_state(self, "running");
  }
  auto got = st.consumer->fetch(500, std::chrono::milliseconds(1000));
  if (!got)
    return failed(self, "fetch: " + got.err().message);
  if (got->empty())
    return;
  std::vector<mi::deriv::derivative> rows;
  std::vector<bool> good(got->size(), false);
  for (std::size_t i = 0; i < got->size(); ++i) {
    auto& m = (*got)[i];
    auto g = mi::deriv::decode_pb(m.data());
    if (!g) {
      spdlog::error("derivatives saver: {} (stream seq {}), dropped", g.err().message, m.stream_seq());
      m.term(); // can never be stored: never redelivered
      continue;
    }
    good[i] = true;
    rows.push_back(std::move(*g));
  }
  auto written = mi::gw::write_derivatives(st.args.dsn, rows);
  if (!written) {
    for (std::size_t i = 0; i < got->size(); ++i)
      if (good[i])
        (*got)[i].nak();
    return failed(self, written.err().message);
  }
  for (std::size_t i = 0; i < got->size(); ++i)
    if (good[i])
      (*got)[i].ack();
  st.backoff = std::chrono::milliseconds(100);
  inspect_state(self, "running");
}

caf::behavior derivatives_saver(deriv_saver_actor* self, derivatives_saver_args args) {
  self->state.args = std::move(args);
  self->send(self, batch_atom::value);
  caf::behavior handlers{
    [self](batch_atom) {
      step(self);
      self->send(self, batch_atom::value); // one step per message: stop can interleave
    },
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "derivatives_saver", self->state.args.durable, std::move(handlers));
}

} // namespace

caf::actor spawn_derivatives_saver(caf::actor_system& sys, derivatives_saver_args args) {
  return sys.spawn<caf::detached>(derivatives_saver, std::move(args));
}

} // namespace mi::actors
