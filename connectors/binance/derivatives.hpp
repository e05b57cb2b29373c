#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "messages/deriv/derivative.hpp"
#include "messages/result.hpp"

namespace mi::binance {

/// Binance USD-M futures (venue binance-usdm, wss://fstream.binance.com/stream): the market streams
/// `<symbol>@markPrice@1s` (markPriceUpdate: mark and index price, funding rate and next funding time) and
/// `<symbol>@forceOrder` (forceOrder: one liquidation order), bare or in the combined-stream wrapper
/// {"stream":..,"data":{..}}; the REST open interest /fapi/v1/openInterest?symbol=. Never throws.
class derivatives_codec {
public:
  derivatives_codec();
  ~derivatives_codec();
  derivatives_codec(derivatives_codec&&) noexcept;
  derivatives_codec& operator=(derivatives_codec&&) noexcept;

  /// A markPriceUpdate gives a mark and (for a perpetual: `r` not "") a funding event, a forceOrder one liquidation
  /// (side `S`, price `ap` or `p` when `ap` is 0, quantity `z` or `q` when `z` is 0, time `o.T`); acks
  /// ({"result":null,"id":1}) and other events give none. Error naming the reason otherwise.
  mi::result<std::vector<mi::deriv::derivative>> decode(std::string_view frame, std::int64_t recv_ns);
  /// {"openInterest":"10659.509","symbol":"BTCUSDT","time":1589437530011} -> an open_interest event.
  mi::result<mi::deriv::derivative> parse_open_interest(std::string_view body, std::int64_t recv_ns);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The venue's name in the derivatives registry.
inline constexpr std::string_view derivatives_venue = "binance-usdm";

/// {"method":"SUBSCRIBE","params":["btcusdt@markPrice@1s","btcusdt@forceOrder",...],"id":N} for `symbols`
/// ("BTCUSDT").
std::string derivatives_subscribe_request(const std::vector<std::string>& symbols, int id);
/// "/fapi/v1/openInterest?symbol=BTCUSDT".
std::string open_interest_target(std::string_view symbol);

} // namespace mi::binance
