#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/book/book_codec.hpp"

namespace mi::connectors::book_json {
class reader;
using change = mi::book::level_change;
} // namespace mi::connectors::book_json

namespace mi::okx {

/// OKX order-book channels (`books`, `books-l2-tbt`, `books50-l2-tbt`; `books5`, which pushes whole books, is read as
/// snapshots):
///
/// ```
///  action snapshot ──► book := levels (seqId remembered) ──────────────────────────► valid
///  action update   ──► book invalid: awaiting_snapshot
///                  ──► prevSeqId present and != the last seqId: resync (sequence gap)
///                  ──► apply (size "0" removes); checksum != 0 and != CRC32 of the book: resync
/// ```
///
/// The checksum is OKX's: CRC32 of the first 25 levels interleaved `bidPx:bidSz:askPx:askSz:...` over the received
/// strings (when one side is shorter, the other's levels follow alone), compared as a signed 32-bit integer. OKX is
/// phasing it out: 0 or an absent checksum is accepted and reported as null.
class book_sync final : public mi::book::book_codec {
public:
  book_sync();
  ~book_sync() override;

  mi::book::frame_result on_frame(std::string_view frame) override;

private:
  std::unique_ptr<mi::connectors::book_json::reader> reader_;
  std::vector<mi::connectors::book_json::change> changes_;
  std::string scratch_;                ///< the checksum text, reused
  std::optional<std::int64_t> seq_id_; ///< seqId of the last applied message, when OKX sends one
};

/// OKX's checksum of `book` (levels beyond 25 ignored); `scratch` holds the text it hashes.
std::int32_t book_checksum(const mi::book::order_book& book, std::string& scratch);

} // namespace mi::okx
