#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/kraken/instruments.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::kraken {

/// What one received text frame meant.
struct frame_events {
  /// trades: a v2 trade frame (snapshot or update) or a v1 trade array; ack: a successful (un)subscribe
  /// response (v2) or subscriptionStatus (v1); error: success:false (v2), subscriptionStatus error / error event (v1);
  /// heartbeat: {"channel":"heartbeat"}, {"event":"heartbeat"}, pongs; ignored: anything else well-formed
  /// (status, systemStatus, other channels, our own requests).
  enum class kind : std::uint8_t { trades, ack, error, heartbeat, ignored } what = kind::ignored;
  std::vector<mi::trade> trades; ///< oldest first (by ts_ns, then trade id; v1: then position in the frame)
  std::string error_message;     ///< for kind::error: "Currency pair not supported XBT/USD"
};

/// Decodes Kraken frames of both WebSocket APIs, telling them apart per frame: v2 objects
/// (`{"channel":"trade","data":[...]}`) and v1 arrays (`[channelID, [[price, volume, time, side, type, misc], ...],
/// "trade", "XBT/USD"]`, still found in recorded data). v2 prices and quantities are JSON numbers: their lexeme is
/// parsed exactly (never through double), so 40.0 gives "40". XBT -> BTC, XDG -> DOGE.
///
/// v1 sends no trade id. The codec synthesizes one, deterministic for a given frame:
/// "{ts_ns}-{b|s}-{price}-{volume}-{position of the trade in the frame, from 0}", e.g.
/// "1618678150826417000-s-354.04-0.28245396-0". Distinct trades of one frame always get distinct ids; two frames
/// can only collide on an identical microsecond, side, price, volume and position.
/// Reuses one simdjson parser (one codec per thread). Never throws.
class codec {
public:
  codec();
  ~codec();
  codec(codec&&) noexcept;
  codec& operator=(codec&&) noexcept;
  codec(const codec&) = delete;
  codec& operator=(const codec&) = delete;

  /// recv_ns is stamped by the caller (no clock inside). Malformed frame / missing field / price or qty <= 0 /
  /// bad time -> error naming the reason ("data[0]: missing field 'qty'", "price must be > 0", "not JSON", ...).
  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// v2: {"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD",...]}} (symbols in v2 form).
std::string subscribe_request(const std::vector<std::string>& symbols);
/// v2: {"method":"unsubscribe","params":{"channel":"trade","symbol":[...]}}.
std::string unsubscribe_request(const std::vector<std::string>& symbols);

/// v1 (recorded-data era): {"event":"subscribe","pair":["XBT/USD",...],"subscription":{"name":"trade"}}.
std::string v1_subscribe_request(const std::vector<std::string>& v1_pairs);

/// Simulator side: one trade as a v2 update frame:
/// {"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":P,"qty":Q,"ord_type":"market",
/// "trade_id":N,"timestamp":T}]}. price/qty are JSON numbers printed as decimal::to_string(); the trade id is printed
/// as a number (a non-numeric id prints 0); T = ts_ns exactly (RFC 3339). decode(encode(t)) == t when the id is
/// numeric, the side known and symbol == base + quote.
std::string encode_trade_frame(const mi::trade& t);

} // namespace mi::kraken
