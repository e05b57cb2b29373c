#include "actors/symbol_pauses.hpp"

namespace mi::actors {

symbol_pauses& symbol_pauses::process() {
  static symbol_pauses pauses;
  return pauses;
}

bool symbol_pauses::pause(std::string_view exchange, std::string_view symbol, std::int64_t now_ms) {
  std::lock_guard lock{mu_};
  const bool added = paused_.emplace(std::make_pair(std::string(exchange), std::string(symbol)), now_ms).second;
  count_.store(paused_.size(), std::memory_order_relaxed);
  return added;
}

bool symbol_pauses::resume(std::string_view exchange, std::string_view symbol) {
  std::lock_guard lock{mu_};
  const bool removed = paused_.erase(std::make_pair(std::string(exchange), std::string(symbol))) > 0;
  count_.store(paused_.size(), std::memory_order_relaxed);
  return removed;
}

bool symbol_pauses::paused(std::string_view exchange, std::string_view symbol) const {
  if (count_.load(std::memory_order_relaxed) == 0)
    return false;
  std::lock_guard lock{mu_};
  return paused_.count(std::make_pair(std::string(exchange), std::string(symbol))) > 0;
}

std::vector<symbol_pauses::entry> symbol_pauses::list() const {
  std::lock_guard lock{mu_};
  std::vector<entry> out;
  for (const auto& [key, since] : paused_)
    out.push_back({key.first, key.second, since});
  return out;
}

} // namespace mi::actors
