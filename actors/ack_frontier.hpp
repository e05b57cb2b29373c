#pragma once
// What a saver may ack on a consumer whose ack policy is AckAll (docs/architecture.md "Acks of the savers").
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace mi::actors {

/// On a consumer with AckAll, the ack of stream sequence S acks every message up to S that is still pending, whoever
/// holds it: one ack per batch instead of one per message (nats-server −2.8 µs per trade at 20,000 trades/s,
/// docs/performance.md §25). A saver may therefore ack S only when every sequence up to S is done: at or below the
/// consumer's ack floor (acked, so stored by whoever acked it, by this same rule), or done by this saver (stored, or
/// dead-lettered and the dead letter acked). `ack_frontier` keeps this saver's done sequences above the floor as runs
/// of consecutive sequences, each with the message of its last sequence (the one whose ack covers the run), and says
/// which to ack. A hole below the first run is a message another saver sharing the durable holds, one a dead process
/// held (redelivered after ack_wait), a nak'ed one waiting for redelivery, or a sequence the stream no longer has: the
/// saver reads the floor again (another saver's ack may have covered the hole) and, once the hole is a second old, asks
/// the stream whether its sequences still exist (gone()).
///
/// Plain class, no I/O. `Message` is the saver's message type (movable); a string in the tests.
template <class Message>
class ack_frontier {
public:
  /// The consumer's ack floor as read from the server. A floor below the known one changes nothing (the known one is
  /// this saver's own later ack).
  void floor(std::uint64_t f) {
    if (f <= floor_)
      return;
    floor_ = f;
    while (!runs_.empty() && runs_.begin()->first <= floor_) {
      if (runs_.begin()->second.last <= floor_) {
        runs_.erase(runs_.begin());
        continue;
      }
      auto node = runs_.extract(runs_.begin()); // straddles the floor: it now starts right above it
      node.key() = floor_ + 1;
      runs_.insert(std::move(node));
    }
  }
  std::uint64_t floor() const { return floor_; }

  /// This saver is done with `seq`; `m` is its message (its ack covers every sequence up to `seq`). A sequence at or
  /// below the floor, or already done, changes nothing.
  void done(std::uint64_t seq, Message m) { add(seq, std::optional<Message>(std::move(m))); }

  /// `seq`, in a hole below the first run that can be acked, is no longer in the stream (deleted, or aged out):
  /// nothing to store. Ignored anywhere else.
  void gone(std::uint64_t seq) {
    if (seq > floor_ && seq < first_ackable())
      add(seq, std::nullopt);
  }

  /// The message to ack now (the last of the run right above the floor) and its sequence; nullopt when the first run
  /// does not start right above the floor (or nothing is done). Call acked(seq) once the ack was sent.
  std::optional<std::pair<std::uint64_t, Message*>> next() {
    if (!next_ready())
      return std::nullopt;
    auto& r = runs_.begin()->second;
    return std::make_pair(r.last, &*r.message);
  }
  /// The ack of `seq` was sent: the floor is there now.
  void acked(std::uint64_t seq) { floor(seq); }

  /// Done messages wait above a hole.
  bool waiting() const { return !runs_.empty() && !next_ready(); }
  /// Up to `max` sequences of the holes below the first run that can be acked, lowest first.
  std::vector<std::uint64_t> holes(std::size_t max) const {
    std::vector<std::uint64_t> out;
    auto s = floor_ + 1;
    for (const auto& [first, r] : runs_) {
      for (; s < first && out.size() < max; ++s)
        out.push_back(s);
      if (r.message || out.size() >= max)
        break;
      s = r.last + 1;
    }
    return out;
  }
  /// Done sequences above the floor (not yet covered by an ack).
  std::uint64_t held() const {
    std::uint64_t n = 0;
    for (const auto& [first, r] : runs_)
      n += r.last - first + 1;
    return n;
  }

private:
  struct run {
    std::uint64_t last = 0;
    std::optional<Message> message; // acks the run; none: gone() sequences, below a run that has one
  };

  bool next_ready() const {
    return !runs_.empty() && runs_.begin()->first == floor_ + 1 && runs_.begin()->second.message.has_value();
  }
  std::uint64_t first_ackable() const {
    for (const auto& [first, r] : runs_)
      if (r.message)
        return first;
    return 0;
  }

  void add(std::uint64_t seq, std::optional<Message> m) {
    if (seq <= floor_)
      return;
    auto after = runs_.upper_bound(seq); // the first run starting above seq
    auto before = after == runs_.begin() ? runs_.end() : std::prev(after);
    if (before != runs_.end() && seq <= before->second.last)
      return; // done already
    const bool joins_before = before != runs_.end() && before->second.last + 1 == seq;
    const bool joins_after = after != runs_.end() && after->first == seq + 1;
    if (joins_before && joins_after) {
      before->second.last = after->second.last;
      before->second.message = std::move(after->second.message);
      runs_.erase(after);
    } else if (joins_before) {
      before->second.last = seq;
      before->second.message = std::move(m);
    } else if (joins_after) {
      auto node = runs_.extract(after);
      node.key() = seq;
      runs_.insert(std::move(node));
    } else {
      runs_.emplace(seq, run{seq, std::move(m)});
    }
  }

  std::map<std::uint64_t, run> runs_; // first sequence -> run; disjoint, never adjacent, all above floor_
  std::uint64_t floor_ = 0;
};

} // namespace mi::actors
