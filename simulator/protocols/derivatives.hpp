#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/deriv/derivative.hpp"
#include "simulator/protocols/protocol.hpp"

namespace mi::sim {

/// The true derivatives events of a simulated perpetual-swap venue for one generated trade (trade number n, price P,
/// quantity Q, time ts): a mark (P; index P except on okx-swap, whose mark-price has none) from every trade; a funding
/// rate (-0.0003..0.0003 by n, charged at the next 8-hour boundary) from every trade on binance-usdm (markPriceUpdate
/// carries it) and every 4th elsewhere; open interest (100000 + n + 0.5) from every 3rd on okx-swap and bybit-linear
/// (binance-usdm serves it on REST for the last trade); a liquidation (the taker's side, P, Q) from every 5th.
std::vector<mi::deriv::derivative> sim_derivatives(std::string_view venue, const mi::trade& t);
/// The funding time after `ts_ns`: the next 8-hour boundary (UTC).
std::int64_t next_funding_ns(std::int64_t ts_ns);
/// The simulated open interest after trade number n.
std::string open_interest_of(std::uint64_t n);

/// The derivatives venues' protocols (binance-usdm, okx-swap, bybit-linear); make_protocol() finds them by name.
const std::vector<registered_protocol>& derivatives_protocols();

} // namespace mi::sim
