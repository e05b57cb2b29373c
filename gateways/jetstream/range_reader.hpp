#pragma once

// Reading a stored range of a stream once, from a sequence or a store time up to its last
// sequence, in stream order: the audit (MARKET_RAW against the database), `replay` (rebuild klines)
// and the gap-detection seed at a connection's start all read this way.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/result.hpp"

namespace mi::gw {

/// What a range read covers.
struct stream_range {
  std::string stream;
  /// One subject (wildcards allowed); empty: the stream's only subject.
  std::string filter_subject;
  /// First sequence read (used when from_time_ns < 0); below the stream's first: from its first.
  std::uint64_t from_seq = 1;
  /// >= 0: from the first message the server stored at or after this time (ns since the epoch;
  /// store time, not the payload's time).
  std::int64_t from_time_ns = -1;
  /// Last sequence read (inclusive). 0: the last message present when the read starts (of
  /// filter_subject, when set). Messages stored after it are not delivered.
  std::uint64_t to_seq = 0;
  /// No message for this long: the read stops, incomplete (a server that stopped delivering).
  std::chrono::milliseconds stall_timeout{30'000};
  /// > 0: the read stops after this long in all, incomplete.
  std::chrono::milliseconds deadline{0};
};

/// How a range read ended.
struct range_read_result {
  std::uint64_t delivered = 0;   ///< messages handed to on_message
  std::uint64_t last_seq = 0;    ///< the range's last sequence (0: the stream, or the subject, was empty)
  std::uint64_t reached_seq = 0; ///< the highest sequence delivered (0: none)
  bool complete = false;         ///< the range was read to its end (also when there was nothing to read)
};

/// Reads `r` in stream order, calling `on_message` once per message, one at a time, on a nats.c
/// thread (it must not throw; nothing else runs it concurrently). Returns when the range's last
/// message was delivered (or a later one arrived: the last was deleted meanwhile), or incomplete
/// when the read stalled or passed its deadline; no callback runs after it returns. Error (naming
/// the stream) when the stream cannot be read. Blocking: never call it from an actor's handler.
mi::result<range_read_result> read_range(jetstream& js, const stream_range& r,
                                         const std::function<void(js_message&&)>& on_message);

} // namespace mi::gw
