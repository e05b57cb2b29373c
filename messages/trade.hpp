#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/decimal.hpp"

namespace mi {

/// The taker's side of a trade.
enum class side : std::uint8_t { unknown = 0, buy = 1, sell = 2 };

std::string_view to_string(side s);

/// One normalized trade: the platform's unit of data (public contract in DESIGN.md).
struct trade {
  std::string exchange; ///< lower case: binance, okx, bybit, coinbase, kraken
  std::string symbol;   ///< BASEQUOTE upper case, a legal NATS token
  std::string base;
  std::string quote;
  std::string trade_id; ///< the exchange's id, unique per (exchange, symbol)
  decimal price;
  decimal quantity;
  side taker_side = side::unknown;
  std::int64_t ts_ns = 0;   ///< exchange trade time, ns since the epoch, UTC
  std::int64_t recv_ns = 0; ///< local receive time, ns since the epoch, UTC
  // Equities only (empty for crypto; optional fields 11-13 of market.v1.Trade):
  std::string exchange_code{}; ///< the market center that printed it (Alpaca `x`: "V" IEX, "D" FINRA ADF, ...)
  std::vector<std::string> conditions{}; ///< the trade's condition codes as sent (Alpaca `c`: "@", "F", "I", ...)
  std::string tape{}; ///< the consolidated tape (Alpaca `z`: "A" NYSE, "B" Arca/regional, "C" Nasdaq)

  friend bool operator==(const trade&, const trade&) = default;
};

/// `Nats-Msg-Id` of a trade: `{exchange}:{symbol}:{trade_id}`.
std::string dedup_id(const trade& t);

/// `market.raw.{exchange}.{symbol}`.
std::string raw_subject(std::string_view exchange, std::string_view symbol);

/// True when `s` can be one token of a NATS subject (non-empty, no '.', '*', '>', space).
bool is_subject_token(std::string_view s);

/// Orders trade ids: numerically when both are decimal digits, else as text.
int compare_trade_ids(std::string_view a, std::string_view b);

/// Orders the trades of one frame oldest first: by time, then trade id (DESIGN.md, `decode`).
void sort_oldest_first(std::vector<trade>& trades);

} // namespace mi
