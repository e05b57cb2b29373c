#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "messages/book/book_codec.hpp"

namespace mi::connectors::book_json {
class reader;
using change = mi::book::level_change;
} // namespace mi::connectors::book_json

namespace mi::kraken {

/// Kraken order books: WebSocket v2 `book` and, for recorded data, v1 `book-{depth}`.
///
/// ```
///  snapshot ──► book := levels, truncated to the subscribed depth; v2 checks its checksum ─────► valid
///  update   ──► book invalid: awaiting_snapshot
///           ──► apply (qty 0 removes), truncate to the depth, CRC32 over the top 10 asks then the top 10 bids,
///               each price and quantity as received with the "." removed and leading zeros stripped;
///               != the frame's checksum: resync (Kraken's way to resync is to resubscribe: a new snapshot)
/// ```
///
/// Prices and quantities are kept as the exact text received: v2 sends JSON numbers with trailing zeros
/// (`78500.0`, `0.00006370`) that a double would reformat, and break every checksum. The subscribed depth is v1's
/// channel name (`book-1000`); for v2, unless given, the smallest of Kraken's depths (10, 25, 100, 500, 1000) that
/// holds the snapshot.
class book_sync final : public mi::book::book_codec {
public:
  /// `depth`: the subscribed depth; 0 = from the frames.
  explicit book_sync(std::size_t depth = 0);
  ~book_sync() override;

  mi::book::frame_result on_frame(std::string_view frame) override;

private:
  mi::book::frame_result on_v1(std::string_view frame);
  mi::book::frame_result on_v2(std::string_view frame);
  mi::book::frame_result finish(bool snapshot, std::size_t depth, std::string_view checksum_text, bool has_checksum);

  std::unique_ptr<mi::connectors::book_json::reader> reader_;
  std::vector<mi::connectors::book_json::change> changes_;
  std::string scratch_; ///< the checksum text, reused
  std::size_t configured_depth_;
  std::size_t depth_ = 0; ///< the depth of the current book
};

/// Kraken's v2 book depth for `depth` levels: the smallest of 10, 25, 100, 500, 1000 at or above it (1000 beyond).
std::size_t book_depth_at_least(std::size_t depth);

/// Kraken's checksum of `book` (top 10 asks, then top 10 bids); `scratch` holds the text it hashes.
std::uint32_t book_checksum(const mi::book::order_book& book, std::string& scratch);

} // namespace mi::kraken
