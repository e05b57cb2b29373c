#pragma once

#include <cstddef>
#include <cstdint>
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

/// An L2 order book: price levels per side, keyed by exact decimal price. Pure: no I/O, no clock.
///
/// Each side is a vector sorted from the worst level to the best, so the updates near the top of the book, which are
/// most of them, move few elements; at(s, 0) is the best level. The book is `valid` only between a snapshot and the
/// first sign that it went wrong (a sequence break, a checksum mismatch, a malformed update): the codecs
/// (connectors/<venue>/book.*) decide, the book only carries the flag.
class order_book {
public:
  /// Sets the level at `price_text` to `qty_text`; a quantity of zero removes the level. False when a text is not a
  /// decimal, the price is not positive or the quantity negative: then nothing changed.
  bool set(side s, std::string_view price_text, std::string_view qty_text);
  /// Empties both sides (the valid flag is unchanged).
  void clear();
  /// Keeps the best `depth` levels of side `s` (an exchange's subscribed depth).
  void truncate(side s, std::size_t depth);

  /// Levels on side `s`.
  std::size_t size(side s) const { return sides_[index(s)].size(); }
  /// The i-th best level of side `s` (0 = best); requires i < size(s).
  const level& at(side s, std::size_t i) const {
    const auto& v = sides_[index(s)];
    return v[v.size() - 1 - i];
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

  std::vector<level> sides_[2]; ///< [bid, ask], each sorted worst..best (best at the back)
  bool valid_ = false;
};

} // namespace mi::book
