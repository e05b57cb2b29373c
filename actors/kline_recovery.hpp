#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "messages/kline/kline_engine.hpp"

namespace mi::actors {

/// The kline router's recovery bookkeeping, per symbol key ("w.{exchange}.{symbol}"): which
/// checkpoints were restored from the KV bucket and not yet taken by a window, what each live
/// window has stored durably, the first and last stream sequence forwarded to it, and the
/// passivations on the way to the KV bucket. From it, global_resume(): where a restarted stage
/// must begin reading MARKET_RAW so that no symbol misses a trade (docs/architecture.md,
/// "Kline recovery"). Plain class: no actor, no I/O; the router calls it and sends.
///
/// A key is live from started() until passivated(): exactly while the router has a window for it.
/// A symbol passivated and stored costs no memory here (its checkpoint is read back from KV if it
/// trades again: ever_passivated() tells the router to look).
class kline_recovery {
public:
  using checkpoint_ptr = std::shared_ptr<const mi::kline_engine::checkpoint>;

  /// Start-up: the stored `global` resume sequence (0: none) and the stream's first sequence.
  /// Returns the sequence to start reading from, max(global, stream_first, 1); global_resume()
  /// never goes below it.
  std::uint64_t begin(std::uint64_t global, std::uint64_t stream_first);
  std::uint64_t start_seq() const { return start_seq_; }

  /// A checkpoint read from the KV bucket at start-up (or kept while its passivation is stored).
  void restore(const std::string& key, checkpoint_ptr cp);
  /// Checkpoints restored and not yet taken by a window.
  std::size_t restored() const { return restored_.size(); }
  /// The restored checkpoint of `key`, handed to its new window (nullptr when none): the window
  /// holds it from now on, a later passivation stores it again.
  checkpoint_ptr take_restored(const std::string& key);
  /// Some symbol was forgotten in this run: a key without a restored checkpoint may have one in KV.
  bool ever_passivated() const { return ever_passivated_; }

  /// A window for `key` was started by the trade at `seq`, from `cp` (may be null).
  void started(const std::string& key, const checkpoint_ptr& cp, std::uint64_t seq);
  bool live(const std::string& key) const { return first_seq_.count(key) != 0; }
  /// The trade at `seq` was forwarded to the window of `key`.
  void forwarded(const std::string& key, std::uint64_t seq) { last_sent_[key] = seq; }
  /// The sink stored a checkpoint of `key` whose min resume is `min_resume` (after its finals were acked).
  /// A passivated symbol is forgotten, not re-added.
  void stored(const std::string& key, std::uint64_t min_resume);

  /// The window of `key` reported idle after the trade at `last_seq`: true when it may be passivated
  /// (it is live and no trade was forwarded to it since).
  bool may_passivate(const std::string& key, std::uint64_t last_seq);
  /// The window of `key` is stopped; its state `cp` is on the way to the KV bucket. Until the sink has
  /// stored it, it stays here (a trade meanwhile revives from it, and global_resume() counts it).
  void passivated(const std::string& key, checkpoint_ptr cp);
  /// The sink stored the passivation checkpoint of `key`: forgotten unless it was passivated again
  /// meanwhile (that newer checkpoint is not stored yet) or it traded again (the live window has it).
  void passivation_stored(const std::string& key);

  /// Where a restart must begin: no symbol may need a trade before it (never below start_seq()).
  std::uint64_t global_resume() const;

private:
  // Per symbol, only while it is live or its state is on the way to the KV bucket.
  std::map<std::string, checkpoint_ptr> restored_;           // key -> checkpoint
  std::unordered_map<std::string, std::uint64_t> durable_;   // key -> min resume stored
  std::unordered_map<std::string, std::uint64_t> first_seq_; // key -> first seq seen here
  std::unordered_map<std::string, std::uint64_t> last_sent_; // key -> last seq forwarded
  std::unordered_map<std::string, int> storing_;             // key -> passivation checkpoints not stored yet
  bool ever_passivated_ = false;
  std::uint64_t start_seq_ = 1;
};

} // namespace mi::actors
