#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "messages/book/order_book.hpp"
#include "messages/result.hpp"

namespace mi::book {

/// What one frame did to the book (the `status` of the `book` CLI's output lines).
enum class status : std::uint8_t {
  snapshot,          ///< the book was (re)built from a snapshot: valid
  applied,           ///< a delta was applied in sequence (and its checksum, if any, matched)
  dropped_stale,     ///< an update older than the book (Binance u <= lastUpdateId, a duplicate sequence): ignored
  resync,            ///< a sequence break, a checksum mismatch, a crossed sequence or a malformed update: the book is
                     ///< invalid until the next snapshot (counted once per break)
  awaiting_snapshot, ///< an update while the book is invalid (before the first snapshot, after a resync): Binance
                     ///< buffers it for the REST snapshot, the others drop it
  ignored            ///< not a book frame (subscription ack, heartbeat, another channel)
};

/// "snapshot", "applied", "dropped_stale", "resync", "awaiting_snapshot", "ignored".
std::string_view to_string(status s);

/// The outcome of one frame.
struct frame_result {
  status what = status::ignored;
  std::optional<bool> checksum_ok; ///< nullopt: the frame carried no checksum (or OKX's 0)
  std::string reason;              ///< resync: why ("sequence gap: U 105 after u 100", "checksum mismatch ...")
  /// A malformed frame or level (reason "malformed frame: ...", "malformed level"): its parser code
  /// (messages/result.hpp, malformed_json ... unsupported_message); unspecified for every other outcome.
  mi::errc code = mi::errc::unspecified;
};

/// The book of one exchange's book channel for one symbol: a codec (frames -> level changes) and the exchange's sync
/// state machine (sequence numbers, checksums, snapshots). Implemented per venue in connectors/<venue>/book.*; made
/// by mi::venue::venue::make_book_codec(). Pure: no I/O, no clock; frames are untrusted (never throws, never
/// reports an invalid book as valid).
class book_codec {
public:
  virtual ~book_codec() = default;

  /// One frame as the exchange sent it (one WebSocket message; for Binance also a REST /api/v3/depth body).
  virtual frame_result on_frame(std::string_view frame) = 0;

  /// The book after the last frame; only meaningful while book().valid().
  const order_book& book() const { return book_; }
  /// Resyncs so far (sequence breaks, checksum mismatches, malformed updates of a valid book).
  std::uint64_t resyncs() const { return resyncs_; }

protected:
  /// Marks the book invalid; status resync (counted) when it was valid, awaiting_snapshot when it already was not.
  frame_result resync(std::string reason, std::optional<bool> checksum_ok = std::nullopt);
  /// A malformed frame: resync() with reason "malformed frame: <e.message>" and e's code.
  frame_result malformed(const mi::error& e);
  /// A level whose price or quantity is not a valid decimal: resync() with reason "malformed level", bad_number.
  frame_result malformed_level();
  /// An update while the book is invalid.
  static frame_result awaiting() { return {status::awaiting_snapshot, std::nullopt, {}}; }

  order_book book_;
  std::uint64_t resyncs_ = 0;
};

/// The `book` CLI's line for a book after a frame: {"bids":[["price","qty"],...],"asks":[...],"checksum_ok":...,
/// "status":"..."}, the best `depth` levels of each side first, canonical decimal strings; an invalid book prints
/// empty sides (it is never shown as if it were right); "crossed":true is added when a valid book is crossed.
std::string to_json_line(const order_book& book, const frame_result& r, std::size_t depth);

} // namespace mi::book
