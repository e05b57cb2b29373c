#pragma once

#include <cstdint>
#include <iosfwd>
#include <string_view>

#include "messages/result.hpp"

namespace mi::connectors {

/// Counts of one decode_lines() run.
struct decode_stats {
  std::uint64_t lines = 0;     ///< lines read, empty ones included
  std::uint64_t frames_ok = 0; ///< frames decoded (trades, acks, errors from the exchange, ignored events)
  std::uint64_t trades = 0;    ///< trades written to `out`
  std::uint64_t errors = 0;    ///< malformed frames reported on `err`
};

/// The `decode` CLI: reads raw frames (one a line) from `in`, writes normalized trades (trade_to_json, one a line) to
/// `out`; a malformed frame writes "line N: <reason>" to `err` and decoding goes on. Blank lines are skipped. exchange:
/// a venue of the registry (messages/venue_registry.cpp; the format variant is detected per frame); anything else ->
/// error, nothing read.
mi::result<decode_stats> decode_lines(std::string_view exchange, std::istream& in, std::ostream& out,
                                      std::ostream& err);

} // namespace mi::connectors
