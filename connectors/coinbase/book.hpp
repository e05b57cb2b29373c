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
/// On a live connection the codec of one product sees only that product's l2_data messages, whose sequence_num
/// skips the connection's other messages: there (sequence_scope::connection) the continuity is checked once per
/// connection by connection_sequence, and the codec only drops a message older than the last one it applied.
enum class sequence_scope : std::uint8_t {
  every_message, ///< the codec is given every message of the connection (recorded data, the `book` command)
  connection     ///< connection_sequence checks the connection's messages; the codec sees its product's only
};

class book_sync final : public mi::book::book_codec {
public:
  explicit book_sync(sequence_scope scope = sequence_scope::every_message);
  ~book_sync() override;

  mi::book::frame_result on_frame(std::string_view frame) override;

private:
  std::unique_ptr<mi::connectors::book_json::reader> reader_;
  std::vector<mi::connectors::book_json::change> changes_;
  std::optional<std::int64_t> last_seq_; ///< sequence_num of the last Advanced Trade message
  sequence_scope scope_;
};

/// Coinbase Advanced Trade numbers every message of a connection (trades, heartbeats, subscriptions, level2 alike)
/// with sequence_num 0, 1, 2, ...: a number skipped anywhere means a message was lost, maybe a level2 update of any
/// product, so every book of the connection must be resynced. Given every text frame of one connection in order.
class connection_sequence {
public:
  connection_sequence();
  ~connection_sequence();
  connection_sequence(connection_sequence&&) noexcept;
  connection_sequence& operator=(connection_sequence&&) noexcept;

  /// The break this frame reveals ("sequence gap: sequence_num 12 after 10"), or nullopt: in order, a repeat of an
  /// older number (dropped by the codecs), the first number seen, or a frame without sequence_num (an error, a
  /// legacy frame, not JSON: the decoder reports those).
  std::optional<std::string> on_frame(std::string_view frame);
  /// A new connection: numbering starts again.
  void reset() { last_.reset(); }
  /// The last sequence_num seen.
  std::optional<std::int64_t> last() const { return last_; }
  /// Breaks seen since construction.
  std::uint64_t breaks() const { return breaks_; }

private:
  std::unique_ptr<mi::connectors::book_json::reader> reader_;
  std::optional<std::int64_t> last_;
  std::uint64_t breaks_ = 0;
};

} // namespace mi::coinbase
