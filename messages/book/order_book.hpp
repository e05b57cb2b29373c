#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "messages/decimal.hpp"

namespace mi::book {

/// A side of the book.
enum class side : std::uint8_t { bid, ask };

/// One price level: the exact decimals and the exchange's text they were parsed from (checksums are computed over
/// the text: "78500.0" and "78500" are one price but two checksums).
struct level {
  mi::decimal price;
  mi::decimal qty;
  std::string price_text;
  std::string qty_text;
};

/// One level as a frame gives it: side and the exchange's texts (views into the frame or its parser).
struct level_change {
  side s;
  std::string_view price;
  std::string_view qty;
};

/// The order of a side's prices: bids descending, asks ascending (best first).
struct price_order {
  bool descending = false;
  bool operator()(const mi::decimal& a, const mi::decimal& b) const { return descending ? b < a : a < b; }
};

/// One side's levels by price, best first.
using side_levels = std::map<mi::decimal, level, price_order>;

/// An L2 order book: price levels per side, keyed by exact decimal price. Pure: no I/O, no clock.
///
/// Each side is an ordered tree, best level first: an update anywhere in a deep book (Binance's 5000 levels, OKX's
/// 400, whose updates touch every depth) costs O(log n), where a sorted vector would move half the side. The book is
/// `valid` only between a snapshot and the first sign that it went wrong (a sequence break, a checksum mismatch, a
/// malformed update): the codecs (connectors/<venue>/book.*) decide, the book only carries the flag.
class order_book {
public:
  order_book() : sides_{side_levels(price_order{true}), side_levels(price_order{false})} {}

  /// Sets the level at `price_text` to `qty_text`; a quantity of zero removes the level. False when a text is not a
  /// decimal, the price is not positive or the quantity negative: then nothing changed.
  bool set(side s, std::string_view price_text, std::string_view qty_text);
  /// Applies `changes` in order (set() each); false at the first invalid one (the changes before it are applied).
  bool apply(std::span<const level_change> changes);
  /// Replaces both sides by a snapshot's levels, in any order (a price given twice: the last wins; quantity zero:
  /// no level). False when a level is invalid: the book is then empty. The valid flag is unchanged.
  bool assign(std::span<const level_change> levels);
  /// Empties both sides (the valid flag is unchanged).
  void clear();
  /// Keeps the best `depth` levels of side `s` (an exchange's subscribed depth).
  void truncate(side s, std::size_t depth);

  /// Levels on side `s`.
  std::size_t size(side s) const { return sides_[index(s)].size(); }
  /// The levels of side `s`, best first (iterate for the top N).
  const side_levels& levels(side s) const { return sides_[index(s)]; }
  /// The i-th best level of side `s` (0 = best; O(i): iterate levels() for more than a few); requires i < size(s).
  const level& at(side s, std::size_t i) const {
    return std::next(sides_[index(s)].begin(), static_cast<std::ptrdiff_t>(i))->second;
  }
  /// The level at exactly `price` on side `s`, or nullptr.
  const level* find(side s, const mi::decimal& price) const;

  /// True when both sides have levels and the best bid is at or above the best ask.
  bool crossed() const;

  /// Whether the book may be used: set by a snapshot, cleared by a resync.
  bool valid() const { return valid_; }
  void set_valid(bool v) { valid_ = v; }

private:
  static std::size_t index(side s) { return s == side::bid ? 0 : 1; }

  side_levels sides_[2]; ///< [bid, ask]
  bool valid_ = false;
};

} // namespace mi::book
