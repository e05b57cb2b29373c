#pragma once

// Kline partitions (klines.partitions, docs/architecture.md "Kline partitions"): the subject space of
// MARKET_RAW split into P parts, each aggregated by one kline stage on one node at a time.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace mi::kline_engine {

/// The partition of a symbol: FNV-1a (64 bit) of "{exchange}.{symbol}" modulo `partitions` (>= 1). Stable across
/// processes, versions and machines: it decides which node aggregates a symbol and which checkpoints it reads.
std::uint32_t partition_of(std::string_view exchange_dot_symbol, std::uint32_t partitions);

/// The partition of a MARKET_RAW subject "market.raw.{exchange}.{symbol}"; a subject without that prefix has none
/// (the stage reads only MARKET_RAW): partition 0.
std::uint32_t partition_of_subject(std::string_view subject, std::uint32_t partitions);

/// The key of partition `p`'s global resume sequence in the checkpoint bucket: "global" when there is one partition
/// (the key of every earlier version), "g.{partitions}.{p}" otherwise.
std::string global_key(std::uint32_t p, std::uint32_t partitions);

/// Where partition `p` of `partitions` must start reading MARKET_RAW, from the global keys of the checkpoint bucket
/// (key -> stored sequence): its own key; else the highest lower bound that covers every symbol: "global" or the
/// minimum over a complete set g.{Q}.0 .. g.{Q}.{Q-1} of an earlier partition count Q; else 0 (from the stream's
/// first message). A symbol never needs a trade before the global of the partition that held it.
std::uint64_t partition_resume(const std::map<std::string, std::uint64_t>& globals, std::uint32_t p,
                               std::uint32_t partitions);

} // namespace mi::kline_engine
