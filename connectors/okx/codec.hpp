#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/okx/instruments.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::okx {

/// The plain-text heartbeat the client sends (not JSON).
inline constexpr std::string_view ping_frame = "ping";
/// The server's plain-text answer to `ping`.
inline constexpr std::string_view pong_frame = "pong";
/// OKX drops a connection after 30 s without traffic; ping after this much silence (< 30 s).
inline constexpr std::int64_t ping_after_idle_ns = 25'000'000'000;
/// Most bytes of one subscribe request (OKX: the args of one request may total at most 64 KB).
inline constexpr std::size_t max_request_bytes = 65'536;
/// Most subscribe/unsubscribe/login requests per connection per hour (OKX's limit).
inline constexpr int max_requests_per_hour = 480;

/// What one received text frame meant.
struct frame_events {
  /// trades: a push on the trades (or trades-all) channel; ack: {"event":"subscribe"|"unsubscribe",...};
  /// error: {"event":"error",...}; pong: the text `pong`; server_notice: {"event":"notice",...} (e.g. code 64008,
  /// the connection is about to be closed for an upgrade: reconnect); ignored: anything else well-formed
  /// (other channels, our own requests, the text `ping`).
  enum class kind : std::uint8_t { trades, ack, error, pong, ignored, server_notice } what = kind::ignored;
  std::vector<mi::trade> trades; ///< oldest first (by ts_ns, then trade id)
  /// Empty when every trade is one fill; else one per trade (aligned with `trades`): OKX's `count`,
  /// the fills aggregated into it (its tradeId is the last fill's id).
  std::vector<std::int64_t> fills;
  std::string error_message; ///< error / server_notice: "code 60018: channel:tickers,instId:LTC-USD doesn't exist"
  std::string channel;       ///< ack: the acked arg's channel ("trades")
  std::string inst_id;       ///< ack: the acked arg's instId ("BTC-USDT"); one ack arrives per subscribed arg
};

/// Decodes OKX v5 public frames: `trades` / `trades-all` pushes (several trades per frame), subscribe acks,
/// errors, notices and the text heartbeat. Reuses one simdjson parser (one codec per thread). Never throws.
class codec {
public:
  codec();
  ~codec();
  codec(codec&&) noexcept;
  codec& operator=(codec&&) noexcept;
  codec(const codec&) = delete;
  codec& operator=(const codec&) = delete;

  /// recv_ns is stamped by the caller (no clock inside). Malformed frame / missing field / price or size <= 0 ->
  /// error naming the reason ("data[0]: missing field 'px'", "data[0]: price must be > 0", "not JSON", ...).
  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// {"op":"subscribe","args":[{"channel":"<channel>","instId":"BTC-USDT"},...]}: as many args per request as fit in
/// `max_bytes` (at least one arg each). No instIds: no requests.
std::vector<std::string> subscribe_requests(const std::vector<std::string>& inst_ids,
                                            std::string_view channel = "trades",
                                            std::size_t max_bytes = max_request_bytes);

/// Same as subscribe_requests with "op":"unsubscribe".
std::vector<std::string> unsubscribe_requests(const std::vector<std::string>& inst_ids,
                                              std::string_view channel = "trades",
                                              std::size_t max_bytes = max_request_bytes);

/// When to send `ping` (pure: the caller passes now_ns). OKX: after `idle_ns` without any received frame;
/// a ping left unanswered for another `idle_ns` means the connection is dead.
class heartbeat {
public:
  /// `idle_ns` <= 0 is taken as ping_after_idle_ns.
  explicit heartbeat(std::int64_t idle_ns = ping_after_idle_ns);
  /// Any received frame (data, ack, pong): restarts the idle timer.
  void on_received(std::int64_t now_ns);
  /// True when `ping` should be sent now; records it (no second ping before the next idle period).
  bool ping_due(std::int64_t now_ns);
  /// True when a ping went out and nothing arrived within `idle_ns` after it: reconnect.
  bool timed_out(std::int64_t now_ns) const;

private:
  std::int64_t idle_ns_;
  std::int64_t last_received_ns_ = 0;
  std::int64_t ping_sent_ns_ = -1; ///< -1: no ping outstanding
  bool started_ = false;
};

/// Simulator side: one trade as an OKX `trades` push:
/// {"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"..","sz":"..",
/// "side":"buy","ts":"1652459224818","count":"1"}]}. instId = inst_id_of(symbol, base, quote); prices/sizes printed
/// exactly as decimal::to_string(); ts = ts_ns / 1'000'000 (floor); the id is printed as a string, whatever it is.
/// An unknown side prints "unknown", which decode() rejects.
std::string encode_trade_frame(const mi::trade& t);

} // namespace mi::okx
