#include "actors/row_saver.hpp"

#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "actors/inspection.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"

namespace mi::actors {
namespace {

struct row_saver_state {
  static inline const char* name = "mi.row_saver";
  row_saver_args args;
  std::unique_ptr<mi::gw::pull_consumer> consumer;
  std::chrono::milliseconds backoff{100};
};

using row_saver_actor = caf::stateful_actor<row_saver_state>;

void failed(row_saver_actor* self, const std::string& why) {
  auto& st = self->state;
  spdlog::warn("{}: {}; retrying in {} ms", st.args.what, why, st.backoff.count());
  inspect_error(self, why);
  inspect_state(self, "retrying");
  std::this_thread::sleep_for(st.backoff); // detached thread: blocks nobody else
  st.backoff = std::min(st.backoff * 2, std::chrono::milliseconds(5000));
}

void step(row_saver_actor* self) {
  auto& st = self->state;
  if (!st.consumer) {
    auto c = mi::gw::pull_consumer::create(
      *st.args.js, {st.args.stream, st.args.durable, "", std::chrono::seconds(30), st.args.max_ack_pending});
    if (!c)
      return failed(self, "consumer " + st.args.durable + ": " + c.err().message);
    st.consumer = std::move(*c);
    inspect_state(self, "running");
  }
  auto got = st.consumer->fetch(st.args.batch, st.args.wait);
  if (!got)
    return failed(self, "fetch: " + got.err().message);
  if (got->empty())
    return;
  std::vector<mi::gw::js_message*> added;
  for (auto& m : *got) {
    if (auto r = st.args.add(m); !r) {
      spdlog::error("{}: {} seq {}: {}; terminated", st.args.what, m.subject(), m.stream_seq(), r.err().message);
      m.term(); // can never be stored: never redelivered
      continue;
    }
    added.push_back(&m);
  }
  if (added.empty())
    return;
  if (auto w = st.args.write(); !w) {
    for (auto* m : added)
      m->nak();
    return failed(self, w.err().message);
  }
  for (auto* m : added)
    (void)m->ack();
  st.backoff = st.args.backoff_min;
  inspect_state(self, "running");
}

caf::behavior row_saver(row_saver_actor* self, row_saver_args args) {
  self->state.args = std::move(args);
  self->state.backoff = self->state.args.backoff_min;
  self->send(self, batch_atom::value);
  caf::behavior handlers{
    [self](batch_atom) {
      step(self);
      self->send(self, batch_atom::value); // one batch per message: stop can interleave
    },
    [self](stop_atom) { self->quit(); },
  };
  const auto actor = self->state.args.actor, durable = self->state.args.durable;
  return inspected(self, actor, durable, std::move(handlers));
}

} // namespace

caf::actor spawn_row_saver(caf::actor_system& sys, row_saver_args args) {
  return sys.spawn<caf::detached>(row_saver, std::move(args));
}

} // namespace mi::actors
