#pragma once

// The order-book payloads of the public contract (market.v1.Book, market.v1.Bbo in messages/market.proto) as plain
// types, their protobuf and JSON codecs, and book_replica: what a consumer does with them (snapshot, then deltas in
// sequence). Pure: no I/O, no clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/book/order_book.hpp"
#include "messages/result.hpp"

namespace mi::book {

/// Content-Type header values of the book payloads (public contract).
inline constexpr std::string_view book_content_type = "application/x-protobuf; proto=market.v1.Book";
inline constexpr std::string_view bbo_content_type = "application/x-protobuf; proto=market.v1.Bbo";

/// The key-value bucket holding the latest snapshot of every book (key `{exchange}.{symbol}`, value a Book).
inline constexpr std::string_view snapshots_bucket = "book_snapshots";

/// "market.book.{exchange}.{symbol}" (stream MARKET_BOOK).
std::string book_subject(std::string_view exchange, std::string_view symbol);
/// "market.bbo.{exchange}.{symbol}" (core NATS).
std::string bbo_subject(std::string_view exchange, std::string_view symbol);

/// A Book message's kind.
enum class update_kind : std::uint8_t { snapshot, delta };

/// One level on the wire: canonical decimal strings ("0" quantity in a delta: the level is removed).
struct wire_level {
  std::string price;
  std::string qty;
  bool operator==(const wire_level&) const = default;
};

/// market.v1.Book: a snapshot or a delta of one (exchange, symbol) book, numbered gap-free within a session.
struct book_update {
  std::string exchange;
  std::string symbol;
  std::uint64_t session = 0;  ///< the feed's start (ns since the epoch): sequences restart at 1 in a new session
  std::uint64_t sequence = 0; ///< 1, 2, 3, ... per (exchange, symbol, session)
  update_kind kind = update_kind::snapshot;
  bool valid = false;           ///< false: sync lost; a snapshot without levels, the book is unusable until the next
  std::int64_t ts_ns = 0;       ///< exchange event time (0: unknown)
  std::int64_t recv_ns = 0;     ///< local receive time
  std::vector<wire_level> bids; ///< best first
  std::vector<wire_level> asks; ///< best first
  bool operator==(const book_update&) const = default;
};

/// market.v1.Bbo: the best bid and ask of a book state (empty strings: that side is empty).
struct bbo {
  std::string exchange;
  std::string symbol;
  std::uint64_t session = 0;
  std::uint64_t sequence = 0; ///< the Book message of the same state
  bool valid = false;
  wire_level bid;
  wire_level ask;
  std::int64_t ts_ns = 0;
  std::int64_t recv_ns = 0;
  bool operator==(const bbo&) const = default;
};

/// "snapshot" | "delta".
std::string_view to_string(update_kind k);

/// protobuf market.v1.Book bytes.
std::string encode_book_pb(const book_update& b);
/// Error on bytes that are not a Book, an unknown kind, or a level whose price or quantity is not a decimal.
mi::result<book_update> decode_book_pb(std::string_view bytes);
/// protobuf market.v1.Bbo bytes.
std::string encode_bbo_pb(const bbo& b);
mi::result<bbo> decode_bbo_pb(std::string_view bytes);

/// The push channel's data object: {"exchange":..,"symbol":..,"session":N,"seq":N,"type":"snapshot|delta",
/// "valid":true,"ts_ns":N,"recv_ns":N,"bids":[["price","qty"],...],"asks":[...]} (session as a number).
std::string book_to_json(const book_update& b);
/// {"exchange":..,"symbol":..,"session":N,"seq":N,"valid":true,"bid":["price","qty"]|null,"ask":[..]|null,
/// "ts_ns":N,"recv_ns":N}.
std::string bbo_to_json(const bbo& b);

/// A consumer's copy of one book, built from Book messages: a snapshot replaces it; a delta applies only when its
/// sequence follows the last one by exactly one in the same session, otherwise the replica is out of sync until the
/// next snapshot. Used by the push hub (the state a new subscriber starts from) and by tests (a client's book).
class book_replica {
public:
  /// What apply() did.
  enum class outcome : std::uint8_t {
    snapshot, ///< replaced by a snapshot (valid or not)
    applied,  ///< a delta in sequence
    gap,      ///< a delta out of sequence (or before any snapshot): out of sync now, wait for a snapshot
    stale,    ///< a message at or before the current sequence of the session: ignored
    bad       ///< a level that does not parse: out of sync
  };

  outcome apply(const book_update& u);

  /// In sync and the last snapshot was valid.
  bool usable() const { return in_sync_ && book_.valid(); }
  bool in_sync() const { return in_sync_; }
  std::uint64_t session() const { return session_; }
  std::uint64_t sequence() const { return sequence_; }
  const order_book& book() const { return book_; }
  std::int64_t ts_ns() const { return ts_ns_; }
  std::int64_t recv_ns() const { return recv_ns_; }

  /// The current state as a snapshot message (exchange and symbol as given; valid only when usable()).
  book_update snapshot(std::string exchange, std::string symbol) const;

private:
  order_book book_;
  bool in_sync_ = false;
  std::uint64_t session_ = 0;
  std::uint64_t sequence_ = 0;
  std::int64_t ts_ns_ = 0;
  std::int64_t recv_ns_ = 0;
};

/// The levels of side `s` of `book`, best first, at most `depth` (canonical decimal strings).
std::vector<wire_level> top_levels(const order_book& book, side s, std::size_t depth);

} // namespace mi::book
