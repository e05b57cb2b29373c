#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/kline.hpp"
#include "messages/kline/interval.hpp"
#include "messages/kline/session_mapper.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"
#include "messages/trade_admission.hpp"

namespace mi::kline_engine {

/// How windows are built and closed.
struct options {
  std::vector<interval> intervals;      ///< e.g. {1m}
  std::int64_t grace_ms = 2000;         ///< a window closes when time passes its end + grace
  std::int64_t partial_every_ms = 1000; ///< live partial updates at most this often (0 = every trade)
  bool revise_late = true;              ///< a trade for a final window revises it (revision + 1); else dropped
  std::size_t keep_finals = 16;         ///< closed windows kept per interval for revisions
  bool fill_empty = false;              ///< emit windows without trades (OHLC = previous close, volume 0)
  std::size_t dedup_ids = 1024;         ///< recent trade ids per symbol ignored when seen again (0 = off)
  /// A trade stamped more than this after its receive time (recv_ns, when set) is skipped and
  /// reported as clock_skew: it neither opens a window nor moves the watermark (0 = off).
  std::int64_t max_clock_skew_ms = 300'000;
};

/// What a restarted engine needs to continue one symbol exactly (stored durably by the
/// platform after every final it published was acked): where to resume, and what a late trade
/// needs to revise a final (the kept finals and the recent trade ids), so that a restart or a
/// passivation changes nothing a late trade does.
struct checkpoint {
  /// A final kept for revisions (options::keep_finals per interval).
  struct kept_final {
    std::int64_t open_ms = 0;
    std::uint32_t revision = 0;
    std::uint64_t count = 0;
    std::uint64_t last_seq = 0; ///< newest stream sequence in it: a replayed trade up to it is not added again
    std::int64_t first_ts = 0;  ///< ns
    std::string first_id;
    std::int64_t last_ts = 0; ///< ns
    std::string last_id;
    decimal open, high, low, close, volume, quote_volume, taker_buy_volume, taker_buy_quote_volume;
    friend bool operator==(const kept_final&, const kept_final&) = default;
  };
  struct per_interval {
    std::string interval;
    std::uint64_t resume_seq = 1; ///< trades with a lower stream sequence are already in finals
    std::int64_t last_final_open_ms = std::numeric_limits<std::int64_t>::min();
    std::string last_close;         ///< close of the last final ("" if none): the price of filled windows
    std::vector<kept_final> finals; ///< oldest first
  };
  /// The recent trade ids (dedup) of trades before min_resume_seq(), oldest first: increasing id
  /// numbers, or 64-bit hashes once the ids came out of order (`hashed`). The replay from
  /// min_resume_seq() adds the newer ones again. Like the ring itself this is approximate at its
  /// edge: a duplicate of an id the ring had forgotten by the time of the checkpoint (more than
  /// options::dedup_ids distinct ids back) is counted, with or without a restart.
  struct recent_ids {
    bool hashed = false;
    std::vector<std::uint64_t> values;
  };
  std::int64_t watermark_ms = std::numeric_limits<std::int64_t>::min(); ///< newest trade time seen
  std::vector<per_interval> intervals;
  recent_ids recent;
  /// Stream sequences from min_resume_seq() on of trades rejected because a sum would overflow (a
  /// decision that depends on the windows' state then): a replay rejects them again (at most 1024).
  std::vector<std::uint64_t> rejected_seqs;

  /// Compact text: "w=<ms>;1m=<resume>,<last_final>[,<last_close>];5m=...;f:1m=<final>|<final>;r=<ids>"
  /// (ms may be "-" for none). A final is "open_ms,revision,count,last_seq,first_ts,first_id,last_ts,
  /// last_id,open,high,low,close,volume,quote_volume,taker_buy_volume,taker_buy_quote_volume" (ids
  /// percent-encoded); ids are "s:<a>-<b>,<c>,..." (runs of consecutive numbers) or "h:" and 11
  /// base64url characters per hash. Text of the earlier format (no f: and r) still decodes.
  std::string encode() const;
  static mi::result<checkpoint> decode(std::string_view text);
  /// Lowest resume sequence over the intervals (where a replay must start for this symbol).
  std::uint64_t min_resume_seq() const;
};

/// Counts of what `add` did with one trade, over the configured intervals.
struct add_result {
  int accepted = 0;       ///< intervals whose open window took the trade
  int late = 0;           ///< intervals where the trade's window was already final and it was dropped
  int revised = 0;        ///< intervals where it revised a final (a corrected final follows)
  int replayed = 0;       ///< intervals where the trade was already covered by a restored checkpoint
  bool duplicate = false; ///< the same trade id was seen recently: ignored
  /// Not none: the trade was skipped (no window, no watermark): unrepresentable (a sum or the
  /// notional would overflow 128 bits) or clock_skew (options::max_clock_skew_ms).
  mi::reject_reason rejected = mi::reject_reason::none;
  /// Not none: the symbol's market was closed at the trade's time (pre/post market, lunch break, holiday, ...) or
  /// its calendar has no data for that date; the trade was skipped like a rejected one (no window, no watermark).
  outside outside_session = outside::none;
};

/// What symbol_windows::amend did, over the configured intervals.
struct amend_result {
  int revised = 0;  ///< finals replaced by the amended aggregation (a corrected final, revision + 1, follows)
  int replaced = 0; ///< open windows replaced (their next partial and final carry the amended values)
  int too_late = 0; ///< the window is neither open nor among the kept finals: not revised (like a late trade)
  int replayed = 0; ///< the amendment was already applied (a restart's replay)
};

/// The open windows of one (exchange, symbol) for every configured interval, keyed by the
/// exchange's trade time. Pure: no clock, no I/O. Open and close are the first and last
/// trade by (time, trade id), not by arrival, so the result does not depend on arrival order
/// within the grace period.
///
///   trade ──add──► window(open_of(ts)) ──watermark ≥ end+grace──► final (exactly once)
///                       │                └─wall clock ≥ end+grace─┘
///                       └──take_partials (rate-limited, is_final=false)
class symbol_windows {
public:
  /// `sessions`: the calendar of the symbol's market (it must outlive this object); nullptr or an always-open
  /// calendar (CRYPTO): windows are aligned to UTC (interval::open_of), as before calendars existed.
  symbol_windows(std::string exchange, std::string symbol, const options& opts, const checkpoint* restored = nullptr,
                 const mi::calendar::calendar* sessions = nullptr);
  // Lanes point into their own maps: a copy would share those pointers, a move keeps them valid.
  symbol_windows(const symbol_windows&) = delete;
  symbol_windows& operator=(const symbol_windows&) = delete;
  symbol_windows(symbol_windows&&) = default;
  symbol_windows& operator=(symbol_windows&&) = default;

  /// Adds one trade; `seq` is its position in the input (JetStream stream sequence), increasing.
  /// Never aborts: a trade whose amounts cannot be summed exactly, or stamped beyond the clock
  /// skew, is skipped whole (no interval takes it) and reported in `rejected`.
  add_result add(const mi::trade& t, std::uint64_t seq);
  /// Forgets a watermark beyond `max_ms` (a restored checkpoint frozen by a far-future trade of
  /// an earlier version): the next trade sets it again; finals already published stay final.
  void clamp_watermark(std::int64_t max_ms);
  std::int64_t watermark_ms() const { return watermark_ms_; }
  /// Appends finals of every window whose end + grace <= the newest trade time seen, and
  /// corrected finals (revision + 1) of finals that late trades changed.
  void close_by_event_time(std::vector<mi::kline>& finals);
  /// Appends finals of every window whose end + grace <= now_ms (a quiet symbol).
  void close_by_wall_clock(std::int64_t now_ms, std::vector<mi::kline>& finals);
  /// Appends finals of every open window (end of input).
  void close_all(std::vector<mi::kline>& finals);
  /// Appends live (is_final = false) candles of windows changed since their last partial,
  /// for intervals whose last partial is at least partial_every_ms before now_ms.
  void take_partials(std::int64_t now_ms, std::vector<mi::kline>& partials);

  /// Amendments (Alpaca corrections and cancels, trade::is_amendment; docs/architecture.md "Trade amendments"): the
  /// amendment at stream sequence `seq` changed the trade stamped `amended_ts_ns`; `rebuilt` aggregated the symbol's
  /// trades as amended (rebuild_for_amendment). In every interval the window holding that time takes the values of
  /// the same window of `rebuilt`: an open window in place, a kept final with revision + 1 (published by the next
  /// close_by_event_time, as a late trade's revision is). A window `rebuilt` lacks (its only trade was canceled)
  /// keeps its prices with zero volume and count. Nothing is done where the window is gone (too_late) or where
  /// `seq` was already applied (replayed).
  amend_result amend(const symbol_windows& rebuilt, std::int64_t amended_ts_ns, std::uint64_t seq);
  /// A final of `interval` opening at `open_ms` was published with revision `published` and other values than this
  /// one's (a stage before a takeover or a restart closed it by the wall clock and did not live to revise it): the
  /// stream's dedup id `{..}:{open}:{revision}` kept that copy. The kept final takes a revision above it
  /// (max(own, published + 1)) and is due again (the next close_by_event_time appends it). False when the window is
  /// no longer kept (nothing can be corrected here).
  bool supersede(std::string_view interval, std::int64_t open_ms, std::uint32_t published);
  /// The earliest open time (ms) over the intervals of the windows holding `ts_ns` (nullopt: outside the sessions).
  std::optional<std::int64_t> earliest_window_open(std::int64_t ts_ns) const;

  /// Aggregates on `sessions` from now on (a refreshed calendar of the same market, which must outlive this object;
  /// nullptr or always open: UTC). Taken only between sessions, when no window of an interval of a day or shorter is
  /// open: false and nothing changed otherwise (the caller tries again after the next close). Kept finals keep their
  /// bounds; an open 3d/1w/1M window keeps the bounds it opened with, and the windows after it follow `sessions`.
  bool set_sessions(const mi::calendar::calendar* sessions);

  /// The earliest wall-clock time (ms) at which an open window closes, if any is open.
  std::optional<std::int64_t> next_close_ms() const;
  /// The state to store so that a restart continues exactly.
  checkpoint current_checkpoint() const;
  std::size_t open_windows() const;
  const std::string& exchange() const { return exchange_; }
  const std::string& symbol() const { return symbol_; }

private:
  /// A trade id in the form the hot path compares and copies cheaply: a canonical decimal id
  /// ("0" or no leading zero, within int64: mi::trade_id_number) is kept as its number, anything else as text.
  struct id_key {
    std::uint64_t num = 0;
    bool numeric = false; ///< `num` holds the id; `text` is unused
    std::string text;
    /// From a trade: its id_number (read once where it was decoded), never the text again.
    static id_key of(const mi::trade& t);
    /// From an id's text (a restored checkpoint).
    static id_key of(std::string_view id);
    static id_key of(std::string_view id, std::optional<std::int64_t> number);
    std::string str() const;
  };
  /// A running sum as a raw mantissa at the largest scale added so far: normalized once, when
  /// a candle is built, instead of after every addition.
  struct sum {
    decimal::mantissa_type m = 0;
    int scale = 0;
    decimal value() const;
  };
  /// What `add` computes once per trade for every interval.
  struct prepared {
    const mi::trade& t;
    id_key id;
    std::uint64_t seq = 0;
    decimal::mantissa_type notional_m = 0; ///< price * quantity, not normalized
    int notional_scale = 0;
  };
  /// The four running sums of a window.
  struct sums {
    sum volume;
    sum quote_volume;
    sum taker_buy_volume;
    sum taker_buy_quote_volume;
  };
  struct window {
    std::int64_t open_ms = 0;
    std::int64_t next_open_ms = 0;
    std::int64_t first_ts = 0;
    id_key first_id;
    decimal open;
    std::int64_t last_ts = 0;
    id_key last_id;
    decimal close;
    decimal high;
    decimal low;
    sums totals;
    std::uint64_t count = 0;
    std::uint64_t first_seq = 0;
    std::uint64_t last_seq = 0; ///< newest sequence applied (a final restored from a checkpoint skips up to it)
    std::uint32_t revision = 0;
    bool dirty = false;
  };
  struct lane {
    interval iv;
    std::map<std::int64_t, window> open; ///< by open time
    window* hot = nullptr;               ///< the open window the last trade went to (a node of `open`)
    std::uint64_t open_min_seq = 0;      ///< lowest first_seq of the windows in `open` (if any)
    std::uint64_t resume_seq = 1;
    std::int64_t last_final_open_ms = std::numeric_limits<std::int64_t>::min();
    std::int64_t last_partial_ms = std::numeric_limits<std::int64_t>::min();
    std::map<std::int64_t, window> finals; ///< the last keep_finals closed windows, for revisions
    bool finals_dirty = false;             ///< some window in `finals` was revised since the last close
    decimal last_close;                    ///< of the last final, for filled windows
    bool has_last_close = false;
  };
  /// The last `capacity` distinct trade ids of one symbol (dedup). While every id is numeric and
  /// larger than the one before (the usual feed), the ring holds the numbers in increasing order:
  /// a new id costs one comparison, an older one a binary search. The first id out of that
  /// order (or not numeric) switches to hashes in an open-addressing set beside the ring.
  class recent_ids {
  public:
    explicit recent_ids(std::size_t capacity) : capacity_(capacity) {}
    /// True if the id is among the recent ones; otherwise records it (with the stream sequence of
    /// its trade), forgetting the oldest.
    bool seen_or_insert(const id_key& id, std::string_view text, std::uint64_t seq);
    bool enabled() const { return capacity_ > 0; }
    /// The ids of trades with a sequence below `seq`, oldest first (a replay from `seq` adds the rest).
    checkpoint::recent_ids export_before(std::uint64_t seq) const;
    /// Replaces the content with restored ids (their sequences count as 0: before any replay).
    void restore(const checkpoint::recent_ids& r);

  private:
    static std::uint64_t hash_of(const id_key& id, std::string_view text);
    std::uint64_t newest() const { return ring_[(next_ + ring_.size() - 1) % ring_.size()]; }
    bool contains_sorted(std::uint64_t v) const;
    void to_hashed();
    bool seen_or_insert_hash(std::uint64_t h, std::uint64_t seq);
    std::size_t slot_of(std::uint64_t h) const;
    void erase(std::uint64_t h);
    void grow();
    std::size_t capacity_;
    bool sorted_ = true;               ///< ring_ holds increasing id numbers, not hashes
    std::vector<std::uint64_t> ring_;  ///< in insertion order; once full, the oldest is overwritten
    std::vector<std::uint64_t> seqs_;  ///< the stream sequence of each ring_ entry (same positions)
    std::vector<std::uint64_t> table_; ///< hashed mode: linear probing, power of two >= 2 * ring_.size(); 0 = empty
    std::size_t next_ = 0;             ///< the oldest entry of ring_ once full (0 until then)
  };

  mi::kline to_kline(const lane& l, const window& w, bool final) const;
  /// The open time of the window of `l` holding `ts_ns` (nullopt: outside the sessions).
  std::optional<std::int64_t> window_open_of(const lane& l, std::int64_t ts_ns) const;
  /// The window of lane `i` opening at `open_ms`, open or kept final (nullptr: none).
  const window* find_window(std::size_t i, std::int64_t open_ms) const;
  /// The window after the one opening at `open_ms`; nullopt beyond the calendar's data.
  std::optional<window_span> span_after(const lane& l, std::int64_t open_ms) const;
  /// Appends empty windows after the last final, up to (excluding) the one opening at `until_open`.
  void fill_until(lane& l, std::int64_t until_open, std::vector<mi::kline>& finals);
  /// The window's sums with the trade added into `out`; false (and `out` unusable) on overflow.
  static bool add_sums(const window& w, const prepared& p, sums& out);
  /// Adds the trade to `s`; false on overflow (then some of the four sums may have it: undo).
  static bool add_sums_in_place(sums& s, const prepared& p);
  /// Adds the trade to the window's first/last/high/low/count (its sums are set by the caller).
  static void apply(window& w, const prepared& p);
  void finalize(lane& l, std::int64_t until_ms, std::vector<mi::kline>& finals);
  /// Remembers a trade rejected for a sum overflow (a replay rejects it again).
  void note_rejected(std::uint64_t seq);

  std::string exchange_;
  std::string symbol_;
  const options* opts_;
  std::vector<lane> lanes_;
  std::optional<session_mapper> sessions_; ///< markets with sessions only (not crypto)
  std::int64_t watermark_ms_ = std::numeric_limits<std::int64_t>::min();
  std::uint64_t last_seq_ = 0;
  recent_ids recent_;
  /// What add() does in each lane, decided for all lanes before any is changed (a trade is taken
  /// whole or not at all). Scratch space reused by every add().
  struct plan {
    enum class kind : std::uint8_t { skip, hot, open, create, revise } what = kind::skip;
    window* w = nullptr;
    std::int64_t open_ms = 0;
    std::int64_t next_ms = 0;
    sums totals;
  };
  std::vector<plan> plans_;
  std::vector<std::uint64_t> rejected_seqs_; ///< see checkpoint::rejected_seqs; increasing
};

/// The symbol's trades re-aggregated for an amendment (the kline stage reads them back from MARKET_RAW).
struct amendment_rebuild {
  std::optional<std::int64_t> amended_ts_ns; ///< the amended trade's time; nullopt: it is not in the history
  std::unique_ptr<options> opts;             ///< the options `windows` aggregates with (it points to them)
  std::unique_ptr<symbol_windows> windows;   ///< the amended history aggregated (every window kept)
};

/// `history`: the symbol's messages (trades and amendments) in stream order with their sequences, all before
/// `amendment`'s. The amendments among them and then `amendment` are applied in order: a correction gives the trade
/// it amends (by its id, or by the id of an earlier correction of it) the corrected price, quantity and conditions
/// (its id, time and side stay); a cancel removes it; an amendment of a trade not in the history changes nothing.
/// The remaining trades are aggregated with `opts` (every window kept, nothing filled) on `sessions` in their order.
amendment_rebuild rebuild_for_amendment(const std::string& exchange, const std::string& symbol, const options& opts,
                                        const mi::calendar::calendar* sessions,
                                        const std::vector<std::pair<mi::trade, std::uint64_t>>& history,
                                        const mi::trade& amendment);

/// The `aggregate` command: every final kline of a sequence of trades, in the order the
/// windows closed (per symbol, by interval then open time).
class batch_aggregator {
public:
  /// `sessions`: the calendar every symbol aggregates on (`aggregate --calendar XSHG`); nullptr: UTC (crypto).
  explicit batch_aggregator(options opts, const mi::calendar::calendar* sessions = nullptr)
      : opts_(std::move(opts)), sessions_(sessions) {}
  /// Each exchange's calendar from `sessions_of(exchange)` (nullptr: UTC), as the kline stage chooses it (`replay`).
  batch_aggregator(options opts, std::function<const mi::calendar::calendar*(const std::string&)> sessions_of)
      : opts_(std::move(opts)), sessions_of_(std::move(sessions_of)) {}
  /// Feeds one trade; finals closed by event time are appended to `finals`. A rejected trade
  /// (add_result::rejected) changes nothing; the other trades go on.
  add_result add(const mi::trade& t, std::vector<mi::kline>& finals);
  /// Closes every remaining window.
  void finish(std::vector<mi::kline>& finals);

private:
  options opts_;
  const mi::calendar::calendar* sessions_ = nullptr;
  std::function<const mi::calendar::calendar*(const std::string&)> sessions_of_;
  std::map<std::pair<std::string, std::string>, symbol_windows> symbols_;
  std::uint64_t seq_ = 0;
};

} // namespace mi::kline_engine
