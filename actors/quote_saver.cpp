#include "actors/quote_saver.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "actors/inspection.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/postgres/equity_store.hpp"
#include "market.pb.h"

namespace mi::actors {
namespace {

struct saver_state {
  static inline const char* name = "mi.quote_saver";
  quote_saver_args args;
  std::unique_ptr<mi::gw::pull_consumer> consumer;
  std::unique_ptr<mi::gw::equity_writer> writer;
  std::chrono::milliseconds backoff{200};
};
using saver_actor = caf::stateful_actor<saver_state>;

void pause(saver_actor* self, const std::string& what) {
  auto& st = self->state;
  spdlog::warn("quote saver: {}; retrying in {} ms", what, st.backoff.count());
  inspect_error(self, what);
  std::this_thread::sleep_for(st.backoff);
  st.backoff = std::min(st.backoff * 2, std::chrono::milliseconds(5000));
}

void save_batch(saver_actor* self) {
  auto& st = self->state;
  if (!st.consumer) {
    auto c = mi::gw::pull_consumer::create(
      *st.args.js, {st.args.stream, st.args.durable, "", std::chrono::seconds(30), 4 * st.args.batch_size + 100});
    if (!c)
      return pause(self, "consumer " + st.args.durable + ": " + c.err().message);
    st.consumer = std::move(*c);
    inspect_state(self, "running");
  }
  if (!st.writer)
    st.writer = std::make_unique<mi::gw::equity_writer>(st.args.dsn);
  auto got = st.consumer->fetch(st.args.batch_size, std::chrono::milliseconds(500));
  if (!got)
    return pause(self, "fetch: " + got.err().message);
  if (got->empty())
    return;
  std::vector<market::v1::Quote> batch;
  std::vector<mi::gw::js_message*> keep;
  for (auto& m : *got) {
    market::v1::Quote q;
    const auto data = m.data();
    if (!q.ParseFromArray(data.data(), static_cast<int>(data.size())) || q.venue().empty() || q.symbol().empty()) {
      spdlog::error("quote saver: {} seq {}: not a market.v1.Quote; terminated", m.subject(), m.stream_seq());
      m.term();
      continue;
    }
    batch.push_back(std::move(q));
    keep.push_back(&m);
  }
  auto w = st.writer->write(batch, {});
  if (!w) {
    for (auto* m : keep)
      m->nak();
    return pause(self, w.err().message);
  }
  st.backoff = std::chrono::milliseconds(200);
  for (auto* m : keep)
    (void)m->ack();
}

caf::behavior quote_saver(saver_actor* self, quote_saver_args args) {
  self->state.args = std::move(args);
  self->send(self, batch_atom::value);
  caf::behavior handlers{
    [self](batch_atom) {
      save_batch(self);
      self->send(self, batch_atom::value); // one batch per message: stop can interleave
    },
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "quote_saver", "quotes", std::move(handlers));
}

} // namespace

caf::actor spawn_quote_saver(caf::actor_system& sys, quote_saver_args args) {
  return sys.spawn<caf::detached>(quote_saver, std::move(args));
}

} // namespace mi::actors
