#pragma once

// Resuming a push channel: the stored messages a client missed, then the live ones, with no duplicate and no hole.
// Pure classes (no I/O, no clock): the hub and its replay worker own them.
//
//   subscribe {"since":{C:S}} ──► the hub buffers C's live messages for this client (resume_splice::live)
//                              └─► the worker reads C's stream subject from S+1 to the stream's last sequence at
//                                  that moment (replay_window keeps the newest resume_max of them)
//   replay done ──► gap (if any) ──► replayed messages ──► buffered live ones with a sequence above the last
//                   replayed one (the read and the live feed overlap; the sequence decides) ──► live
//
// Hand-over proof sketch: a live message the hub received before the subscription was stored before the read
// started, so the read has it; one received after it is in the buffer; one in both is sent once (by sequence).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mi::gw {

/// An inclusive range of stream sequences a client will not get.
struct seq_gap {
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  bool operator==(const seq_gap&) const = default;
};

/// The replay read's side: keeps the newest `max` messages after `since`; what it had to leave out (older than
/// the stream keeps, or beyond `max`) is the gap.
class replay_window {
public:
  using frame = std::shared_ptr<const std::string>;
  /// `since`: the last sequence the client holds; `stream_first_seq`: the oldest sequence the stream still keeps
  /// (0: empty stream); `max`: messages kept at most.
  replay_window(std::uint64_t since, std::uint64_t stream_first_seq, std::size_t max);
  /// One stored message, in stream order (sequences at or below `since` are ignored).
  void add(std::uint64_t seq, frame f);
  /// The messages kept, oldest first.
  const std::deque<std::pair<std::uint64_t, frame>>& kept() const { return kept_; }
  /// The sequences asked for but not kept: from since+1 up to the first kept (or the last seen) message.
  std::optional<seq_gap> gap() const;

private:
  std::uint64_t since_;
  std::uint64_t first_kept_floor_; // the stream had nothing below this any more
  std::size_t max_;
  std::uint64_t dropped_to_ = 0; // the newest sequence pushed out by max (0: none)
  std::deque<std::pair<std::uint64_t, frame>> kept_;
};

/// The hub's side for one (client, channel): live messages wait while the replay runs, then everything goes out
/// in sequence order, each once.
class resume_splice {
public:
  using frame = std::shared_ptr<const std::string>;
  /// `max_live`: live messages buffered at most while the replay runs (older ones are then given up as a gap).
  explicit resume_splice(std::size_t max_live) : max_live_(max_live) {}
  /// A live message during the replay (`seq` 0: not stored, e.g. a partial candle: it is kept in order).
  void live(std::uint64_t seq, frame f);
  /// The replay finished: `gap_frame` (may be null) goes first, then `replayed` (ascending sequences).
  void replayed(frame gap_frame, std::vector<std::pair<std::uint64_t, frame>> replayed);
  /// True once replayed() was called.
  bool ready() const { return ready_; }
  /// Moves up to `n` frames to send, in order, into `out`; only after replayed(). Live messages given up because
  /// the buffer was full come back as one gap (from, to) in `lost` the first time, before the frames after them.
  std::size_t take(std::size_t n, std::vector<frame>& out, std::optional<seq_gap>& lost);
  /// Ready and everything sent: the channel is live for this client.
  bool done() const { return ready_ && out_.empty() && live_.empty(); }

private:
  std::size_t max_live_;
  bool ready_ = false;
  std::uint64_t last_sent_ = 0; // highest stored sequence handed out
  std::deque<frame> out_;       // gap + replayed, ready to go
  std::deque<std::pair<std::uint64_t, frame>> live_;
  std::optional<seq_gap> lost_; // live messages given up (buffer full)
};

} // namespace mi::gw
