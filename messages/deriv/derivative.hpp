#pragma once

// The derivatives payload of the public contract (market.v1.Derivative in messages/market.proto) as a plain type, its
// protobuf and JSON codecs, its subjects and dedup ids. Pure: no I/O, no clock.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::deriv {

/// What a Derivative message carries (its oneof).
enum class channel : std::uint8_t { funding, mark, open_interest, liquidation };
inline constexpr std::size_t channel_count = 4;
/// Every channel, in this order: the subject families, the push channels and the API's `channel` values iterate it.
inline constexpr std::array<channel, channel_count> channels{channel::funding, channel::mark, channel::open_interest,
                                                             channel::liquidation};

/// The channel's token in subjects, push channels, the API and the database: "funding", "mark", "oi", "liquidation".
std::string_view to_string(channel c);
/// The inverse of to_string; nullopt for anything else.
std::optional<channel> parse_channel(std::string_view s);

/// Content-Type header value (public contract).
inline constexpr std::string_view content_type = "application/x-protobuf; proto=market.v1.Derivative";

/// One normalized derivatives event. Decimals are canonical text (mi::decimal::to_string); "" = not sent.
struct derivative {
  std::string exchange; ///< "binance-usdm", "okx-swap", "bybit-linear"
  std::string symbol;   ///< "BTCUSDT"
  channel what = channel::funding;
  std::int64_t ts_ns = 0;   ///< the exchange's event time
  std::int64_t recv_ns = 0; ///< local receive time
  // funding
  std::string rate;
  std::int64_t next_funding_ns = 0;
  // mark
  std::string mark_price;
  std::string index_price;
  // open_interest
  std::string open_interest;
  std::string open_interest_value;
  // liquidation
  mi::side side = mi::side::unknown;
  std::string price;
  std::string quantity;
  bool operator==(const derivative&) const = default;
};

/// "market.{channel}.{exchange}.{symbol}" (stream MARKET_DERIV).
std::string subject(const derivative& d);
/// Nats-Msg-Id: "{exchange}:{symbol}:{channel}:{ts_ns}:{the channel's values}" (funding ":{rate}:{next_funding_ns}",
/// mark ":{mark_price}:{index_price}", oi ":{open_interest}:{open_interest_value}", liquidation
/// ":{side}:{price}:{quantity}"): events of one millisecond with other values are all kept, a repeat once.
std::string dedup_id(const derivative& d);

/// protobuf market.v1.Derivative bytes.
std::string encode_pb(const derivative& d);
/// Error on bytes that are not a Derivative, one without its oneof, or a decimal field that is not canonical.
mi::result<derivative> decode_pb(std::string_view bytes);

/// The JSON object of the API and push channels: {"exchange":..,"symbol":..,"channel":"funding","ts_ns":..,
/// "recv_ns":..,<the channel's fields>} (funding: rate, next_funding_ns; mark: mark_price, index_price; oi:
/// open_interest, open_interest_value; liquidation: side, price, quantity); "" values are null.
std::string to_json(const derivative& d);

/// The canonical text of an exchange's decimal ("0.00038167" stays, "11794.15000000" -> "11794.15"); nullopt when
/// it is not a decimal, or is negative and `signed_ok` is false. Funding rates may be negative; prices may not.
std::optional<std::string> canonical(std::string_view text, bool signed_ok);

} // namespace mi::deriv
