#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/binance/instruments.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::binance {

/// Which Binance trade stream.
enum class stream_kind : std::uint8_t { trade, agg_trade };

/// "btcusdt@trade" / "btcusdt@aggTrade" (the symbol is lower-cased).
std::string stream_name(std::string_view symbol, stream_kind k);

/// What one received text frame meant.
struct frame_events {
  /// trades: a trade event; ack: {"result":..,"id":N}; error: {"code":..,"msg":..};
  /// server_shutdown: the serverShutdown event; ignored: anything else well-formed (depth, requests, ...).
  enum class kind : std::uint8_t { trades, ack, error, server_shutdown, ignored } what = kind::ignored;
  std::vector<mi::trade> trades;      ///< oldest first (by ts_ns, then trade id)
  std::optional<std::int64_t> ack_id; ///< id of {"result":...,"id":N} (nullopt if the id is null or a string)
  std::string error_message;          ///< for kind::error: "code 2: Invalid request: invalid stream"
};

/// Decodes raw (/ws) and combined (/stream, {"stream":..,"data":..}) frames of @trade and @aggTrade,
/// acks, errors, serverShutdown. Reuses one simdjson parser (one codec per thread). Never throws.
class codec {
public:
  /// `meta` (not owned, must outlive the codec and not change while it is used: the codec keeps the
  /// last symbol it resolved) resolves symbols; nullptr: suffix fallback only.
  explicit codec(const instruments* meta = nullptr);
  ~codec();
  codec(codec&&) noexcept;
  codec& operator=(codec&&) noexcept;
  codec(const codec&) = delete;
  codec& operator=(const codec&) = delete;

  /// recv_ns is stamped by the caller (no clock inside). Malformed frame / missing field / price or qty <= 0 ->
  /// error naming the reason ("missing field 'p'", "price must be > 0", "not JSON", ...).
  mi::result<frame_events> decode(std::string_view frame, std::int64_t recv_ns);

  /// The connection used `timeUnit=MICROSECOND`: `T` is in microseconds (default: milliseconds).
  void set_time_unit_microseconds(bool on);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// SUBSCRIBE requests for streams: {"method":"SUBSCRIBE","params":[...],"id":N}, ids first_id, first_id+1, ...;
/// at most `per_message` params each (default 200; 0 is taken as 1). No streams: no requests.
std::vector<std::string> subscribe_requests(const std::vector<std::string>& streams, std::int64_t first_id,
                                            std::size_t per_message = 200);
/// The same with "method":"UNSUBSCRIBE".
std::vector<std::string> unsubscribe_requests(const std::vector<std::string>& streams, std::int64_t first_id,
                                              std::size_t per_message = 200);

/// Splits streams into connections of at most 1024 streams each (Binance's limit; 0 is taken as 1).
std::vector<std::vector<std::string>> plan_connections(const std::vector<std::string>& streams,
                                                       std::size_t max_per_connection = 1024);

/// Paces outgoing control messages to at most `per_second` in any one-second window (Binance: 5/s).
/// Pure: the caller passes now_ns.
class send_pacer {
public:
  /// `per_second` <= 0 is taken as 1.
  explicit send_pacer(int per_second = 5);
  /// ns to wait before the next send may go (0 = now); records the send when 0.
  std::int64_t try_send(std::int64_t now_ns);

private:
  std::size_t per_second_;
  std::deque<std::int64_t> sent_ns_; ///< times of the sends within the last second, oldest first
};

/// Simulator side: one trade as a Binance frame. kind trade ->
/// {"e":"trade","E":..,"s":..,"t":..,"p":..,"q":..,"T":..,"m":..,"M":true}; agg_trade ->
/// {"e":"aggTrade",...,"a":..,"f":..,"l":..}; combined=true wraps as {"stream":"btcusdt@trade","data":{...}}. Event
/// time E = trade time. `m` = (taker side == sell). Prices/quantities printed exactly as decimal::to_string(). T =
/// ts_ns / 1'000'000 (floor); the trade id is printed as a JSON number (a non-numeric id prints 0); f = l = id.
std::string encode_trade_frame(const mi::trade& t, stream_kind k, bool combined);

} // namespace mi::binance
