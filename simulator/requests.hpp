#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "connectors/binance/codec.hpp"

namespace mi::sim {

/// A well-formed client message on a Binance WebSocket: {"method":..,"params":[..],"id":N}.
struct control_request {
  enum class method : std::uint8_t { subscribe, unsubscribe, list_subscriptions };
  method what = method::subscribe;
  std::uint64_t id = 0;
  std::vector<std::string> params; ///< stream names (SUBSCRIBE/UNSUBSCRIBE)
};

/// Why a client message was refused, as Binance says it: code 2 "Invalid request: ...", code 3 "Invalid JSON: ...".
struct control_error {
  int code = 2;
  std::string msg;
  std::optional<std::uint64_t> id; ///< echoed when the request had a valid id
};

/// Parses one client text frame. Never throws.
std::variant<control_request, control_error> parse_control_request(std::string_view text);

/// A stream name split: "btcusdt@aggTrade" -> {"BTCUSDT", agg_trade}. `kind` is empty for other,
/// well-formed streams (depth, kline, ...), which are accepted and never sent.
struct stream_ref {
  std::string symbol; ///< upper case
  std::optional<binance::stream_kind> kind;
  bool depth = false; ///< the diff-depth stream: <symbol>@depth, @depth@100ms or @depth@1000ms
};

/// nullopt unless `name` is <lower-case letters/digits>@<letters/digits/_> (or a diff-depth stream name).
std::optional<stream_ref> parse_stream_name(std::string_view name);

/// {"result":null,"id":N}
std::string ack_frame(std::uint64_t id);
/// {"result":["btcusdt@trade",...],"id":N}
std::string list_frame(const std::vector<std::string>& streams, std::uint64_t id);
/// {"code":2,"msg":"Invalid request: ...","id":N} (id only when known)
std::string error_frame(const control_error& e);

} // namespace mi::sim
