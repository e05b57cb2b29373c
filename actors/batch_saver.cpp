#include "actors/batch_saver.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <spdlog/spdlog.h>
#include <thread>

#include "actors/caf_types.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"
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
  std::uint64_t undecodable = 0;
};

using saver_actor = caf::stateful_actor<saver_state>;

const char* table_of(saver_kind k) { return k == saver_kind::trades ? "market_trades" : "market_klines"; }

void fail_pause(saver_actor* self, const std::string& what) {
  auto& st = self->state;
  spdlog::warn("{} saver: {}; retrying in {} ms", table_of(st.args.kind), what, st.backoff.count());
  st.args.metrics->batch_failed(table_of(st.args.kind));
  std::this_thread::sleep_for(st.backoff); // detached thread: waiting here blocks nobody else
  st.backoff = std::min(st.backoff * 2, std::chrono::milliseconds(5000));
}

bool ensure_connected(saver_actor* self) {
  auto& st = self->state;
  if (!st.consumer) {
    // After a crash, what the dead process had fetched comes back after ack_wait: short enough
    // for a quick catch-up; a redelivery during a slow write is absorbed by the unique keys.
    auto durable_ack_wait = std::chrono::nanoseconds(std::chrono::seconds(10));
    auto c = mi::gw::pull_consumer::create(
      *st.args.js, {st.args.stream, st.args.durable, st.args.filter, durable_ack_wait, 4 * st.args.batch_size + 1000});
    if (!c) {
      fail_pause(self, "consumer " + st.args.durable + ": " + c.err().message);
      return false;
    }
    st.consumer = std::move(*c);
  }
  if (!st.writer) {
    auto w = mi::gw::pg_writer::connect(st.args.dsn);
    if (!w) {
      fail_pause(self, w.err().message);
      return false;
    }
    st.writer = std::move(*w);
  }
  return true;
}

// Fills the batch until batch_size messages or batch_timeout since the first one.
void collect(saver_actor* self) {
  auto& st = self->state;
  const auto want = static_cast<std::size_t>(st.args.batch_size);
  std::chrono::steady_clock::time_point deadline{};
  while (st.in_hand.size() < want) {
    auto wait = st.args.batch_timeout;
    if (!st.in_hand.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        break;
      wait = left;
    }
    auto got = st.consumer->fetch(static_cast<int>(want - st.in_hand.size()), wait);
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

// Writes the batch in hand in one transaction, then acks it. False if it must be retried.
bool store(saver_actor* self) {
  auto& st = self->state;
  if (st.in_hand.empty())
    return true;
  auto started = std::chrono::steady_clock::now();
  mi::result<std::size_t> written = std::size_t{0};
  if (st.args.kind == saver_kind::trades) {
    std::vector<mi::trade> rows;
    rows.reserve(st.in_hand.size());
    for (auto& m : st.in_hand) {
      auto t = mi::decode_trade_pb(m.data());
      if (t)
        rows.push_back(std::move(*t));
      else if (st.undecodable++ < 10)
        spdlog::error("trade saver: undecodable message seq {}: {}", m.stream_seq(), t.err().message);
    }
    written = st.writer->write_trades(rows);
  } else {
    std::vector<mi::kline> rows;
    for (auto& m : st.in_hand) {
      auto k = mi::decode_kline_pb(m.data());
      if (k)
        rows.push_back(std::move(*k));
      else if (st.undecodable++ < 10)
        spdlog::error("kline saver: undecodable message seq {}: {}", m.stream_seq(), k.err().message);
    }
    written = st.writer->upsert_klines(finals_to_store(std::move(rows)));
  }
  if (!written) {
    st.writer.reset(); // reconnect on the next attempt
    fail_pause(self, "write: " + written.err().message);
    return false;
  }
  // Committed: now, and only now, the messages may go.
  for (auto& m : st.in_hand)
    m.ack();
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  st.args.metrics->rows_written(table_of(st.args.kind), *written);
  st.args.metrics->batch_seconds(table_of(st.args.kind), secs);
  st.in_hand.clear();
  st.backoff = std::chrono::milliseconds(100);
  return true;
}

caf::behavior batch_saver(saver_actor* self, batch_saver_args args) {
  self->state.args = std::move(args);
  self->send(self, batch_atom::value);
  return {
    [self](batch_atom) {
      auto& st = self->state;
      if (ensure_connected(self)) {
        if (st.in_hand.empty())
          collect(self);
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
}

} // namespace

caf::actor spawn_batch_saver(caf::actor_system& sys, batch_saver_args args) {
  return sys.spawn<caf::detached>(batch_saver, std::move(args));
}

std::vector<mi::kline> finals_to_store(std::vector<mi::kline> batch) {
  // Keyed lookup: a batch can hold thousands of finals when many symbols close together.
  std::map<std::tuple<std::string, std::string, std::string, std::int64_t>, std::size_t> index;
  std::vector<mi::kline> out;
  for (auto& k : batch) {
    if (!k.is_final)
      continue;
    auto key = std::make_tuple(k.exchange, k.symbol, k.interval, k.open_time_ms);
    auto it = index.find(key);
    if (it == index.end()) {
      index.emplace(std::move(key), out.size());
      out.push_back(std::move(k));
    } else if (k.revision >= out[it->second].revision) {
      out[it->second] = std::move(k);
    }
  }
  return out;
}

} // namespace mi::actors
