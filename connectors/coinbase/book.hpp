#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "messages/book/book_codec.hpp"

namespace mi::connectors::book_json {
class reader;
using change = mi::book::level_change;
} // namespace mi::connectors::book_json

namespace mi::coinbase {

/// Coinbase order books: Advanced Trade `level2` (channel `l2_data`) and, for recorded data, the legacy Exchange feed
/// `level2` (`snapshot` + `l2update`).
///
/// ```
///  Advanced Trade: every message of the connection carries sequence_num, whatever its channel
///    event snapshot                     ──► book := updates ──────────────────────────────────► valid
///    sequence_num <= last               ──► dropped_stale (a duplicate)
///    sequence_num != last + 1           ──► resync (a message was lost, maybe of this book); Coinbase sends a
///                                           new snapshot on (re)subscribe
///    event update                       ──► apply (new_quantity "0" removes)
///    sequence_num 0 after others        ──► a new connection: resync, its snapshot follows
///  legacy: snapshot ──► book := bids/asks; l2update ──► apply changes [side, price, size] (no sequence)
/// ```
class book_sync final : public mi::book::book_codec {
public:
  book_sync();
  ~book_sync() override;

  mi::book::frame_result on_frame(std::string_view frame) override;

private:
  std::unique_ptr<mi::connectors::book_json::reader> reader_;
  std::vector<mi::connectors::book_json::change> changes_;
  std::optional<std::int64_t> last_seq_; ///< sequence_num of the last Advanced Trade message
};

} // namespace mi::coinbase
