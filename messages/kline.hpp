#pragma once

#include <cstdint>
#include <string>

#include "messages/decimal.hpp"

namespace mi {

/// One candle of one (exchange, symbol, interval) window. All amounts exact.
struct kline {
  std::string exchange;
  std::string symbol;
  std::string interval; ///< "1m", "1h", "1M", ...
  std::int64_t open_time_ms = 0;
  std::int64_t close_time_ms = 0; ///< next window's open - 1, as Binance
  decimal open;
  decimal high;
  decimal low;
  decimal close;
  decimal volume;       ///< sum of quantities
  decimal quote_volume; ///< sum of price * quantity
  std::uint64_t trade_count = 0;
  decimal taker_buy_volume;
  decimal taker_buy_quote_volume;
  decimal vwap;               ///< quote_volume / volume, 18 fraction digits truncated
  std::string first_trade_id; ///< first trade by (time, id)
  std::string last_trade_id;  ///< last trade by (time, id)
  bool is_final = false;
  std::uint32_t revision = 0;

  friend bool operator==(const kline&, const kline&) = default;
};

/// `market.kline.{exchange}.{symbol}.{interval}`: finals and revisions, stream MARKET_KLINE.
std::string kline_subject(const kline& k);

/// `market.partial.{exchange}.{symbol}.{interval}`: live partial candles, core NATS only (outside
/// `market.kline.>`, so no stream stores them).
std::string partial_subject(const kline& k);

/// `Nats-Msg-Id` of a final kline: `{exchange}:{symbol}:{interval}:{open_time_ms}:{revision}`.
std::string dedup_id(const kline& k);

} // namespace mi
