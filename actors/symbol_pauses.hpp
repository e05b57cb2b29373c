#pragma once

// Symbols an operator paused (the console's pause/resume actions, docs/operations.md "Operator's console"), by
// exchange and symbol as the operator named it: the normalized form ("BTCUSDT") or the configured one ("BTC/USDT").
// A connection drops the live trades of a paused symbol before gap tracking and publishing; the first trade
// after the resume then shows the ids skipped meanwhile as a gap, which the backfill actor fetches from the
// exchange's REST history like any other gap (up to backfill_max_trades; venues with sequential trade ids).
// Process-wide like the inspection registry, so a restarted connection keeps honouring a pause.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mi::actors {

/// The paused (exchange, symbol) pairs. Thread-safe; paused() costs one relaxed load while nothing is paused.
class symbol_pauses {
public:
  /// One pause.
  struct entry {
    std::string exchange;
    std::string symbol;
    std::int64_t since_ms = 0;
  };

  /// Pauses the pair from `now_ms`; false when it already was.
  bool pause(std::string_view exchange, std::string_view symbol, std::int64_t now_ms);
  /// Resumes the pair; false when it was not paused.
  bool resume(std::string_view exchange, std::string_view symbol);
  /// Whether anything is paused (one relaxed load).
  bool any() const { return count_.load(std::memory_order_relaxed) > 0; }
  /// Whether the pair is paused now.
  bool paused(std::string_view exchange, std::string_view symbol) const;
  /// Every pause, by exchange then symbol.
  std::vector<entry> list() const;

  /// The process-wide set the connections read.
  static symbol_pauses& process();

private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::int64_t> paused_;
  std::atomic<std::size_t> count_{0};
};

} // namespace mi::actors
