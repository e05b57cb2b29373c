#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/book/order_book.hpp"

namespace mi::sim {

/// One change of the simulated book: a side, a price and its new quantity ("0": the level is removed), as the text
/// the exchange sends (canonical decimals).
struct sim_level {
  mi::book::side side;
  std::string price;
  std::string qty;
};

/// One update of the simulated book: its id (Binance U = u = id, OKX seqId = id with prevSeqId = id - 1) and changes.
struct sim_book_update {
  std::uint64_t id = 0;
  std::vector<sim_level> changes;
};

/// The true L2 book of one simulated symbol: levels around a fixed mid (bids below, asks above: never crossed), each
/// step changes one to three levels (a new level, another quantity, a removal), numbered 1, 2, 3, ... Deterministic
/// for a seed. Plain data, no I/O, no clock; the simulator's protocols turn it into each exchange's frames.
class sim_book {
public:
  /// Levels per side at most.
  static constexpr std::size_t max_levels = 15;

  /// `mid_cents`: the mid price in hundredths (10000 = 100.00); starts with 10 levels per side.
  sim_book(std::uint64_t seed, std::int64_t mid_cents);

  /// Applies one random update and returns it.
  sim_book_update step();

  /// The book now.
  const mi::book::order_book& book() const { return book_; }
  /// The id of the last update applied (0 before the first).
  std::uint64_t update_id() const { return id_; }

  /// A copy of the book and its update id as they were 20 to 40 updates ago (copies are taken every `stale_every`
  /// updates; this is the one before the last): the stale REST snapshot fault serves it.
  const mi::book::order_book& stale_book() const { return stale_; }
  std::uint64_t stale_update_id() const { return stale_id_; }
  static constexpr std::uint64_t stale_every = 20;

private:
  std::uint64_t random();
  std::string price_text(std::int64_t cents) const;
  std::string qty_text();

  mi::book::order_book book_;
  mi::book::order_book stale_, newer_;
  std::uint64_t stale_id_ = 0, newer_id_ = 0;
  std::uint64_t rng_;
  std::int64_t mid_;
  std::uint64_t id_ = 0;
};

/// What one subscriber of an exchange's top `depth` levels per side is sent (Bybit `orderbook.1`, Kraken `book` at
/// depth 10): such a channel keeps the subscriber's view at its depth, so an update carries the levels that enter or
/// leave the top N, not the raw change. When the depth holds every level the simulated book can have, the raw
/// changes are the view's changes (and a lost update stays lost: the fault the sequence and checksum rules must see).
class depth_view {
public:
  explicit depth_view(std::size_t depth) : depth_(depth) {}
  /// The top `depth` of each side now, remembered as sent (a snapshot).
  std::vector<sim_level> snapshot(const sim_book& b);
  /// The changes `u` (already applied to `b`) makes to this subscriber's view.
  std::vector<sim_level> update(const sim_book& b, const sim_book_update& u);
  std::size_t depth() const { return depth_; }

private:
  std::vector<sim_level> top(const sim_book& b) const;
  std::size_t depth_;
  std::vector<sim_level> sent_; ///< the view last sent (only kept when depth_ < sim_book::max_levels)
};

/// Appends the levels of side `s` among `levels`, each as `level_text(level)`, comma-separated, in their order:
/// the inside of a frame's bids or asks array, as each protocol writes it.
template <class F>
void append_side(std::string& out, const std::vector<sim_level>& levels, mi::book::side s, F&& level_text) {
  bool first = true;
  for (const auto& l : levels) {
    if (l.side != s)
      continue;
    if (!first)
      out += ',';
    first = false;
    out += level_text(l);
  }
}

/// `["price","qty"]`: a level as Binance and Bybit write it.
inline std::string text_pair(const sim_level& l) { return "[\"" + l.price + "\",\"" + l.qty + "\"]"; }

/// `{"update_id":N,"bids":[["price","qty"],...],"asks":[...]}`: the whole book, best first (GET /sim/book).
std::string sim_book_json(const sim_book& b);

} // namespace mi::sim
