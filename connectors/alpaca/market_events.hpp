#pragma once

// Alpaca quotes (T "q") and trading statuses (T "s") as the platform publishes them (issue 13): market.v1.Quote on
// market.quote.alpaca.{symbol} (stream MARKET_QUOTE) and market.v1.MarketStatus on market.status.alpaca.{symbol}
// (stream MARKET_STATUS), each with a Nats-Msg-Id made of what Alpaca sent (not of the receive time), so a second
// ingest node's copy is kept once. Pure. docs/protocols.md "Alpaca".

#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/alpaca/codec.hpp"

namespace mi::alpaca {

inline constexpr std::string_view quote_content_type = "application/x-protobuf; proto=market.v1.Quote";
inline constexpr std::string_view status_content_type = "application/x-protobuf; proto=market.v1.MarketStatus";

/// `market.quote.alpaca.{symbol}` / `market.status.alpaca.{symbol}` (symbol normalized: BRK_B).
std::string quote_subject(std::string_view symbol);
std::string status_subject(std::string_view symbol);

/// market.v1.Quote bytes: venue and source "alpaca", one level each side (price, size, exchange code; a side whose
/// price is 0 is absent: Alpaca sends 0 for an empty side), conditions, tape, currency USD, the quote time and the
/// receive time. Sizes are Alpaca's `bs` / `as` numbers as sent (docs/protocols.md "Alpaca", "Quotes").
std::string quote_pb(const quote& q, std::int64_t recv_ns);
/// `alpaca:{symbol}:q:{ts_ns}:{bx}:{bp}:{bs}:{ax}:{ap}:{as}`: the same quote from two ingest nodes has one id.
std::string quote_msg_id(const quote& q);

/// market.v1.MarketStatus bytes: venue "alpaca", the codes and messages as sent, halted = status::halted().
std::string status_pb(const status& s, std::int64_t recv_ns);
/// `alpaca:{symbol}:s:{ts_ns}:{status code}:{reason code}`.
std::string status_msg_id(const status& s);

} // namespace mi::alpaca
