#pragma once

#include <string>
#include <string_view>

#include "messages/kline.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi {

/// Content-Type header values of the protobuf payloads (public contract).
inline constexpr std::string_view trade_content_type = "application/x-protobuf; proto=market.v1.Trade";
inline constexpr std::string_view kline_content_type = "application/x-protobuf; proto=market.v1.Kline";

/// protobuf `market.v1.Trade` bytes.
std::string encode_trade_pb(const trade& t);
result<trade> decode_trade_pb(std::string_view bytes);

/// protobuf `market.v1.Kline` bytes.
std::string encode_kline_pb(const kline& k);
result<kline> decode_kline_pb(std::string_view bytes);

/// One line of the `decode` format (DESIGN.md), without the newline:
/// {"exchange":..,"symbol":..,"base":..,"quote":..,"trade_id":..,"price":..,"quantity":..,"side":..,"ts_ns":..}
std::string trade_to_json(const trade& t);
/// Parses one line of the `decode` format (the input of `aggregate`).
result<trade> trade_from_json(std::string_view line);

/// One line of the `aggregate` format (DESIGN.md), keys in its order, then vwap, is_final, revision.
std::string kline_to_json(const kline& k);
result<kline> kline_from_json(std::string_view line);

} // namespace mi
