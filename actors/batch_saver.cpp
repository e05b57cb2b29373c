#include "actors/batch_saver.hpp"
#include "actors/inspection.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <spdlog/spdlog.h>
#include <thread>

#include "actors/ack_frontier.hpp"
#include "actors/caf_types.hpp"
#include "actors/saver_batch.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/jetstream/sync_publish.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/postgres/postgres.hpp"
#include "messages/codec.hpp"

namespace mi::actors {
namespace {

struct saver_state {
  static inline const char* name = "mi.batch_saver";
  batch_saver_args args;
  std::unique_ptr<mi::gw::pull_consumer> consumer;
  std::unique_ptr<mi::gw::pg_writer> writer;
  std::vector<mi::gw::js_message> in_hand; // fetched, not yet stored and acked
  std::chrono::milliseconds backoff{100};
  bool stopping = false;
  std::chrono::steady_clock::time_point next_lag{};
  mi::gw::saver_probe* probe = nullptr;     // its table's and its consumer's counters, taken once at start
  mi::gw::pg_writer::trade_stats counted{}; // the writer's stats already added to the probe
  std::chrono::steady_clock::time_point next_prune{};
  // AckAll consumers (docs/architecture.md "Acks of the savers"): what this saver is done with and may ack.
  ack_frontier<mi::gw::js_message> frontier;
  std::chrono::steady_clock::time_point waiting_since{}; // done messages have waited above a hole since
  std::chrono::steady_clock::time_point next_floor_read{};
  bool floor_read = false; // the first read only learns where the durable stands
  std::chrono::steady_clock::time_point next_shared_warning{};
  std::chrono::steady_clock::time_point next_probe{};
};

// After a crash, what the dead process had fetched comes back after ack_wait: short enough for a quick catch-up; a
// redelivery during a slow write is recognised by its stream sequence (trades) or absorbed by the keys (klines).
constexpr auto durable_ack_wait = std::chrono::seconds(10);

using saver_actor = caf::stateful_actor<saver_state>;

void fail_pause(saver_actor* self, const std::string& what) {
  auto& st = self->state;
  spdlog::warn("{} saver: {}; retrying in {} ms", table_of(st.args.kind), what, st.backoff.count());
  inspect_error(self, what);
  inspect_state(self, "retrying");
  st.probe->batch_failed();
  std::this_thread::sleep_for(st.backoff); // detached thread: waiting here blocks nobody else
  st.backoff = std::min(st.backoff * 2, std::chrono::milliseconds(5000));
}

bool ensure_connected(saver_actor* self) {
  auto& st = self->state;
  if (!st.consumer) {
    mi::gw::pull_consumer::spec sp{st.args.stream, st.args.durable, st.args.filter, durable_ack_wait,
                                   4 * st.args.batch_size + 1000};
    sp.ack_all = st.args.ack_all;
    auto c = mi::gw::pull_consumer::create(*st.args.js, sp);
    if (!c) {
      fail_pause(self, "consumer " + st.args.durable + ": " + c.err().message);
      return false;
    }
    st.consumer = std::move(*c);
    if (st.consumer->acks_all())
      spdlog::info("{}: consumer on {} ready (AckAll: one ack per batch)", st.args.durable, st.args.stream);
    else
      spdlog::info("{}: consumer on {} ready (explicit acks: one per message)", st.args.durable, st.args.stream);
    inspect_state(self, "running");
  }
  if (!st.writer) {
    auto w = mi::gw::pg_writer::connect(st.args.dsn, st.args.synchronous_commit);
    if (!w) {
      fail_pause(self, w.err().message);
      return false;
    }
    st.writer = std::move(*w);
    st.counted = {};
    spdlog::info("{}: connected to the database", st.args.durable);
    inspect_state(self, "running");
  }
  return true;
}

// While a batch fills, the fetch looks for more every this long instead of waking for each message (one thread
// switch per trade at a steady rate otherwise; docs/performance.md 17b). A full batch waits at most this long more.
constexpr auto fetch_gather = std::chrono::milliseconds(5);
// A pull request asks the server to end it 20 ms before the fetch stops waiting (jetstream.cpp): with less left
// than this, the batch is stored instead of sending requests that expire after 1 ms.
constexpr auto min_fetch_wait = std::chrono::milliseconds(25);

// Fills the batch until batch_size messages or batch_timeout since the first one.
void collect(saver_actor* self) {
  auto& st = self->state;
  const auto want = static_cast<std::size_t>(st.args.batch_size);
  std::chrono::steady_clock::time_point deadline{};
  while (st.in_hand.size() < want) {
    auto wait = st.args.batch_timeout;
    if (!st.in_hand.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left < min_fetch_wait)
        break; // what is left of the window is too short for a pull request to be worth sending
      wait = left;
    }
    auto got = st.consumer->fetch(static_cast<int>(want - st.in_hand.size()), wait, fetch_gather);
    if (!got) {
      fail_pause(self, "fetch: " + got.err().message);
      return;
    }
    if (got->empty()) {
      if (st.in_hand.empty())
        return; // idle: give the mailbox (stop) a chance
      continue;
    }
    if (st.in_hand.empty())
      deadline = std::chrono::steady_clock::now() + st.args.batch_timeout;
    for (auto& m : *got)
      st.in_hand.push_back(std::move(m));
  }
}

/// Header values are one line: NATS headers cannot carry CR/LF.
std::string header_text(std::string s) {
  for (auto& c : s)
    if (c == '\r' || c == '\n' || c == '\0')
      c = ' ';
  if (s.size() > 2000)
    s.resize(2000);
  return s;
}

/// Publishes a message that could not be stored to market.dlq.{kind}; true once JetStream has acked it
/// (only then may the original be acked). One attempt: after a failure the original stays un-acked and
/// its redelivery is the next attempt.
bool dead_letter(saver_actor* self, mi::gw::js_message& m, const std::string& reason) {
  auto& st = self->state;
  mi::gw::outgoing o;
  o.subject = st.args.dlq_prefix + kind_name(st.args.kind);
  // Dedup id: a crash between this publish and the ack re-publishes the same id, stored once.
  o.msg_id = "dlq:" + st.args.stream + ":" + std::to_string(m.stream_seq());
  o.content_type = m.header("Content-Type").value_or("");
  o.data = std::string(m.data());
  o.headers = {{"Mi-Dlq-Reason", header_text(reason)},
               {"Mi-Dlq-Attempts", std::to_string(m.num_delivered())},
               {"Mi-Dlq-Subject", std::string(m.subject())},
               {"Mi-Dlq-Stream", st.args.stream},
               {"Mi-Dlq-Sequence", std::to_string(m.stream_seq())},
               {"Mi-Dlq-Msg-Id", header_text(m.header("Nats-Msg-Id").value_or(""))}};
  auto r = mi::gw::publish_acked(*st.args.js, o, mi::gw::one_attempt);
  if (!r) {
    spdlog::error("{} saver: cannot dead-letter {} seq {}: {}; it stays un-acked", kind_name(st.args.kind),
                  st.args.stream, m.stream_seq(), r.err().message);
    return false;
  }
  spdlog::error("{} saver: {} seq {} ({}) dead-lettered to {} after {} deliveries: {}", kind_name(st.args.kind),
                st.args.stream, m.stream_seq(), m.subject(), o.subject, m.num_delivered(), reason);
  st.probe->dead_letter();
  return true;
}

/// The database side of a batch: the saver's writer (its errors say whether rows were rejected). Trades go with
/// their messages' stream sequences and timestamps: a redelivered message is recognised by them (pg_writer).
batch_writer writer_of(saver_state& st) {
  batch_writer w{[&st](const std::vector<mi::trade>& rows) { return st.writer->write_trades(rows); },
                 [&st](const std::vector<mi::kline>& rows) { return st.writer->upsert_klines(rows); }};
  w.write_trades_of = [&st](const std::vector<mi::trade>& rows, const std::vector<std::size_t>& messages) {
    mi::gw::pg_writer::raw_origin o;
    o.stream = st.args.stream;
    o.seqs.reserve(messages.size());
    o.ts_ns.reserve(messages.size());
    for (auto i : messages) {
      o.seqs.push_back(st.in_hand[i].stream_seq());
      o.ts_ns.push_back(st.in_hand[i].timestamp_ns());
    }
    return st.writer->write_trades(rows, &o);
  };
  return w;
}

/// Adds what the writer counted since the last call to the probe.
void count_writer_stats(saver_state& st) {
  if (!st.writer)
    return;
  const auto& now = st.writer->stats();
  st.probe->redelivered(now.redelivered_skipped - st.counted.redelivered_skipped);
  st.probe->key_fallbacks(now.key_fallbacks - st.counted.key_fallbacks);
  st.counted = now;
}

/// A message this saver is done with (stored, or dead-lettered): acked now on an explicit-ack consumer, handed to the
/// frontier on an AckAll one (acked by the ack of a later sequence, ack_done).
void settle(saver_state& st, mi::gw::js_message& m) {
  if (st.consumer->acks_all()) {
    const auto seq = m.stream_seq(); // before the move: arguments are initialised in no set order
    st.frontier.done(seq, std::move(m));
  } else
    m.ack();
}

/// The sequences a hole's messages could still be stored under: those the stream no longer has are passed over.
void probe_holes(saver_actor* self) {
  auto& st = self->state;
  for (auto seq : st.frontier.holes(64)) {
    auto m = st.args.js->get_message(st.args.stream, seq);
    if (!m) {
      spdlog::debug("{}: reading {} seq {}: {}", st.args.durable, st.args.stream, seq, m.err().message);
      return;
    }
    if (!m->has_value())
      st.frontier.gone(seq);
  }
}

/// AckAll: acks the last message of the done run right above the consumer's ack floor, which acks the run. Done
/// messages above a hole (another saver's batch, a nak'ed or dead process's message) wait: the floor is read again,
/// at most every 100 ms, until another saver's ack or a redelivery closes the hole; a hole older than a second is
/// checked against the stream (up to 64 sequences, once a second) for sequences it no longer has.
void ack_done(saver_actor* self) {
  auto& st = self->state;
  if (!st.consumer || !st.consumer->acks_all())
    return;
  auto next = st.frontier.next();
  const auto now = std::chrono::steady_clock::now();
  if (!next && st.frontier.waiting() && now >= st.next_floor_read) {
    st.next_floor_read = now + std::chrono::milliseconds(100);
    if (st.waiting_since == std::chrono::steady_clock::time_point{})
      st.waiting_since = now;
    if (auto f = st.consumer->ack_floor()) {
      if (st.floor_read && *f > st.frontier.floor() && now >= st.next_shared_warning) {
        st.next_shared_warning = now + std::chrono::minutes(1);
        spdlog::warn("{}: another saver acks this durable too (its ack floor moved to {} over messages this saver did "
                     "not store): with saver.acks: batch they wait for each other; set saver.acks: each on every node "
                     "storing from it (docs/operations.md \"Saver acks\")",
                     st.args.durable, *f);
      }
      st.floor_read = true;
      st.frontier.floor(*f);
    } else
      spdlog::debug("{}: ack floor: {}", st.args.durable, f.err().message);
    if (st.frontier.waiting() && now - st.waiting_since >= std::chrono::seconds(1) && now >= st.next_probe) {
      st.next_probe = now + std::chrono::seconds(1);
      probe_holes(self);
    }
    next = st.frontier.next();
  }
  if (next) {
    if (auto r = next->second->ack())
      st.frontier.acked(next->first);
    else
      spdlog::warn("{}: {}; tried again", st.args.durable, r.err().message);
  }
  if (!st.frontier.waiting())
    st.waiting_since = {};
  st.probe->acks_held(st.frontier.held());
}

// Writes the batch in hand, isolating rejected messages, then acks. False if it must be retried.
bool store(saver_actor* self) {
  auto& st = self->state;
  if (st.in_hand.empty())
    return true;
  auto started = std::chrono::steady_clock::now();
  std::vector<std::string_view> payloads;
  payloads.reserve(st.in_hand.size());
  for (const auto& m : st.in_hand)
    payloads.push_back(m.data());
  saver_batch batch(st.args.kind, payloads);
  auto written = batch.store(writer_of(st));
  count_writer_stats(st);
  if (!written) {
    st.writer.reset(); // reconnect on the next attempt
    fail_pause(self, "write: " + written.err().message);
    return false;
  }
  if (!batch.bad().empty())
    st.probe->batch_failed(); // the batch as a whole did not go in
  // Committed: now, and only now, the stored messages may go.
  for (const auto& p : batch.bad()) {
    auto& m = st.in_hand[p.index];
    if (disposition_of(true, m.num_delivered(), st.args.max_attempts) == disposition::dead_letter) {
      if (dead_letter(self, m, p.reason))
        settle(st, m);
    } else {
      spdlog::warn("{} saver: {} seq {} failed (delivery {} of {}): {}", kind_name(st.args.kind), st.args.stream,
                   m.stream_seq(), m.num_delivered(), st.args.max_attempts, p.reason);
      m.nak(); // redelivered: the delivery count is the attempt count
    }
  }
  const auto is_bad = batch.bad_mask();
  for (std::size_t i = 0; i < st.in_hand.size(); ++i)
    if (!is_bad[i])
      settle(st, st.in_hand[i]);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  st.probe->rows_written(*written);
  st.probe->batch_seconds(secs);
  st.in_hand.clear();
  ack_done(self);
  st.backoff = std::chrono::milliseconds(100);
  return true;
}

/// Every minute: deletes the stored-sequence sets (market_raw_stored) wholly at or below the durable consumer's ack
/// floor; JetStream never redelivers those. Only an optimisation of the dedup: a failure is logged and tried later.
void prune_stored(saver_actor* self, std::chrono::steady_clock::time_point now) {
  auto& st = self->state;
  if (st.args.kind != saver_kind::trades || !st.writer || now < st.next_prune)
    return;
  st.next_prune = now + std::chrono::minutes(1);
  auto consumers = st.args.js->consumers(st.args.stream);
  if (!consumers) {
    spdlog::debug("{}: consumer list: {}", st.args.durable, consumers.err().message);
    return;
  }
  for (const auto& c : *consumers)
    if (c.name == st.args.durable && c.ack_floor > 0) {
      if (auto n = st.writer->prune_stored(st.args.stream, c.ack_floor + 1); !n)
        spdlog::debug("{}: prune stored sequences: {}", st.args.durable, n.err().message);
      else if (*n > 0)
        spdlog::debug("{}: pruned {} stored-sequence sets below {}", st.args.durable, *n, c.ack_floor + 1);
    }
}

/// Refreshes mi_consumer_lag{consumer} every lag_interval (also while PostgreSQL is down).
void refresh_lag(saver_actor* self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  if (!st.consumer || now < st.next_lag)
    return;
  st.next_lag = now + st.args.lag_interval;
  if (auto n = st.consumer->pending())
    st.probe->consumer_lag(*n);
  else
    spdlog::debug("{}: consumer info: {}", st.args.durable, n.err().message);
  prune_stored(self, now);
}

caf::behavior batch_saver(saver_actor* self, batch_saver_args args) {
  self->state.args = std::move(args);
  self->state.probe = &self->state.args.metrics->saver(
    self->state.args.kind == saver_kind::trades ? mi::gw::store_table::trades : mi::gw::store_table::klines,
    self->state.args.durable);
  self->send(self, batch_atom::value);
  caf::behavior handlers{
    [self](batch_atom) {
      auto& st = self->state;
      bool ready = ensure_connected(self);
      refresh_lag(self);
      if (ready) {
        if (st.in_hand.empty())
          collect(self);
        if (st.in_hand.empty())
          ack_done(self); // idle: done messages above a hole may be ackable now
        store(self);
      }
      if (st.stopping && st.in_hand.empty()) {
        self->quit();
        return;
      }
      self->send(self, batch_atom::value); // one batch per message: stop can interleave
    },
    [self](stop_atom) {
      auto& st = self->state;
      st.stopping = true;
      // Store what is in hand (a few attempts); what cannot be stored stays un-acked in JetStream.
      for (int i = 0; i < 3 && !st.in_hand.empty() && st.writer; ++i)
        store(self);
      self->quit();
    },
  };
  return inspected(self, "batch_saver", self->state.args.durable, std::move(handlers));
}

} // namespace

batch_saver_args to_saver_args(const mi::cfg::config& cfg, saver_kind kind) {
  batch_saver_args b;
  b.kind = kind;
  const bool trades = kind == saver_kind::trades;
  b.stream = trades ? cfg.nats.raw.name : cfg.nats.kline.name;
  b.durable = trades ? "saver_trades" : "saver_klines";
  b.filter = trades ? "market.raw.>" : "market.kline.>";
  b.dsn = cfg.postgres.dsn;
  b.batch_size = cfg.saver.batch_size;
  b.batch_timeout = cfg.saver.batch_timeout;
  b.max_attempts = cfg.saver.max_attempts;
  b.synchronous_commit = cfg.saver.synchronous_commit == mi::cfg::commit_mode::on;
  b.ack_all = cfg.saver.acks == mi::cfg::ack_mode::batch;
  return b;
}

caf::actor spawn_batch_saver(caf::actor_system& sys, batch_saver_args args) {
  return sys.spawn<caf::detached>(batch_saver, std::move(args));
}

} // namespace mi::actors
