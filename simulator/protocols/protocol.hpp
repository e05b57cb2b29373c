#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/trade.hpp"
#include "simulator/market.hpp"

namespace mi::sim {

/// One trade subscription of a connection: a normalized symbol and a protocol-defined stream kind
/// (Binance: 0 = @trade, 1 = @aggTrade; every other exchange: 0).
struct sub_key {
  std::string symbol;
  int kind = 0;
  friend auto operator<=>(const sub_key&, const sub_key&) = default;
};

/// The sub_key kind of an order-book subscription (every protocol that speaks books uses it; trade kinds are 0, 1).
inline constexpr int book_kind = 2;

/// Per-connection protocol state; each protocol derives its own.
struct connection_state {
  virtual ~connection_state() = default;
};

/// What the simulator does after a client frame (or a WebSocket handshake).
struct actions {
  std::vector<std::string> frames;      ///< sent in this order, before any trade of `subscribe`
  std::vector<sub_key> subscribe;       ///< trade subscriptions to add
  std::vector<sub_key> unsubscribe;     ///< trade subscriptions to remove
  std::uint64_t subscribe_requests = 0; ///< counted in stats::subscribes
};

/// A plain HTTP answer.
struct http_reply {
  unsigned status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< extra headers (Coinbase's CB-AFTER)
};

/// A query string, decoded (`a=1&b=x` -> {a:1, b:x}; the last of repeated keys wins).
using query_params = std::map<std::string, std::string, std::less<>>;

/// Parses the part of a target after '?'. Percent-escapes and '+' are decoded.
query_params parse_query(std::string_view query);

/// One exchange's protocol, server side: what the simulator says on a WebSocket and over REST.
/// Pure text in, text out; the simulator (simulator.cpp) owns sockets, timers, subscriptions and faults.
/// All calls happen on the simulator's strand.
class protocol {
public:
  virtual ~protocol() = default;

  /// A WebSocket upgrade request for `path`: the connection's state, with `initial` filled with what to send
  /// (and subscribe) at once; nullptr when the upgrade is refused with `refusal` (e.g. 404: no WebSocket here).
  virtual std::unique_ptr<connection_state> open(std::string_view path, const query_params& q, actions& initial,
                                                 http_reply& refusal) = 0;
  /// One client text frame. Malformed input is answered with the exchange's error frame, never thrown.
  virtual void on_text(connection_state& c, std::string_view text, actions& out) = 0;
  /// One trade for a connection subscribed to it with `kind`.
  virtual std::string trade_frame(connection_state& c, const mi::trade& t, int kind) = 0;
  /// A trade frame of `symbol` that the exchange's client must reject (fault injection).
  virtual std::string malformed_trade_frame(connection_state& c, std::string_view symbol, int kind) = 0;
  /// Called every second: the heartbeat frame this connection gets now, if any.
  virtual std::optional<std::string> heartbeat(connection_state&) { return std::nullopt; }
  /// Resolution of the exchange's trade times, in ns: 1'000'000 (ms: Binance, OKX, Bybit) or 1000 (µs: Coinbase,
  /// Kraken, whose generated trades of one symbol then get distinct, increasing times, as their REST paging needs).
  virtual std::int64_t time_resolution_ns() const { return 1'000'000; }
  /// A connection to which nothing was pushed for this long is closed (OKX: 30 s); 0: never.
  virtual std::chrono::milliseconds idle_close_after() const { return std::chrono::milliseconds(0); }
  /// True when the exchange has a "this connection will be closed soon" frame.
  virtual bool supports_notice() const { return false; }
  /// That frame (only called when supports_notice()).
  virtual std::optional<std::string> notice(connection_state&) { return std::nullopt; }
  /// True when the protocol speaks the exchange's order-book channel (subscriptions with kind book_kind).
  virtual bool supports_books() const { return false; }
  /// The frame a new book subscription gets first (OKX: the snapshot); nullopt when the snapshot comes from REST
  /// (Binance /api/v3/depth).
  virtual std::optional<std::string> book_snapshot_frame(connection_state&, std::string_view symbol, const sim_book&) {
    (void)symbol;
    return std::nullopt;
  }
  /// One book update `u` of `symbol` (already applied to `book`); `corrupt_checksum`: the checksum fault (a wrong,
  /// non-zero checksum where the exchange sends one).
  virtual std::string book_update_frame(connection_state&, std::string_view symbol, const sim_book& book,
                                        const sim_book_update& u, bool corrupt_checksum) {
    (void)symbol;
    (void)book;
    (void)u;
    (void)corrupt_checksum;
    return {};
  }
  /// The book skip fault hid update `u` of `symbol` from this subscriber: a venue that numbers every message of a
  /// connection (Coinbase sequence_num) skips the number the lost message would have had.
  virtual void book_update_lost(connection_state&, std::string_view symbol) { (void)symbol; }
  /// A plain HTTP GET; nullopt: not an endpoint of this exchange (HTTP 404).
  virtual std::optional<http_reply> rest(std::string_view path, const query_params& q) = 0;
};

/// A decimal unsigned integer (1 to 19 digits, nothing else); nullopt otherwise.
std::optional<std::uint64_t> parse_uint(std::string_view s);

/// Exchanges the simulator speaks: the venues of the registry (messages/venue_registry.cpp) with a protocol, in the
/// registry's order (binance, okx, bybit, coinbase, kraken).
const std::vector<std::string_view>& supported_exchanges();

/// The protocol of `exchange` over `m` (not owned, must outlive it); nullptr for an unsupported name.
std::unique_ptr<protocol> make_protocol(std::string_view exchange, const market& m);

/// One venue's server side: `make_<name>_protocol`, defined in protocols/<name>.cpp.
struct registered_protocol {
  std::string_view name;
  std::unique_ptr<protocol> (*make)(const market& m);
};

/// Every venue's protocol, one per mi_add_venue(); generated by simulator/CMakeLists.txt (registered_protocols.cpp
/// in the build tree).
const std::vector<registered_protocol>& registered_protocols();

/// Wall clock now in ns since the epoch (µs precision; for the time_in/time_out/timestamp fields).
std::int64_t wall_ns();
/// "2026-11-22T07:00:00.123456Z": RFC 3339 with exactly 6 fraction digits.
std::string rfc3339_micros(std::int64_t ns);

} // namespace mi::sim
