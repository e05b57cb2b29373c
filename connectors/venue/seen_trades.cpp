#include "connectors/venue/seen_trades.hpp"

namespace mi::venue {
namespace {

// 64-bit FNV-1a: deterministic, and a collision between two ids of one symbol among the last 1000
// has a probability of about 1000 / 2^64.
std::uint64_t fingerprint(std::string_view id) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : id) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

} // namespace

bool seen_trades::first_time(const std::string& symbol, std::string_view id) {
  ring& r = by_symbol_[symbol];
  const std::uint64_t f = fingerprint(id);
  if (!r.ids.insert(f).second)
    return false;
  r.order.push_back(f);
  if (r.order.size() > per_symbol_) {
    r.ids.erase(r.order.front());
    r.order.pop_front();
  }
  return true;
}

std::size_t seen_trades::size(const std::string& symbol) const {
  auto it = by_symbol_.find(symbol);
  return it == by_symbol_.end() ? 0 : it->second.order.size();
}

} // namespace mi::venue
