#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "messages/deriv/derivative.hpp"
#include "messages/result.hpp"

namespace mi::okx {

/// OKX perpetual swaps (venue okx-swap, the v5 public WebSocket): channels `funding-rate` (fundingRate, charged at
/// fundingTime), `mark-price` (markPx), `open-interest` (oi in contracts, oiUsd) per instId `BTC-USDT-SWAP`, and
/// `liquidation-orders` per instType SWAP (each data item's `details`: side, sz in contracts, bkPx the bankruptcy
/// price, ts). instId `BTC-USDT-SWAP` is published as symbol `BTCUSDT`. Event frames (subscribe acks) give nothing, an
/// error event gives an error. Never throws.
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

inline constexpr std::string_view derivatives_venue = "okx-swap";

/// "BTC-USDT-SWAP" -> "BTCUSDT"; empty when `inst_id` is not a SWAP instrument id.
std::string swap_symbol(std::string_view inst_id);
/// The subscribe request of the three per-instrument channels for `inst_ids` ("BTC-USDT-SWAP") and of
/// liquidation-orders for instType SWAP.
std::string derivatives_subscribe_request(const std::vector<std::string>& inst_ids);

} // namespace mi::okx
