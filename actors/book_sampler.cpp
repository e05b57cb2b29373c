#include "actors/book_sampler.hpp"

#include <memory>
#include <mutex>

#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "actors/inspection.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/util/clock.hpp"

namespace mi::actors {

book_samples::book_samples(std::size_t depth, std::int64_t bbo_interval_ms, std::int64_t snapshot_interval_ms)
    : depth_(depth), bbo_interval_ms_(bbo_interval_ms), snapshot_interval_ms_(snapshot_interval_ms) {}

void book_samples::on_update(const mi::book::book_update& u) { replicas_[{u.exchange, u.symbol}].apply(u); }

void book_samples::sample(std::int64_t now_ms, std::vector<mi::gw::bbo_sample>& bbos,
                          std::vector<mi::gw::book_sample>& books) {
  const std::int64_t bbo_at = now_ms / bbo_interval_ms_ * bbo_interval_ms_;
  const std::int64_t snap_at = now_ms / snapshot_interval_ms_ * snapshot_interval_ms_;
  const bool first = last_bbo_ < 0;
  const bool bbo_due = !first && bbo_at > last_bbo_;
  const bool snap_due = !first && snap_at > last_snapshot_;
  last_bbo_ = bbo_at;
  last_snapshot_ = snap_at;
  if (!bbo_due && !snap_due)
    return;
  for (const auto& [key, r] : replicas_) {
    if (!r.usable())
      continue;
    if (bbo_due) {
      mi::gw::bbo_sample b{key.first, key.second, bbo_at, {}, {}, r.sequence()};
      if (auto top = mi::book::top_levels(r.book(), mi::book::side::bid, 1); !top.empty())
        b.bid = std::move(top.front());
      if (auto top = mi::book::top_levels(r.book(), mi::book::side::ask, 1); !top.empty())
        b.ask = std::move(top.front());
      bbos.push_back(std::move(b));
    }
    if (snap_due)
      books.push_back({key.first, key.second, snap_at, static_cast<int>(depth_),
                       mi::book::top_levels(r.book(), mi::book::side::bid, depth_),
                       mi::book::top_levels(r.book(), mi::book::side::ask, depth_), r.sequence()});
  }
}

namespace {

/// book_samples shared by the consumer's thread (updates) and the actor (samples).
struct shared_samples {
  explicit shared_samples(const book_sampler_args& a)
      : samples(a.depth, a.bbo_interval.count(), a.snapshot_interval.count()) {}
  std::mutex mutex;
  book_samples samples;
  std::uint64_t undecodable = 0; ///< MARKET_BOOK messages that are not a market.v1.Book
};

struct sampler_state {
  static inline const char* name = "mi.book_sampler";
  book_sampler_args args;
  std::shared_ptr<shared_samples> shared;
  std::unique_ptr<mi::gw::ordered_consumer> consumer;
  std::unique_ptr<mi::gw::book_sample_writer> writer;
  std::vector<mi::gw::bbo_sample> bbos;
  std::vector<mi::gw::book_sample> books;
  std::uint64_t undecodable_logged = 0;
};

using sampler_actor = caf::stateful_actor<sampler_state>;

void take_and_write(sampler_actor* self) {
  auto& st = self->state;
  st.bbos.clear();
  st.books.clear();
  std::uint64_t undecodable = 0;
  {
    std::lock_guard lock(st.shared->mutex);
    st.shared->samples.sample(mi::util::now_ns() / 1'000'000, st.bbos, st.books);
    undecodable = st.shared->undecodable;
  }
  if (undecodable > st.undecodable_logged) {
    spdlog::warn("book samples: {} message(s) of {} are not a market.v1.Book (skipped; their book is sampled again "
                 "from its next snapshot)",
                 undecodable - st.undecodable_logged, st.args.book_stream);
    st.undecodable_logged = undecodable;
  }
  if (st.bbos.empty() && st.books.empty())
    return;
  auto r = st.writer->write(st.bbos, st.books);
  if (!r) {
    st.args.metrics->storage().book_samples_failed(st.bbos.size(), st.books.size());
    spdlog::warn("book samples: {} best bid/ask and {} snapshot samples lost: {}", st.bbos.size(), st.books.size(),
                 r.err().message);
    return;
  }
  st.args.metrics->storage().book_samples_stored(st.bbos.size(), st.books.size());
}

caf::behavior book_sampler(sampler_actor* self, book_sampler_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.shared = std::make_shared<shared_samples>(st.args);
  st.writer = std::make_unique<mi::gw::book_sample_writer>(st.args.dsn);
  // The consumer's thread applies each message under the mutex: no mailbox between it and the samples.
  auto consumer = mi::gw::ordered_consumer::start(*st.args.js, st.args.book_stream, "", 0,
                                                  [shared = st.shared](mi::gw::js_message&& m) {
                                                    auto u = mi::book::decode_book_pb(m.data());
                                                    std::lock_guard lock(shared->mutex);
                                                    if (!u) {
                                                      ++shared->undecodable;
                                                      return;
                                                    }
                                                    shared->samples.on_update(*u);
                                                  });
  if (!consumer) // the supervisor restarts the store role's children with backoff
    throw std::runtime_error("book samples: cannot consume " + st.args.book_stream + ": " + consumer.err().message);
  st.consumer = std::move(*consumer);
  take_and_write(self); // sets the first boundaries
  const auto period = std::max(std::chrono::milliseconds(50), st.args.bbo_interval / 4);
  self->delayed_send(self, period, tick_atom::value);
  caf::behavior handlers{
    [self, period](tick_atom) {
      take_and_write(self);
      self->delayed_send(self, period, tick_atom::value);
    },
    [self](stop_atom) {
      self->state.consumer.reset();
      self->quit();
    },
  };
  return inspected(self, "book_sampler", "books", std::move(handlers));
}

} // namespace

caf::actor spawn_book_sampler(caf::actor_system& sys, book_sampler_args args) {
  return sys.spawn<caf::detached>(book_sampler, std::move(args));
}

} // namespace mi::actors
