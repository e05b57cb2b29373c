#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "messages/book/book_codec.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

/// One interface over the exchange protocols, so the connection actor and the backfill driver
/// are written once. Pure: no sockets, no clocks (callers pass now_ns), no threads. A venue object
/// is owned by one connection (it keeps a simdjson parser and heartbeat state); instruments are
/// shared.
namespace mi::venue {

/// A configured symbol resolved for one exchange.
struct subscription {
  std::string unified; ///< config form: "BTC/USDT"
  std::string symbol;  ///< normalized, what trades carry: "BTCUSDT"
  std::string base;    ///< "BTC"
  std::string quote;   ///< "USDT"
  std::string wire;    ///< the exchange's name for it in subscribe requests: "btcusdt@trade", "BTC-USDT",
                       ///< "publicTrade.BTCUSDT", "BTC-USD", "BTC/USD"
  std::string rest;    ///< the exchange's name for it in REST queries: "BTCUSDT", "BTC-USDT", "BTCUSDT",
                       ///< "BTC-USD", "XBTUSD"
  bool operator==(const subscription&) const = default;
};

/// What one received text frame meant, in exchange-neutral terms.
struct events {
  enum class kind : std::uint8_t {
    trades,           ///< `trades` holds at least one trade (a frame with none is `ignored`)
    ack,              ///< a subscription was confirmed
    error,            ///< the exchange refused something; `message` says what; `rejected` names the
                      ///< subscription's symbol (normalized, "BTCUSDT") when the refusal concerns one
    heartbeat,        ///< a pong, a heartbeat frame: proof of life only
    reconnect_notice, ///< the exchange will close this connection soon (Binance serverShutdown, OKX 64008):
                      ///< open a new one now
    ignored           ///< anything else well-formed
  } what = kind::ignored;
  std::vector<mi::trade> trades; ///< oldest first (by ts_ns, then trade id)
  /// Empty, or one per trade: the first exchange trade id the trade covers (OKX pushes one trade
  /// for `count` fills; its tradeId is the last of them). Gap detection starts from it.
  std::vector<std::int64_t> first_ids;
  std::string message;  ///< error / reconnect_notice text
  std::string rejected; ///< error: normalized symbol the refusal concerns, "" when unknown
  /// Other market data of the frame, encoded by the venue (Alpaca quotes and trading statuses, when
  /// venue_options::quotes / statuses): published as they are, after the frame's trades, whatever `what` is.
  struct side_message {
    std::string subject, msg_id, content_type, data;
  };
  std::vector<side_message> side;
};

/// An HTTP GET against the exchange's REST base URL (config `rest_url`).
struct rest_request {
  std::string target; ///< path and query, e.g. "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=101&limit=1000"
  /// Extra request headers (Alpaca's APCA-API-KEY-ID / APCA-API-SECRET-KEY): they may carry secrets, never log them.
  std::vector<std::pair<std::string, std::string>> headers{};
  bool operator==(const rest_request&) const = default;
};

/// Missing trade ids of one symbol, both ends inclusive, with the times around them (ns since the
/// epoch): the last trade received before the gap and the first one after it. Venues that page by
/// time (Kraken) use the times; the others use the ids.
struct gap {
  std::int64_t first_id = 0;
  std::int64_t last_id = 0;
  std::int64_t after_ts_ns = 0;  ///< time of trade first_id - 1 (0 if unknown)
  std::int64_t before_ts_ns = 0; ///< time of trade last_id + 1 (0 if unknown)
  std::int64_t size() const { return last_id - first_id + 1; }
  bool operator==(const gap&) const = default;
};

/// Where a book frame belongs: the instrument (venue::book_key() of its subscription) and the exchange's event time.
struct book_route {
  std::string key;        ///< "BTCUSDT" (Binance `s`), "BTC-USDT" (OKX `instId`)
  std::int64_t ts_ns = 0; ///< event time, ns since the epoch; 0 when the frame has none
};

/// One page of REST trade history.
struct history_page {
  std::vector<mi::trade> trades;    ///< only the trades asked for (inside the gap), oldest first
  std::optional<rest_request> next; ///< the request for the next page; nullopt: the gap is done (or the
                                    ///< exchange has no more: whatever is still missing cannot be filled)
};

/// An exchange's public REST rate limits (per IP), as documented by the exchange. The backfill's
/// throttle (rest_throttle) applies them; the numbers live with each venue, not in the actor.
struct rest_limits {
  /// Least time between two requests (at most 1 / this per second, below the documented rate).
  std::int64_t min_interval_ns = 1'000'000'000;
  /// Request-weight budget per calendar minute (Binance REQUEST_WEIGHT: 6000); 0: the exchange counts
  /// requests, not weight (min_interval_ns is then the whole rule).
  std::int64_t weight_per_minute = 0;
  /// Weight of one history request (Binance historicalTrades 25, aggTrades 4).
  std::int64_t request_weight = 1;
  /// Lower-case name of the response header that reports the weight used in the current minute
  /// ("x-mbx-used-weight-1m"); empty: none.
  std::string used_weight_header;
  /// An HTTP status that means "banned for a while" besides 429 (Binance 418, Bybit 403 "access too
  /// frequent"); 0: none.
  unsigned ban_status = 0;
  /// Wait after a 429 (or ban_status) that carries no usable Retry-After.
  std::int64_t default_retry_after_ns = 60'000'000'000;
};

/// An exchange's instruments response, parsed once per fetch (venue::parse_instruments) and shared,
/// read-only, by every venue object of that exchange (each connection and backfill actor owns one).
/// Each venue keeps what it needs in a derived type of its own; only the venue kind that parsed a
/// table reads it.
class instrument_table {
public:
  virtual ~instrument_table() = default;
  /// The venue that parsed it ("binance").
  virtual std::string_view venue_name() const = 0;
  /// How many instruments it lists.
  virtual std::size_t size() const = 0;
};

/// A parsed instruments table, shared.
using instruments_ptr = std::shared_ptr<const instrument_table>;

/// The exchange-specific rules.
class venue {
public:
  virtual ~venue() = default;

  /// The venue's name in the registry (messages/venue_registry.cpp): "binance", "okx", ...
  virtual std::string_view name() const = 0;

  // -- instruments --------------------------------------------------------------------------

  /// The public REST instruments request ("/api/v3/exchangeInfo", "/api/v5/public/instruments?instType=SPOT",
  /// "/v5/market/instruments-info?category=spot", "/products", "/0/public/AssetPairs").
  virtual rest_request instruments_request() const = 0;
  /// Parses the instruments response into a table to share (use_instruments). Error on an unreadable
  /// body (the venues then keep working without a listing: resolve() accepts every well-formed name).
  virtual mi::result<instruments_ptr> parse_instruments(std::string_view body) const = 0;
  /// Uses a shared table (resolve() then checks listings, decode() maps symbols with it). False, and
  /// nothing changes, when `table` is null or was parsed by another venue.
  virtual bool use_instruments(instruments_ptr table) = 0;
  /// parse_instruments, then use_instruments: how many instruments the body lists, or the error.
  mi::result<std::size_t> load_instruments(std::string_view body);
  /// "BTC/USDT" -> subscription. Error on a malformed name, or, once instruments are loaded, on a
  /// symbol the exchange does not list ("not listed by okx").
  virtual mi::result<subscription> resolve(std::string_view unified) const = 0;

  // -- WebSocket ----------------------------------------------------------------------------

  /// The most subscriptions one connection may carry (Binance 1024 streams, others: a safe number).
  virtual std::size_t max_subscriptions_per_connection() const = 0;
  /// The control messages that subscribe `subs`, batched within the exchange's limits.
  virtual std::vector<std::string> subscribe_requests(const std::vector<subscription>& subs) = 0;
  /// The control messages that unsubscribe `subs` (the watchdog's resubscribe sends these first: a
  /// second SUBSCRIBE of a live subscription is a no-op on the exchanges, or refused).
  virtual std::vector<std::string> unsubscribe_requests(const std::vector<subscription>& subs) = 0;
  /// Most control messages per second the exchange accepts on one connection (Binance 5).
  virtual int control_messages_per_second() const = 0;
  /// Decodes one text frame; error names the reason (malformed JSON, missing field, price <= 0).
  virtual mi::result<events> decode(std::string_view frame, std::int64_t recv_ns) = 0;

  /// Heartbeat. Call on_open when a connection opens, on_frame for every received frame, and
  /// ping_due on a timer (about once a second): it returns the text to send now, if any
  /// (OKX "ping" after 25 s of silence, Bybit {"op":"ping"} every 20 s, Kraken {"method":"ping"};
  /// Binance and Coinbase: never, the server pings / sends heartbeats). heartbeat_timed_out: a
  /// ping went unanswered: the connection is dead.
  virtual void on_open(std::int64_t now_ns) = 0;
  virtual void on_frame(std::int64_t now_ns) = 0;
  virtual std::optional<std::string> ping_due(std::int64_t now_ns) = 0;
  virtual bool heartbeat_timed_out(std::int64_t now_ns) const = 0;

  // -- gaps and backfill ----------------------------------------------------------------------

  /// True when trade ids are consecutive integers per symbol (Binance t / aggTrade a, OKX tradeId,
  /// Coinbase trade_id, Kraken v2 trade_id), so a jump is a gap. Bybit: false.
  virtual bool sequential_ids() const = 0;
  /// True when gaps are filled by time instead (Alpaca: ids are per market center, not one sequence): after a
  /// reconnect or restart, the first live trade of a symbol opens a gap from the last trade seen before (its time)
  /// to this one, passed to history_request() with first_id = last_id = 0 and the two times; parse_history()
  /// returns every trade of that time range (both ends included: the dedup ids absorb the two known ones).
  virtual bool backfills_by_time() const { return false; }
  /// The first REST request that fetches the trades of `g` (sequential venues), within the
  /// exchange's page limit; nullopt when the venue has no such history endpoint.
  virtual std::optional<rest_request> history_request(const subscription& s, const gap& g) const = 0;
  /// Parses one history response for `g`: the trades inside the gap, oldest first, and the next
  /// request, if more pages are needed. Error on an unreadable body or an exchange error response.
  virtual mi::result<history_page> parse_history(const subscription& s, const gap& g, std::string_view body) = 0;
  /// Venues without sequential ids (Bybit): the request for the most recent trades, fetched after
  /// every (re)connect and periodically; nullopt for the others.
  virtual std::optional<rest_request> recent_request(const subscription& s) const = 0;
  /// Parses a recent_request response, oldest first.
  virtual mi::result<std::vector<mi::trade>> parse_recent(const subscription& s, std::string_view body) = 0;
  /// The exchange's documented public REST limits, as the backfill paces itself by them.
  virtual rest_limits limits() const = 0;
  /// A new order-book codec and sync state machine for one symbol's book channel (connectors/<venue>/book.*;
  /// the `book` command; docs/protocols.md "Order books"). `subscribed_depth`: the depth given to
  /// book_subscribe_requests() (a venue that keeps the book at the subscribed depth, Kraken, truncates to what that
  /// request asked for, not to the size of the first snapshot, which may be thinner); 0: unknown (recorded frames).
  virtual std::unique_ptr<mi::book::book_codec> make_book_codec(std::size_t subscribed_depth) const = 0;

  // -- order-book channel (config exchanges.<x>.books; actors/connection.cpp, venue::book_feed) --------------

  /// True when the venue can carry live books on its connection (subscribe, route frames, resync).
  virtual bool supports_books() const { return false; }
  /// The control messages that subscribe the book channel of `subs` at `depth` levels (the nearest depth the
  /// exchange offers at or above it).
  virtual std::vector<std::string> book_subscribe_requests(const std::vector<subscription>& subs, std::size_t depth) {
    (void)subs;
    (void)depth;
    return {};
  }
  /// The control messages that unsubscribe it (a resync of a venue whose snapshot comes on subscribe: OKX).
  virtual std::vector<std::string> book_unsubscribe_requests(const std::vector<subscription>& subs, std::size_t depth) {
    (void)subs;
    (void)depth;
    return {};
  }
  /// A book frame's route: the instrument as book_key() names it and the exchange's event time (0: none);
  /// nullopt when `frame` is not a book frame (trades, acks, heartbeats go to decode()).
  virtual std::optional<book_route> book_frame(std::string_view frame) {
    (void)frame;
    return std::nullopt;
  }
  /// The instrument name book_frame() reports for `s` ("BTCUSDT" on Binance, "BTC-USDT" on OKX).
  virtual std::string book_key(const subscription& s) const { return s.symbol; }
  /// The codec book_feed keeps per symbol on a live connection; make_book_codec() unless the venue checks a sequence
  /// of the whole connection (Coinbase: connection_sequence_break() checks it, the codec of one product cannot).
  virtual std::unique_ptr<mi::book::book_codec> make_live_book_codec(std::size_t subscribed_depth) const {
    return make_book_codec(subscribed_depth);
  }
  /// Venues that number every message of a connection (Coinbase Advanced Trade `sequence_num`: trades, heartbeats,
  /// subscriptions and level2 alike): given every text frame of the active connection in order (on_open starts
  /// again), it returns why messages were lost before this one ("sequence gap: sequence_num 12 after 10"): any book
  /// of the connection may have missed an update, so every one is resynced (book_feed::resync_all). nullopt: in
  /// order, or the venue has no such sequence.
  virtual std::optional<std::string> connection_sequence_break(std::string_view frame) {
    (void)frame;
    return std::nullopt;
  }
  /// Venues whose book starts from a REST snapshot (Binance /api/v3/depth): the request; nullopt for the venues
  /// whose snapshot comes on the WebSocket (a resync there resubscribes the channel).
  virtual std::optional<rest_request> book_snapshot_request(const subscription& s, std::size_t depth) const {
    (void)s;
    (void)depth;
    return std::nullopt;
  }
  /// Least time between two REST requests to this exchange, within its public rate limits.
  std::int64_t rest_min_interval_ns() const { return limits().min_interval_ns; }
};

/// Options a venue takes from the exchange's config section.
struct venue_options {
  bool binance_agg_trade = false; ///< binance: the aggTrade stream instead of trade
  /// Venues that authenticate (Alpaca): the API key id and secret, from the environment (MI_<VENUE>_KEY_ID,
  /// MI_<VENUE>_SECRET_KEY), never from a config file, never logged.
  std::string key_id{};
  std::string secret_key{};
  /// Equities feeds (config exchanges.<x>.quotes / statuses): subscribe and publish quotes / trading statuses.
  bool quotes = false;
  bool statuses = true;
};

/// The venue of `exchange` (a name of the venue registry, messages/venue_registry.cpp, whose folder
/// connectors/<name>/ registers its adapter with mi_add_venue()); error naming the known ones otherwise.
mi::result<std::unique_ptr<venue>> make_venue(std::string_view exchange, const venue_options& o = {});

/// make_venue, then use_instruments(instruments) unless it is null (each connection and backfill
/// actor owns its venue; the instruments response is fetched and parsed once at start, and the
/// table shared). A table of another venue is an error naming both.
mi::result<std::unique_ptr<venue>> make_venue(std::string_view exchange, const venue_options& o,
                                              instruments_ptr instruments);

/// The venue registry's names (mi::venue_names()), in its order.
const std::vector<std::string>& exchange_names();

/// Seeding gap detection after a restart. The last message stored on a symbol's subject is normally its
/// newest live trade, whose id is the highest stored; but the backfill publishes older ids after the live
/// trade that revealed their gap, so the last message can be a backfilled one. Such a message was stored
/// well after its trade happened: then the subject is read from `seed_scan_margin_ns` before that trade's
/// time (the live trades with higher ids were all stored after it, give or take clock skew) and the highest
/// id read is the seed. Returns the time (ns since the epoch, server store time) to read from, or nullopt
/// when the last message was stored within `seed_live_lag_ns` of its trade time (a live one: its id is
/// the seed).
std::optional<std::int64_t> seed_scan_from(std::int64_t trade_ts_ns, std::int64_t stored_ns);
constexpr std::int64_t seed_live_lag_ns = 5'000'000'000;     ///< a live trade is stored within 5 s
constexpr std::int64_t seed_scan_margin_ns = 60'000'000'000; ///< exchange vs NATS server clock skew

/// Gap detection for one connection's symbols (sequential venues). Pure.
class gap_tracker {
public:
  /// Remembers the last id of `symbol` (e.g. the last trade stored before a restart). Ignored
  /// when a higher id is already known.
  void seed(const std::string& symbol, std::int64_t last_id, std::int64_t last_ts_ns);
  /// Feeds a live trade (numeric id). Returns the gap between the last id seen and this one, if
  /// any; an id at or below the last seen one (a duplicate or a backfilled trade) returns nullopt
  /// and changes nothing.
  std::optional<gap> on_trade(const std::string& symbol, std::int64_t id, std::int64_t ts_ns);
  /// The same for a push that aggregates the fills `first_id`..`id` (OKX `count` > 1): only ids
  /// before `first_id` can be missing.
  std::optional<gap> on_trade(const std::string& symbol, std::int64_t id, std::int64_t ts_ns, std::int64_t first_id);
  /// The last id seen for `symbol`, if any.
  std::optional<std::int64_t> last_id(const std::string& symbol) const;

private:
  struct last {
    std::int64_t id = 0;
    std::int64_t ts_ns = 0;
  };
  std::unordered_map<std::string, last> last_;
};

/// Gaps seen while two connections carrying the same symbols overlap (a planned rotation, a forced-
/// disconnect notice). Both streams feed one gap_tracker and interleave: the new connection's first
/// trades can be handled before trades the old one has already received, which then look missing. Such
/// a gap is held until the overlap ends; ids that arrive meanwhile (on either connection) are struck
/// off, and only what is still missing then is a gap to backfill. Pure.
class deferred_gaps {
public:
  /// Larger gaps are not held (hold() returns false: backfill them at once).
  static constexpr std::int64_t max_held_ids = 100'000;

  /// Holds `g` of `symbol` until release(); false when it is too large to hold.
  bool hold(const std::string& symbol, const gap& g);
  /// Trade ids first_id..id of `symbol` arrived (one trade, or an OKX push aggregating fills).
  void on_trade(const std::string& symbol, std::int64_t first_id, std::int64_t id);
  /// The overlap is over: the ids still missing, as contiguous gaps (each keeps its held gap's
  /// neighbour times), oldest first per held gap; nothing is held afterwards.
  std::vector<std::pair<std::string, gap>> release();
  bool empty() const { return held_.empty(); }

private:
  struct held {
    std::string symbol;
    gap g;
    std::vector<bool> got; // id - g.first_id -> arrived
  };
  std::vector<held> held_;
};

} // namespace mi::venue
