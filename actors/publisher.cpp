#include "actors/publisher.hpp"
#include "actors/inspection.hpp"

#include <chrono>
#include <deque>
#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/response_promise.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/codec.hpp"
#include "messages/util/clock.hpp"

namespace mi::actors {
namespace {

struct pending_batch {
  outgoing_batch msgs;
  std::size_t next = 0;
  caf::response_promise rp;
};

struct publisher_state {
  static inline const char* name = "mi.publisher";
  publisher_args args;
  std::deque<pending_batch> queue;
  bool retry_scheduled = false;
  bool stopping = false;
};

using publisher_actor = caf::stateful_actor<publisher_state>;

void schedule_retry(publisher_actor* self, std::chrono::milliseconds after) {
  if (self->state.retry_scheduled)
    return;
  self->state.retry_scheduled = true;
  self->delayed_send(self, after, retry_atom::value);
}

// A publish that will never be stored: counted under its stream and logged.
void failed_for_good(const publish_feedback& fb, mi::gw::metrics& m, std::string_view subject, std::string_view why) {
  m.publisher().publish_failed(stream_of(fb, subject));
  spdlog::error("publish to {} failed permanently: {}", subject, why);
}

// Hands queued messages to JetStream until the in-flight limit is reached.
void pump(publisher_actor* self) {
  auto& st = self->state;
  auto& fb = *st.args.feedback;
  while (!st.queue.empty()) {
    auto& b = st.queue.front();
    while (b.next < b.msgs.size()) {
      if (st.args.js->in_flight() >= st.args.max_in_flight) {
        fb.waiting.store(true);
        // Re-check after announcing that we wait: an ack may have landed in between.
        if (st.args.js->in_flight() >= st.args.max_in_flight) {
          schedule_retry(self, std::chrono::milliseconds(50)); // safety net, not the main path
          return;
        }
        fb.waiting.store(false);
      }
      auto r = st.args.js->publish_async(b.msgs[b.next]);
      if (!r && r.err().code == mi::errc::bad_input) {
        // This message can never be sent (a header that would break NATS's header block, e.g. an exchange's trade
        // id with a line break in its dedup id): counted and logged as a failed publish, and the rest go on.
        failed_for_good(fb, *st.args.metrics, b.msgs[b.next].subject, r.err().message);
        ++b.next;
        continue;
      }
      if (!r) {
        st.args.metrics->publisher().publish_retried(); // the same message, same id, again later
        spdlog::warn("publisher: JetStream refused a publish ({}), retrying", r.err().message);
        schedule_retry(self, std::chrono::milliseconds(100));
        return;
      }
      ++b.next;
    }
    b.rp.deliver(true);
    publish_batches().give(std::move(b.msgs));
    st.queue.pop_front();
  }
  if (st.stopping)
    self->quit();
}

caf::behavior publisher(publisher_actor* self, publisher_args args) {
  self->state.args = std::move(args);
  caf::behavior handlers{
    [self](pub_atom, outgoing_batch& msgs) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      self->state.queue.push_back(pending_batch{std::move(msgs), 0, rp});
      pump(self);
      return rp;
    },
    [self](resume_atom) { pump(self); },
    [self](retry_atom) {
      self->state.retry_scheduled = false;
      pump(self);
    },
    [self](stop_atom) {
      self->state.stopping = true;
      if (self->state.queue.empty())
        self->quit();
    },
  };
  return inspected(self, "publisher", "publisher", std::move(handlers));
}

std::string_view token(std::string_view subject, int n) {
  for (int i = 0; i < n; ++i) {
    auto dot = subject.find('.');
    if (dot == std::string_view::npos)
      return {};
    subject.remove_prefix(dot + 1);
  }
  return subject.substr(0, subject.find('.'));
}

} // namespace

recycler<outgoing_batch>& publish_batches() {
  static recycler<outgoing_batch> batches;
  return batches;
}

caf::actor spawn_publisher(caf::actor_system& sys, publisher_args args) {
  auto fb = args.feedback;
  auto a = sys.spawn(publisher, std::move(args));
  fb->publisher.set(a);
  return a;
}

void on_publish_outcome(const std::shared_ptr<publish_feedback>& fb, mi::gw::metrics* m, mi::gw::jetstream* js,
                        const mi::gw::publish_outcome& o) {
  const bool is_trade = o.subject.rfind("market.raw.", 0) == 0;
  if (o.ok) {
    if (is_trade && !o.duplicate) {
      auto& probe = m->publish(token(o.subject, 2));
      probe.trade_published();
      if (o.event_ts_ns != 0) {
        probe.ingest_latency(static_cast<double>(mi::util::now_ns() - o.event_ts_ns) / 1e9);
      }
    }
  } else {
    failed_for_good(*fb, *m, o.subject, o.error);
  }
  if (js != nullptr && js->in_flight() < fb->low_water && fb->waiting.exchange(false))
    caf::anon_send(fb->publisher.get(), resume_atom::value);
}

std::string_view stream_of(const publish_feedback& fb, std::string_view subject) {
  for (const auto& [prefix, stream] : fb.streams)
    if (subject.substr(0, prefix.size()) == prefix)
      return stream;
  return "other";
}

mi::gw::outgoing raw_trade_message(const mi::trade& t) {
  return mi::gw::outgoing{mi::raw_subject(t.exchange, t.symbol),
                          mi::dedup_id(t),
                          std::string(mi::trade_content_type),
                          mi::encode_trade_pb(t),
                          {},
                          t.ts_ns};
}

} // namespace mi::actors
