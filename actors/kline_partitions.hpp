#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "actors/kline_stage.hpp"
#include "caf/actor.hpp"
#include "caf/fwd.hpp"

namespace mi::actors {

struct kline_partitions_args {
  /// The stage every owned partition runs (its partition and partition count are set per stage).
  kline_stage_args stage;
  std::string node_id;                 ///< runtime.node_id: the owner written into a lease
  std::uint32_t partitions = 2;        ///< klines.partitions
  std::chrono::milliseconds ttl{6000}; ///< klines.lease_ttl
  std::string lease_bucket = "MI_KLINE_LEASES";
};

/// The kline role of a partitioned deployment (klines.partitions > 1): a lease keeper that, every ttl/6, announces
/// the node in the lease bucket (key "n.{node_id}"), reads the partitions' leases (key "p.{i}", value = owner node
/// id, "" = released; the bucket's TTL expires a lease its owner stopped renewing), asks kline_leases what to do
/// and does it: claims (create or revision-checked update), renewals, graceful hand-over (stop the stage, then
/// release the lease) and one kline stage per owned partition (docs/architecture.md, "Kline partitions").
/// Stages are linked: one that dies with an error takes the keeper down, and its supervisor starts it again, which
/// takes its own leases back at their revision and restarts the stages from their checkpoints.
/// Accepts: (stop_atom) -> stops every stage, releases their leases once they are down (so another node takes them
/// over at once, not after the TTL), quits.
caf::actor spawn_kline_partitions(caf::actor_system& sys, kline_partitions_args args);

} // namespace mi::actors
