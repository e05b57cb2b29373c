#include "actors/kline_leases.hpp"

#include <algorithm>
#include <functional>

namespace mi::actors {

kline_leases::kline_leases(std::string node_id, std::uint32_t partitions, std::chrono::milliseconds ttl)
    : node_(std::move(node_id)), ttl_ms_(ttl.count()), state_(std::max<std::uint32_t>(partitions, 1)) {}

std::uint32_t kline_leases::fair_share(std::uint32_t partitions, std::size_t live_nodes) {
  const auto live = static_cast<std::uint32_t>(std::max<std::size_t>(live_nodes, 1));
  return (partitions + live - 1) / live;
}

std::vector<kline_leases::action> kline_leases::plan(const std::optional<view>& v, std::int64_t now_ms) {
  std::vector<action> out;
  const auto n = partitions();
  const bool readable = v && v->partitions.size() == n;
  for (std::uint32_t p = 0; p < n; ++p) {
    auto& s = state_[p];
    if (!holds_lease(s))
      continue;
    // Not renewed for 2/3 of the TTL: given up before the key can expire and another node take it.
    const bool fenced = now_ms - s.renewed_ms >= ttl_ms_ * 2 / 3;
    const bool taken = readable && (v->partitions[p].owner != node_ || v->partitions[p].revision != s.revision);
    if (fenced || taken) {
      if (s.st == state::owned || s.st == state::draining) // a draining stage publishes nothing more either
        out.push_back({step::abandon, p, 0});
      s.st = s.st == state::drained ? state::none : state::stopping;
      continue;
    }
    if (s.st == state::drained)
      out.push_back({step::release, p, s.revision});
    else if (now_ms - s.renewed_ms >= ttl_ms_ / 3)
      out.push_back({step::renew, p, s.revision});
  }
  if (!readable || shutting_down_)
    return out;

  const auto share = fair_share(n, v->live_nodes);
  std::uint32_t owned_now = 0, handing_over = 0;
  for (const auto& s : state_) {
    owned_now += s.st == state::owned ? 1 : 0;
    handing_over += s.st == state::draining || s.st == state::drained ? 1 : 0;
  }
  if (owned_now > share) {
    // A node came (back): the surplus is stopped first and released once down (highest partitions first).
    auto surplus = owned_now - share;
    for (std::uint32_t p = n; p-- > 0 && surplus > 0;)
      if (state_[p].st == state::owned) {
        state_[p].st = state::draining;
        out.push_back({step::stop_stage, p, 0});
        --surplus;
      }
  } else if (owned_now < share && handing_over == 0) {
    // Free partitions up to the share, starting at a place of our own (nodes do not all race for partition 0).
    auto want = share - owned_now;
    const auto start = static_cast<std::uint32_t>(std::hash<std::string>{}(node_) % n);
    for (std::uint32_t i = 0; i < n && want > 0; ++i) {
      const auto p = (start + i) % n;
      if (state_[p].st != state::none)
        continue; // ours already, or its old stage still stopping
      const auto& e = v->partitions[p];
      // Absent or expired, released, or ours from before this process (same node id: that process is gone).
      if (e.revision == 0 || e.owner.empty() || e.owner == node_) {
        out.push_back({step::claim, p, e.revision});
        --want;
      }
    }
  }
  return out;
}

std::vector<kline_leases::action> kline_leases::renewals(std::int64_t now_ms) const {
  std::vector<action> out;
  for (std::uint32_t p = 0; p < partitions(); ++p) {
    const auto& s = state_[p];
    const auto age = now_ms - s.renewed_ms;
    if ((s.st == state::owned || s.st == state::draining) && age >= ttl_ms_ / 3 && age < ttl_ms_ * 2 / 3)
      out.push_back({step::renew, p, s.revision});
  }
  return out;
}

void kline_leases::claimed(std::uint32_t p, std::uint64_t revision, std::int64_t now_ms) {
  state_[p] = {state::owned, revision, now_ms};
}

void kline_leases::renewed(std::uint32_t p, std::uint64_t revision, std::int64_t now_ms) {
  auto& s = state_[p];
  if (!holds_lease(s))
    return;
  s.revision = revision;
  s.renewed_ms = now_ms;
}

bool kline_leases::lost(std::uint32_t p) {
  auto& s = state_[p];
  const bool runs = s.st == state::owned || s.st == state::draining;
  if (holds_lease(s))
    s.st = runs ? state::stopping : state::none;
  return runs;
}

void kline_leases::stage_stopped(std::uint32_t p) {
  auto& s = state_[p];
  if (s.st == state::owned || s.st == state::draining)
    s.st = state::drained; // its lease is released next
  else if (s.st == state::stopping)
    s.st = state::none;
}

void kline_leases::released(std::uint32_t p) {
  if (state_[p].st == state::drained)
    state_[p] = {};
}

std::vector<kline_leases::action> kline_leases::drain_all() {
  shutting_down_ = true;
  std::vector<action> out;
  for (std::uint32_t p = 0; p < partitions(); ++p)
    if (state_[p].st == state::owned) {
      state_[p].st = state::draining;
      out.push_back({step::stop_stage, p, 0});
    }
  return out;
}

std::vector<std::uint32_t> kline_leases::owned() const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t p = 0; p < partitions(); ++p)
    if (state_[p].st == state::owned)
      out.push_back(p);
  return out;
}

bool kline_leases::idle() const {
  return std::all_of(state_.begin(), state_.end(), [](const slot& s) { return s.st == state::none; });
}

} // namespace mi::actors
