#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/bybit/instruments.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::bybit {

/// Bybit recommends a client `{"op":"ping"}` every 20 s, whatever the traffic.
inline constexpr std::int64_t ping_interval_ns = 20'000'000'000;
/// Most topics in one spot subscribe request (Bybit's spot limit: 10 args per request).
inline constexpr std::size_t max_args_per_request = 10;

/// "publicTrade.BTCUSDT".
std::string topic_name(std::string_view symbol);

/// What one received text frame meant.
struct frame_events {
  /// trades: a publicTrade push; ack: {"success":true,"op":"subscribe"|"unsubscribe",...};
  /// error: {"success":false,...}; pong: the answer to our ping ({"success":true,"ret_msg":"pong","op":"ping"},
  /// or {"op":"pong",...}); server_notice: never sent by Bybit's public spot stream (kept for a uniform API);
  /// ignored: anything else well-formed (other topics, our own requests).
  enum class kind : std::uint8_t { trades, ack, error, pong, ignored, server_notice } what = kind::ignored;
  std::vector<mi::trade> trades; ///< oldest first (by ts_ns, then trade id)
  std::string error_message;     ///< for kind::error: "subscribe failed: Invalid topic: invalid.topic.BTCUSDT"
  std::string req_id;            ///< ack/pong/error: the req_id echoed back ("" when the request had none)
};

/// Decodes Bybit v5 public spot frames: publicTrade pushes (several trades per frame), subscribe acks,
/// failures and pongs. Reuses one simdjson parser (one codec per thread). Never throws.
class codec {
public:
  /// `meta` (not owned, must outlive the codec) resolves symbols; nullptr: quote-suffix fallback only.
  explicit codec(const instruments* meta = nullptr);
  ~codec();
  codec(codec&&) noexcept;
  codec& operator=(codec&&) noexcept;
  codec(const codec&) = delete;
  codec& operator=(const codec&) = delete;

  /// recv_ns is stamped by the caller (no clock inside). Malformed frame / missing field / price or size <= 0 ->
  /// error naming the reason ("data[0]: missing field 'p'", "data[0]: price must be > 0", "not JSON", ...).
  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// {"req_id":"<id>","op":"subscribe","args":["publicTrade.BTCUSDT",...]}, req_ids first_req_id, first_req_id+1, ...;
/// at most `per_message` topics each (default: Bybit spot's 10; 0 is taken as 1). No topics: no requests.
std::vector<std::string> subscribe_requests(const std::vector<std::string>& topics, std::int64_t first_req_id,
                                            std::size_t per_message = max_args_per_request);
/// The same with "op":"unsubscribe".
std::vector<std::string> unsubscribe_requests(const std::vector<std::string>& topics, std::int64_t first_req_id,
                                              std::size_t per_message = max_args_per_request);

/// {"req_id":"<req_id>","op":"ping"}.
std::string ping_request(std::string_view req_id);

/// When to send a ping (pure: the caller passes now_ns). Bybit: every `interval_ns`; a ping left unanswered
/// (no frame at all received) for another `interval_ns` means the connection is dead.
class heartbeat {
public:
  /// `interval_ns` <= 0 is taken as ping_interval_ns.
  explicit heartbeat(std::int64_t interval_ns = ping_interval_ns);
  /// Any received frame (data, ack, pong): the outstanding ping, if any, is answered.
  void on_received(std::int64_t now_ns);
  /// True when a ping should be sent now; records it. The first call starts the clock.
  bool ping_due(std::int64_t now_ns);
  /// True when a ping went out and nothing arrived within `interval_ns` after it: reconnect.
  bool timed_out(std::int64_t now_ns) const;

private:
  std::int64_t interval_ns_;
  std::int64_t last_ping_ns_ = 0;
  std::int64_t unanswered_ping_ns_ = -1; ///< -1: no ping outstanding
  bool started_ = false;
};

/// Simulator side: one trade as a Bybit spot publicTrade push:
/// {"topic":"publicTrade.BTCUSDT","ts":..,"type":"snapshot","data":[{"i":"..","T":..,"p":"..","v":"..","S":"Buy",
/// "s":"BTCUSDT","BT":false,"RPI":false}]}. ts = T = ts_ns / 1'000'000 (floor); prices/sizes printed exactly as
/// decimal::to_string(); the id is printed as a string, whatever it is. An unknown side prints "Unknown", which
/// decode() rejects.
std::string encode_trade_frame(const mi::trade& t);

} // namespace mi::bybit
