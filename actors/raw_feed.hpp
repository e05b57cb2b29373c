#pragma once
// MARKET_RAW inside a node (docs/architecture.md "The kline stage's feed"). The kline stage reads MARKET_RAW in
// stream order, each message with its stream sequence. On a node that also runs ingest, most of those messages were
// published by this very process, and JetStream's publish ack tells it their sequences: `local_raw_feed` hands each
// acked publish to the kline stage's inbox as it is acked, so the stage need not read its own trades back from the
// server (one delivery per trade less for nats-server and for the process). The stream stays the truth:
// `raw_sequencer` passes a local entry on only when every sequence before it was handled, so a message another
// publisher stored in between (another ingest node, a backfill, a lost ack) shows as a gap, and the stage then reads
// the stream from there.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "actors/inbox.hpp"

namespace mi::actors {

/// One MARKET_RAW message for the kline stage: from its stream reader or from this process's publish acks.
struct raw_entry {
  std::uint64_t seq = 0;
  std::string data;
  std::uint64_t pending = 0;    ///< the stream reader's count of messages still to deliver after this one
  bool other_partition = false; ///< no payload, only the position (another partition's, or not a trade subject)
  bool local = false;           ///< from local_raw_feed (may arrive out of order, or with sequences missing)
};

/// The acked publishes of one stream, for the readers inside this process. Thread-safe: offer() runs on nats.c's
/// ack thread, attach() and the subscription's destruction on actors' threads.
class local_raw_feed {
public:
  /// `stream`: the only stream whose acks are handed on (MARKET_RAW's configured name).
  explicit local_raw_feed(std::string stream);
  local_raw_feed(const local_raw_feed&) = delete;
  local_raw_feed& operator=(const local_raw_feed&) = delete;

  struct reader {
    std::shared_ptr<inbox<raw_entry>> in;
    /// True: the message's payload goes to the reader; false: only its position (other_partition).
    std::function<bool(std::string_view subject)> wanted;
    /// Called when an entry lands in the empty inbox (the reader takes everything then).
    std::function<void()> ring;
    /// Entries queued at most; beyond, new ones are dropped (the reader meets a gap and reads the stream).
    std::size_t at_most = std::size_t{1} << 20;
  };
  /// While the returned object lives, every acked publish of the stream is handed to `r`.
  class subscription {
  public:
    ~subscription();
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;

  private:
    friend class local_raw_feed;
    subscription(std::shared_ptr<local_raw_feed> feed, std::uint64_t id) : feed_(std::move(feed)), id_(id) {}
    std::shared_ptr<local_raw_feed> feed_;
    std::uint64_t id_;
  };
  [[nodiscard]] static std::unique_ptr<subscription> attach(const std::shared_ptr<local_raw_feed>& feed, reader r);

  /// A publish JetStream stored (not a duplicate of an earlier one) at `seq` of `stream`: handed to every reader,
  /// in the order of the calls. No ring happens after a subscription is destroyed.
  void offer(std::string_view stream, std::uint64_t seq, std::string_view subject, std::string_view data);
  /// Entries dropped because a reader's inbox was full.
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
  std::string stream_;
  std::mutex mu_;
  std::map<std::uint64_t, reader> readers_;
  std::uint64_t next_id_ = 1;
  std::atomic<std::uint64_t> dropped_{0};
};

/// Puts the entries of a stream reader and of local_raw_feed in stream order, once each. A stream reader delivers in
/// order and skips only what its filter excludes, so each of its entries is taken when beyond the last one handled;
/// a local entry is taken only when it is the very next sequence, and held until then.
class raw_sequencer {
public:
  explicit raw_sequencer(std::size_t max_held = std::size_t{1} << 17) : max_held_(max_held) {}

  /// The highest sequence handled.
  std::uint64_t last() const { return last_; }
  /// A stream reader starts at `from`: what lies before it counts as handled.
  void read_from(std::uint64_t from) {
    if (from > 0 && from - 1 > last_)
      last_ = from - 1;
  }
  /// An entry of the stream reader: true when it is to be handled now (beyond last()).
  bool accept_stream(std::uint64_t seq) {
    if (seq <= last_)
      return false;
    last_ = seq;
    return true;
  }
  enum class verdict { handle, skip, held };
  /// An entry of the local feed: `handle` when it is the next sequence (then handle `e` itself), `skip` when
  /// handled already, `held` when sequences before it are missing (moved into the hold; dropped when the hold is
  /// full: the stream brings it).
  verdict accept_local(raw_entry& e);
  /// After last() moved: the next held entry if it continues the stream (moved to `out`, true). Entries at or below
  /// last() are dropped on the way.
  bool next_held(raw_entry& out);
  /// Held entries wait for a sequence nobody delivered yet.
  bool gap() const { return !held_.empty() && held_.begin()->first > last_ + 1; }
  std::size_t held() const { return held_.size(); }
  /// Local entries not held because the hold was full.
  std::uint64_t dropped() const { return dropped_; }

private:
  std::size_t max_held_;
  std::uint64_t last_ = 0;
  std::map<std::uint64_t, raw_entry> held_;
  std::uint64_t dropped_ = 0;
};

} // namespace mi::actors
