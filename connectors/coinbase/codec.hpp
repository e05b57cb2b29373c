#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/coinbase/instruments.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::coinbase {

/// What one received text frame meant.
struct frame_events {
  /// trades: a market_trades frame (snapshot or update, possibly empty) or a legacy match/last_match;
  /// ack: a subscriptions frame; error: {"type":"error",...}; heartbeat: the heartbeats channel (legacy: "heartbeat");
  /// ignored: anything else well-formed (ticker, level2, candles, our own requests, ...).
  enum class kind : std::uint8_t { trades, ack, error, heartbeat, ignored } what = kind::ignored;
  std::vector<mi::trade> trades; ///< oldest first (by ts_ns, then trade id); Coinbase sends newest first
  std::string error_message;     ///< for kind::error: "Failed to subscribe: Invalid product ID provided"
};

/// Decodes Coinbase frames of both feeds, telling them apart per frame: Advanced Trade
/// (`{"channel":...}`: market_trades, subscriptions, heartbeats) and the legacy Exchange feed
/// (`{"type":...}`: match, last_match, subscriptions, heartbeat, error), still found in recorded data.
/// Both feeds' `side` is the maker's side: the published taker_side is its opposite.
/// Reuses one simdjson parser (one codec per thread). Never throws.
class codec {
public:
  codec();
  ~codec();
  codec(codec&&) noexcept;
  codec& operator=(codec&&) noexcept;
  codec(const codec&) = delete;
  codec& operator=(const codec&) = delete;

  /// recv_ns is stamped by the caller (no clock inside). Malformed frame / missing field / price or size <= 0 /
  /// bad time -> error naming the reason ("trades[2]: missing field 'size'", "price must be > 0", "not JSON", ...).
  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Advanced Trade subscribe request for one channel:
/// {"type":"subscribe","product_ids":["BTC-USD",...],"channel":"market_trades"}.
std::string subscribe_request(const std::vector<std::string>& product_ids, std::string_view channel);
/// The same with "type":"unsubscribe".
std::string unsubscribe_request(const std::vector<std::string>& product_ids, std::string_view channel);

/// The two requests a trades connection sends (one channel per message): market_trades, then heartbeats
/// (without heartbeats, Coinbase closes quiet channels within 60-90 s).
std::vector<std::string> subscribe_requests(const std::vector<std::string>& product_ids);

/// Legacy Exchange feed: {"type":"subscribe","product_ids":[...],"channels":["matches","heartbeat"]}.
std::string legacy_subscribe_request(const std::vector<std::string>& product_ids);

/// Simulator side: one trade as an Advanced Trade market_trades update frame:
/// {"channel":"market_trades","client_id":"","timestamp":T,"sequence_num":N,"events":[{"type":"update","trades":[
/// {"trade_id":..,"product_id":"BASE-QUOTE","price":..,"size":..,"side":MAKER,"time":T}]}]}.
/// side is the maker's: "SELL" for a taker buy, "BUY" for a taker sell, "UNKNOWN_ORDER_SIDE" for unknown.
/// time = ts_ns exactly (RFC 3339, up to 9 fraction digits). decode(encode(t)) == t when t.symbol == base + quote.
std::string encode_trade_frame(const mi::trade& t, std::int64_t sequence_num = 0);

} // namespace mi::coinbase
