#include "messages/kline/partition.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace mi::kline_engine {

std::uint32_t partition_of(std::string_view exchange_dot_symbol, std::uint32_t partitions) {
  if (partitions <= 1)
    return 0;
  std::uint64_t h = 0xcbf29ce484222325ULL; // FNV-1a offset basis
  for (unsigned char c : exchange_dot_symbol) {
    h ^= c;
    h *= 0x100000001b3ULL; // FNV prime
  }
  return static_cast<std::uint32_t>(h % partitions);
}

std::uint32_t partition_of_subject(std::string_view subject, std::uint32_t partitions) {
  constexpr std::string_view prefix = "market.raw.";
  if (subject.substr(0, prefix.size()) != prefix)
    return 0;
  return partition_of(subject.substr(prefix.size()), partitions);
}

std::string global_key(std::uint32_t p, std::uint32_t partitions) {
  if (partitions <= 1)
    return "global";
  return "g." + std::to_string(partitions) + "." + std::to_string(p);
}

namespace {

// "g.{Q}.{i}" -> (Q, i); false for anything else.
bool parse_global(std::string_view key, std::uint32_t& q, std::uint32_t& i) {
  if (key.substr(0, 2) != "g.")
    return false;
  key.remove_prefix(2);
  auto dot = key.find('.');
  if (dot == std::string_view::npos)
    return false;
  auto a = key.substr(0, dot), b = key.substr(dot + 1);
  auto ra = std::from_chars(a.data(), a.data() + a.size(), q);
  auto rb = std::from_chars(b.data(), b.data() + b.size(), i);
  return ra.ec == std::errc{} && ra.ptr == a.data() + a.size() && rb.ec == std::errc{} &&
         rb.ptr == b.data() + b.size() && q > 1 && i < q;
}

} // namespace

std::uint64_t partition_resume(const std::map<std::string, std::uint64_t>& globals, std::uint32_t p,
                               std::uint32_t partitions) {
  if (auto own = globals.find(global_key(p, partitions)); own != globals.end())
    return own->second;
  std::uint64_t best = 0;
  if (auto g = globals.find("global"); g != globals.end())
    best = g->second;
  // Per earlier count Q: how many of its partitions have a key, and the lowest of them.
  std::map<std::uint32_t, std::pair<std::uint32_t, std::uint64_t>> sets;
  for (const auto& [key, seq] : globals) {
    std::uint32_t q = 0, i = 0;
    if (!parse_global(key, q, i))
      continue;
    auto [it, fresh] = sets.try_emplace(q, 0, std::numeric_limits<std::uint64_t>::max());
    it->second.first += 1;
    it->second.second = std::min(it->second.second, seq);
  }
  for (const auto& [q, set] : sets)
    if (set.first == q)
      best = std::max(best, set.second);
  return best;
}

} // namespace mi::kline_engine
