#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "messages/deriv/derivative.hpp"
#include "messages/result.hpp"

namespace mi::bybit {

/// Bybit linear perpetuals (venue bybit-linear, wss://stream.bybit.com/v5/public/linear): `tickers.{symbol}` (a
/// snapshot, then deltas carrying only the fields that changed: fundingRate + nextFundingTime give a funding event,
/// markPrice / indexPrice a mark event, openInterest + openInterestValue an open-interest event, each when present;
/// time: the message's `ts`) and `allLiquidation.{symbol}` (data [{T, s, S, v, p}]; the older `liquidation.{symbol}`
/// with {updatedTime, symbol, side, size, price} is read too). Bybit's `S`/`side` is the side of the liquidated
/// position (Buy: a long was liquidated), so the published side, the liquidation order's, is its opposite. Acks and
/// pongs give nothing; a refused subscription gives an error. Never throws.
class derivatives_codec {
public:
  derivatives_codec();
  ~derivatives_codec();
  derivatives_codec(derivatives_codec&&) noexcept;
  derivatives_codec& operator=(derivatives_codec&&) noexcept;

  mi::result<std::vector<mi::deriv::derivative>> decode(std::string_view frame, std::int64_t recv_ns);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

inline constexpr std::string_view derivatives_venue = "bybit-linear";

/// {"op":"subscribe","args":["tickers.BTCUSDT","allLiquidation.BTCUSDT",...]} for `symbols` ("BTCUSDT").
std::string derivatives_subscribe_request(const std::vector<std::string>& symbols);

} // namespace mi::bybit
