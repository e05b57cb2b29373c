#include "actors/kline_partitions.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "actors/inspection.hpp"
#include "actors/kline_leases.hpp"
#include "actors/supervisor.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "messages/util/clock.hpp"

namespace mi::actors {
namespace {

using mi::util::now_ms;

std::string lease_key(std::uint32_t p) { return "p." + std::to_string(p); }
const std::string node_prefix = "n.";

struct keeper_state {
  static inline const char* name = "mi.kline_partitions";
  kline_partitions_args args;
  std::unique_ptr<kline_leases> leases;
  struct stage {
    caf::actor actor;
    std::shared_ptr<std::atomic<bool>> abandoned; // set when the lease is lost: the sink publishes nothing more
  };
  std::map<std::uint32_t, stage> stages;
  std::chrono::milliseconds round_every{1000};
  bool stopping = false;
  std::uint64_t read_failures = 0; // for log pacing
  std::size_t live_nodes = 1;      // nodes announcing themselves at the last successful key listing

  keeper_state() = default;
  keeper_state(const keeper_state&) = delete;
  keeper_state& operator=(const keeper_state&) = delete;
  // The keeper is going (an error of a linked stage, a kill by its supervisor): its stages die with it by their
  // links, but a sink blocked in a publish or a checkpoint write would finish it after the restarted keeper
  // claimed the partition again and started a new stage. Abandoned first, it writes nothing more.
  ~keeper_state() {
    for (auto& [p, s] : stages)
      s.abandoned->store(true);
  }
};

using keeper_actor = caf::stateful_actor<keeper_state>;

// The lease bucket now: nullopt when it cannot be read (only the fence runs then).
std::optional<kline_leases::view> read_view(keeper_state& st) {
  auto& js = *st.args.stage.js;
  kline_leases::view v;
  // The node count from the key listing and a read of each n.* key (the calls most likely to time out while a member
  // restarts). When it fails, the last count stands in: the partitions' own keys decide who owns what, and a
  // wrong share only moves partitions later (claims and releases are revision-checked), whereas no view at all
  // would stop every claim and leave a dead node's partitions unowned for as long as the listing fails.
  auto count_nodes = [&]() -> mi::result<std::size_t> {
    auto keys = js.kv_keys(st.args.lease_bucket);
    if (!keys)
      return keys.err();
    std::size_t n = 0;
    for (const auto& k : *keys) {
      if (k.rfind(node_prefix, 0) != 0)
        continue;
      auto e = js.kv_get_latest(st.args.lease_bucket, k); // a node that stopped left a delete marker
      if (!e)
        return e.err();
      n += e->has_value() ? 1 : 0;
    }
    return n;
  };
  if (auto n = count_nodes(); n) {
    st.live_nodes = *n;
  } else if (st.read_failures++ % 10 == 0) {
    spdlog::warn("kline partitions: cannot count the live nodes in {} (counting {} as before): {}",
                 st.args.lease_bucket, st.live_nodes, n.err().message);
  }
  v.live_nodes = st.live_nodes;
  for (std::uint32_t p = 0; p < st.args.partitions; ++p) {
    // From the leader: a replica a moment behind would show our own claim as not yet made (or a lease we gave up
    // as still ours), and the revision checks would then refuse or repeat our writes in a loop.
    auto e = js.kv_get_latest(st.args.lease_bucket, lease_key(p));
    if (!e) {
      if (st.read_failures++ % 10 == 0)
        spdlog::warn("kline partitions: cannot read {}/{}: {}", st.args.lease_bucket, lease_key(p), e.err().message);
      return std::nullopt;
    }
    v.partitions.push_back(*e ? kline_leases::entry{(*e)->value, (*e)->revision} : kline_leases::entry{});
  }
  return v;
}

void start_stage(keeper_actor* self, std::uint32_t p) {
  auto& st = self->state;
  auto args = st.args.stage;
  args.partition = p;
  args.partitions = st.args.partitions;
  args.abandoned = std::make_shared<std::atomic<bool>>(false);
  auto flag = args.abandoned;
  auto stage = spawn_kline_stage(self->system(), std::move(args));
  self->link_to(stage); // a stage that dies with an error restarts the keeper (supervisor)
  self->monitor(stage); // a stage stopped on purpose reports its end
  inspection::process().adopt(stage.id(), self->id(), "kline_stage.p" + std::to_string(p));
  st.stages[p] = {stage, std::move(flag)};
}

// Graceful: the stage finishes the finals it has, then quits. Abandoned (the lease is lost): it publishes and
// stores nothing more. Its down_msg follows either way.
void stop_stage(keeper_actor* self, std::uint32_t p, bool abandon) {
  auto& st = self->state;
  auto it = st.stages.find(p);
  if (it == st.stages.end()) {
    st.leases->stage_stopped(p); // nothing runs
    return;
  }
  if (abandon)
    it->second.abandoned->store(true);
  self->send(it->second.actor, stop_atom::value);
}

void act(keeper_actor* self, const kline_leases::action& a) {
  auto& st = self->state;
  auto& js = *st.args.stage.js;
  const auto key = lease_key(a.partition);
  using step = kline_leases::step;
  switch (a.what) {
  case step::claim: {
    auto r = js.kv_swap(st.args.lease_bucket, key, st.args.node_id, a.revision);
    if (r && *r) {
      st.leases->claimed(a.partition, **r, now_ms());
      spdlog::info("kline partitions: {} took partition {} of {} (lease revision {})", st.args.node_id, a.partition,
                   st.args.partitions, **r);
      start_stage(self, a.partition);
    } else if (!r) {
      spdlog::warn("kline partitions: cannot claim partition {}: {}", a.partition, r.err().message);
    }
    break; // refused: another node was faster
  }
  case step::renew: {
    auto r = js.kv_swap(st.args.lease_bucket, key, st.args.node_id, a.revision);
    if (r && *r) {
      st.leases->renewed(a.partition, **r, now_ms());
    } else if (r) {
      spdlog::warn("kline partitions: the lease of partition {} is no longer ours: its stage is abandoned",
                   a.partition);
      if (st.leases->lost(a.partition))
        stop_stage(self, a.partition, true);
    } // an error: the next round tries again, and the fence stops the stage before the lease can expire
    break;
  }
  case step::stop_stage:
    spdlog::info("kline partitions: stopping the stage of partition {} (handing it over)", a.partition);
    stop_stage(self, a.partition, false);
    break;
  case step::abandon:
    spdlog::warn("kline partitions: the lease of partition {} is lost or was not renewed in time: its stage is "
                 "abandoned",
                 a.partition);
    stop_stage(self, a.partition, true);
    break;
  case step::release: {
    auto r = js.kv_swap(st.args.lease_bucket, key, "", a.revision);
    if (!r)
      spdlog::warn("kline partitions: cannot release partition {} ({}): it expires after the TTL", a.partition,
                   r.err().message);
    else
      spdlog::info("kline partitions: {} released partition {}", st.args.node_id, a.partition);
    st.leases->released(a.partition);
    break;
  }
  }
}

void round(keeper_actor* self) {
  auto& st = self->state;
  auto& js = *st.args.stage.js;
  const auto began = now_ms();
  for (const auto& a : st.leases->renewals(now_ms())) // first: the reads below may be slow
    act(self, a);
  if (!st.stopping) // a node shutting down no longer counts towards the shares
    if (auto r = js.kv_put(st.args.lease_bucket, node_prefix + st.args.node_id, std::to_string(now_ms())); !r)
      spdlog::warn("kline partitions: cannot announce {}: {}", st.args.node_id, r.err().message);
  auto v = read_view(st);
  for (const auto& a : st.leases->plan(v, now_ms()))
    act(self, a);
  // A round longer than a third of the TTL delays renewals towards the fence: say so (NATS slow or unreachable).
  if (const auto took = now_ms() - began; took > st.args.ttl.count() / 3)
    spdlog::warn("kline partitions: a lease round took {} ms (TTL {} ms)", took, st.args.ttl.count());
}

caf::behavior kline_partitions(keeper_actor* self, kline_partitions_args args) {
  self->set_exception_handler(exception_error);
  auto& st = self->state;
  st.args = std::move(args);
  st.round_every = std::clamp(st.args.ttl / 6, std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  st.leases = std::make_unique<kline_leases>(st.args.node_id, st.args.partitions, st.args.ttl);
  if (auto r = st.args.stage.js->kv_ensure(st.args.lease_bucket, st.args.ttl); !r) {
    spdlog::error("kline partitions: cannot open KV bucket {}: {}", st.args.lease_bucket, r.err().message);
    self->quit(caf::make_error(caf::sec::runtime_error, r.err().message));
    return {};
  }
  spdlog::info("kline partitions: node {} takes part in {} partitions (lease TTL {} ms)", st.args.node_id,
               st.args.partitions, st.args.ttl.count());
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    for (auto it = s.stages.begin(); it != s.stages.end(); ++it)
      if (it->second.actor.address() == dm.source) {
        const auto p = it->first;
        s.stages.erase(it);
        s.leases->stage_stopped(p);
        round(self); // release it now rather than at the next round: the next owner waits less
        break;
      }
    if (s.stopping && s.stages.empty() && s.leases->idle())
      self->quit();
  });
  round(self);
  self->delayed_send(self, st.round_every, lease_atom::value);
  caf::behavior handlers{
    [self](lease_atom) {
      auto& s = self->state;
      round(self);
      if (s.stopping && s.stages.empty() && s.leases->idle()) {
        self->quit();
        return;
      }
      self->delayed_send(self, s.round_every, lease_atom::value);
    },
    [self](stop_atom) {
      auto& s = self->state;
      s.stopping = true;
      for (const auto& a : s.leases->drain_all())
        act(self, a);
      // No longer live: the others' shares grow at their next round and they take the released partitions.
      if (auto r = s.args.stage.js->kv_delete(s.args.lease_bucket, node_prefix + s.args.node_id); !r)
        spdlog::warn("kline partitions: cannot withdraw {}: {}", s.args.node_id, r.err().message);
      if (s.stages.empty() && s.leases->idle())
        self->quit();
    },
  };
  return inspected(self, "kline_partitions", "kline_partitions", std::move(handlers));
}

} // namespace

caf::actor spawn_kline_partitions(caf::actor_system& sys, kline_partitions_args args) {
  // Detached: every round blocks on the lease bucket (a few KV reads and writes).
  return sys.spawn<caf::detached>(kline_partitions, std::move(args));
}

} // namespace mi::actors
