#pragma once
// Follows the stream sequences a consumer of a whole stream receives: every message must arrive
// once, in stream order. It says which sequences were skipped before a message (to be read
// directly from the stream) and which message was delivered already. nats.c's ordered consumer
// was seen to skip a few messages when a cluster member was killed (the push feed of
// MARKET_KLINE missed six revisions, issue 16); this is the check that catches it.

#include <cstdint>

namespace mi::gw {

class sequence_follower {
public:
  /// `first`: the sequence expected first (0: the first message to arrive sets the start, as
  /// for a consumer of new messages only).
  explicit sequence_follower(std::uint64_t first = 0) : next_(first) {}

  struct step {
    std::uint64_t missing_from = 0;  ///< first skipped sequence (when missing_count > 0)
    std::uint64_t missing_count = 0; ///< how many sequences were skipped before this one
    bool duplicate = false;          ///< delivered before (or older than what was): drop it
  };

  /// A message with stream sequence `seq` arrived. Sequence 0 (no metadata) is never checked.
  step arrive(std::uint64_t seq) {
    step out;
    if (seq == 0)
      return out;
    if (next_ != 0 && seq < next_) {
      out.duplicate = true;
      return out;
    }
    if (next_ != 0 && seq > next_) {
      out.missing_from = next_;
      out.missing_count = seq - next_;
    }
    next_ = seq + 1;
    return out;
  }

  /// The sequence expected next (0 before the first message when started without one).
  std::uint64_t next() const { return next_; }

private:
  std::uint64_t next_;
};

} // namespace mi::gw
