#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace mi::venue {

/// The ids of the last `per_symbol` trades seen per symbol, live or from a REST poll, so that a venue
/// without sequential ids (Bybit: its recent-trades endpoint is polled every second and returns the
/// last 60 trades) publishes each trade once instead of once per poll: JetStream's Nats-Msg-Id dedup
/// only covers its duplicate window (2 minutes by default), and a quiet symbol's last 60 trades span
/// far more than that. Pure; memory is bounded (per_symbol ids of 8 bytes plus set overhead, per symbol).
///
/// A trade can only come back in a poll while it is among the exchange's newest `limit` trades; with
/// per_symbol well above that limit (default 1000 against Bybit's 60), an id is forgotten only after
/// 1000 newer trades were seen, when no poll can return it any more.
class seen_trades {
public:
  explicit seen_trades(std::size_t per_symbol = 1000) : per_symbol_(per_symbol == 0 ? 1 : per_symbol) {}

  /// True the first time (symbol, id) is offered (and remembers it); false for an id already seen.
  bool first_time(const std::string& symbol, std::string_view id);
  /// Ids remembered for `symbol` (at most per_symbol).
  std::size_t size(const std::string& symbol) const;

private:
  struct ring {
    std::deque<std::uint64_t> order;       // oldest first
    std::unordered_set<std::uint64_t> ids; // the same, for lookup
  };
  std::size_t per_symbol_;
  std::unordered_map<std::string, ring> by_symbol_;
};

} // namespace mi::venue
