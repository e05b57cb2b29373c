#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "connectors/venue/venue.hpp"
#include "messages/book/book_message.hpp"

namespace mi::venue {

/// Why a book lost sync (the `reason` label of mi_book_resyncs_total: a closed set).
enum class resync_reason : std::uint8_t {
  sequence_gap,   ///< an update does not follow the last one
  checksum,       ///< the exchange's checksum does not match our book
  stale_snapshot, ///< a REST snapshot older than the stream (Binance: first event after lastUpdateId + 1)
  malformed,      ///< an update that does not parse
  reconnect       ///< the connection was lost: the book cannot be trusted until a new snapshot
};
inline constexpr std::size_t resync_reason_count = 5;
/// "sequence_gap", "checksum", "stale_snapshot", "malformed", "reconnect".
std::string_view to_string(resync_reason r);
/// The reason of a codec's resync text ("sequence gap: ...", "checksum mismatch ...", "first event U .. is after
/// lastUpdateId ..", "malformed ...").
resync_reason classify_resync(std::string_view reason_text);

/// Settings of the book channel of one exchange (config exchanges.<x>.books).
struct book_feed_options {
  std::size_t depth = 20;                             ///< levels per side published (and subscribed at least)
  std::int64_t snapshot_interval_ns = 10'000'000'000; ///< a full snapshot this often per symbol
  std::int64_t snapshot_retry_ns = 5'000'000'000;     ///< a wanted snapshot not received: ask again after this
};

/// What book_feed produced for the caller to publish and do.
struct book_events {
  std::vector<mi::book::book_update> books; ///< in sequence order per symbol: market.book.{exchange}.{symbol}
  std::vector<mi::book::bbo> bbos;          ///< market.bbo.{exchange}.{symbol}
  struct resync {
    std::string symbol;
    resync_reason reason;
    std::string detail; ///< the codec's text
  };
  std::vector<resync> resyncs; ///< count each once
  /// Symbols whose book needs a snapshot from the exchange now: venue::book_snapshot_request (REST, Binance) or an
  /// unsubscribe + subscribe of the book channel (the others). Asked once, again after snapshot_retry_ns.
  std::vector<std::string> snapshots_wanted;
  bool empty() const { return books.empty() && bbos.empty() && resyncs.empty() && snapshots_wanted.empty(); }
  void clear() {
    books.clear();
    bbos.clear();
    resyncs.clear();
    snapshots_wanted.clear();
  }
};

/// The books of one connection's symbols: one venue book codec per symbol (sequence and checksum rules), and what
/// goes on the wire: per (exchange, symbol) our own gap-free sequence, a snapshot when the book becomes valid and
/// every snapshot_interval, deltas of the top `depth` levels in between (computed against what was published, so a
/// level that leaves the top N is removed), the best bid and ask when they change. A resync is reported once, the
/// book is published invalid (a snapshot without levels, valid=false) and nothing more until a new snapshot makes it
/// valid: an invalid book is never published as valid. Pure: no I/O, no clock (times are passed in).
class book_feed {
public:
  /// `subs`: the connection's subscriptions; `v` makes the codecs and names the book keys; `session`: the feed's
  /// start time (ns), carried in every message.
  book_feed(std::string exchange, const venue& v, const std::vector<subscription>& subs, book_feed_options o,
            std::uint64_t session);

  /// The normalized symbol of a book frame's key (venue::book_frame), or nullptr when not one of ours.
  const std::string* symbol_of_key(std::string_view key) const;

  /// One book frame (or, for REST-synced venues, the REST snapshot body) of `symbol`.
  void on_frame(const std::string& symbol, std::string_view frame, std::int64_t ts_ns, std::int64_t recv_ns,
                std::int64_t now_ns, book_events& out);
  /// A REST snapshot body of `symbol` (venue::book_snapshot_request's answer): on_frame, and when the book is still
  /// not valid after it (a snapshot older than the buffered events), the snapshot is wanted again at once.
  void on_rest_snapshot(const std::string& symbol, std::string_view body, std::int64_t now_ns, book_events& out);
  /// The REST snapshot request of `symbol` failed: it may be asked again at once on the next tick.
  void snapshot_failed(const std::string& symbol);
  /// Periodic work (about once a second): snapshots due, snapshots wanted again.
  void tick(std::int64_t now_ns, book_events& out);
  /// A message of the connection was lost (venue::connection_sequence_break: `detail` says which): every valid book
  /// may have missed an update, so each is resynced (reason sequence_gap, counted once per book), published invalid
  /// and its snapshot wanted. Books not valid yet wait for a snapshot that comes after the loss anyway.
  void resync_all(std::string_view detail, std::int64_t now_ns, book_events& out);
  /// The connection carrying the books was lost (or replaced): every book is invalid until a new snapshot (a new
  /// codec each, reason reconnect for the books that were valid).
  void reset(std::int64_t now_ns, book_events& out);

  /// The codec of `symbol` (tests), or nullptr.
  const mi::book::book_codec* codec(const std::string& symbol) const;
  /// Our last sequence of `symbol`.
  std::uint64_t sequence(const std::string& symbol) const;

private:
  struct state {
    std::string symbol;
    std::unique_ptr<mi::book::book_codec> codec;
    std::uint64_t seq = 0;
    bool published_valid = false;                 ///< the last message told consumers the book is valid
    std::vector<mi::book::wire_level> bids, asks; ///< what consumers hold (the top `depth`)
    std::int64_t last_snapshot_ns = 0;
    std::int64_t ts_ns = 0, recv_ns = 0;           ///< of the frame that made the current state
    std::optional<std::int64_t> snapshot_asked_ns; ///< a snapshot was asked for at this time
    mi::book::bbo last_bbo;
  };

  void publish_state(state& s, std::int64_t now_ns, book_events& out, bool force_snapshot);
  void publish_invalid(state& s, book_events& out);
  void want_snapshot(state& s, std::int64_t now_ns, book_events& out);
  void emit_bbo(state& s, book_events& out, bool force);
  mi::book::book_update header(state& s, mi::book::update_kind k) const;

  std::string exchange_;
  const venue* venue_;
  book_feed_options o_;
  std::uint64_t session_;
  std::unordered_map<std::string, state> books_;        ///< by normalized symbol
  std::unordered_map<std::string, std::string> by_key_; ///< book key -> symbol
  std::vector<mi::book::wire_level> scratch_bids_, scratch_asks_;
};

/// The changes from `before` to `after` (both best first, canonical prices): levels new or with another quantity,
/// and the prices of `before` missing from `after` with quantity "0".
std::vector<mi::book::wire_level> level_changes(const std::vector<mi::book::wire_level>& before,
                                                const std::vector<mi::book::wire_level>& after);

} // namespace mi::venue
