#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mi::actors {

/// The leases of the kline partitions as this node sees them, and what to do next (docs/architecture.md,
/// "Kline partitions and their leases"). Plain class: no actor, no I/O. The keeper actor reads the lease bucket
/// (one key per partition, value = owner node id, "" = released), hands the view to plan(), carries out the
/// actions with revision-checked writes (create when the key is absent, update at the revision seen otherwise)
/// and reports each outcome back.
///
/// Per partition on this node:
///
///     (not mine) --claim ok--> owned --surplus: stop_stage--> draining --stage_stopped--> drained
///          ^                     |  ^                                                        |
///          |                     |  +-- renew ok (every ttl/3)                               | release ok
///          |                     +-- renew refused / owner changed / no renewal for 2/3 ttl  v
///          +------ stage_stopped ------ stopping (lost: stage stops, no lease) <--- (not mine)
///
/// A node takes at most ceil(partitions / live nodes) partitions and, when it holds more (a node came back),
/// stops the surplus stages first and releases their leases only after they stopped: the next owner starts
/// after the last one finished.
class kline_leases {
public:
  /// One key of the lease bucket as read: the owner ("" = released) and the revision (0: absent or expired).
  struct entry {
    std::string owner;
    std::uint64_t revision = 0;
  };
  /// The bucket at one moment: every partition's key and how many nodes announce themselves (live).
  struct view {
    std::vector<entry> partitions;
    std::size_t live_nodes = 1;
  };
  enum class step {
    claim,      ///< write our id at `revision` (0: create): on success call claimed() and start the stage
    renew,      ///< write our id at `revision`: on success renewed(), refused: lost()
    stop_stage, ///< stop the partition's stage (graceful); call stage_stopped() once it is down
    abandon,    ///< the lease is lost: stop the stage publishing nothing more; stage_stopped() once it is down
    release,    ///< write "" at `revision` (the stage is down); then released() whatever the outcome
  };
  struct action {
    step what;
    std::uint32_t partition;
    std::uint64_t revision;
    bool operator==(const action&) const = default;
  };

  kline_leases(std::string node_id, std::uint32_t partitions, std::chrono::milliseconds ttl);

  /// What to do now. `v` is the bucket as just read; nullopt when it could not be read (only the fence runs:
  /// a lease not renewed for 2/3 of the TTL is given up before another node may take it).
  std::vector<action> plan(const std::optional<view>& v, std::int64_t now_ms);

  /// The renewals due now, without a view: the keeper writes them first in its round, before the slower reads
  /// (the key listing, every partition's key), so a round that is slow on a loaded machine does not push a
  /// renewal past the fence. A lease already past the fence is left to plan(), which abandons it.
  std::vector<action> renewals(std::int64_t now_ms) const;

  void claimed(std::uint32_t p, std::uint64_t revision, std::int64_t now_ms);
  void renewed(std::uint32_t p, std::uint64_t revision, std::int64_t now_ms);
  /// The lease is someone else's now (a renew was refused): true when its stage runs and must be abandoned.
  bool lost(std::uint32_t p);
  void stage_stopped(std::uint32_t p);
  void released(std::uint32_t p);
  /// Shutdown: every running stage is to stop (their leases are released once they are down); no more claims.
  std::vector<action> drain_all();

  /// Partitions whose stage should run (owned).
  std::vector<std::uint32_t> owned() const;
  /// Partitions this node holds a lease of or still runs a stage of (nothing left: a drained shutdown may quit).
  bool idle() const;
  /// ceil(partitions / live nodes).
  static std::uint32_t fair_share(std::uint32_t partitions, std::size_t live_nodes);
  std::uint32_t partitions() const { return static_cast<std::uint32_t>(state_.size()); }

private:
  enum class state { none, owned, draining, drained, stopping };
  struct slot {
    state st = state::none;
    std::uint64_t revision = 0;
    std::int64_t renewed_ms = 0;
  };
  bool holds_lease(const slot& s) const {
    return s.st == state::owned || s.st == state::draining || s.st == state::drained;
  }

  std::string node_;
  std::int64_t ttl_ms_;
  std::vector<slot> state_;
  bool shutting_down_ = false;
};

} // namespace mi::actors
