#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/venue/venue.hpp"
#include "messages/deriv/derivative.hpp"
#include "messages/result.hpp"

namespace mi::venue {

/// One perpetual-swap venue's feed (derivatives venues of messages/venue_registry: binance-usdm, okx-swap,
/// bybit-linear) over the codec in its spot venue's folder (connectors/<spot>/derivatives.*): what to subscribe, how
/// to keep the connection alive, frames to derivatives events, and (Binance) the open-interest REST requests. Pure:
/// no sockets, no clocks (callers pass now_ns), no threads. One per connection.
class derivatives_feed {
public:
  virtual ~derivatives_feed() = default;
  /// The venue's name ("okx-swap").
  virtual std::string_view name() const = 0;
  /// The subscribe requests of every channel of the feed's symbols.
  virtual std::vector<std::string> subscribe_requests() const = 0;
  /// One text frame: events (possibly none: acks, pongs) or the reason it is refused.
  virtual mi::result<std::vector<mi::deriv::derivative>> decode(std::string_view frame, std::int64_t recv_ns) = 0;
  /// Heartbeat: on_open when the connection opens, on_frame for every frame, ping_due about once a second (OKX
  /// "ping" after 25 s of silence, Bybit {"op":"ping"} every 20 s; Binance: never, the server pings).
  virtual void on_open(std::int64_t now_ns) = 0;
  virtual void on_frame(std::int64_t now_ns) = 0;
  virtual std::optional<std::string> ping_due(std::int64_t now_ns) = 0;
  /// Venues whose open interest is REST only (binance-usdm /fapi/v1/openInterest): one request per symbol, to poll;
  /// empty for the others.
  virtual std::vector<rest_request> open_interest_requests() const { return {}; }
  /// The answer of one open_interest_requests() request.
  virtual mi::result<mi::deriv::derivative> parse_open_interest(std::string_view body, std::int64_t recv_ns) {
    (void)body;
    (void)recv_ns;
    return mi::error{std::string(name()) + ": open interest is pushed, not polled"};
  }
  /// The published symbols ("BTCUSDT"), in the order given.
  const std::vector<std::string>& symbols() const { return symbols_; }

protected:
  std::vector<std::string> symbols_;

private:
  friend mi::result<std::unique_ptr<derivatives_feed>> make_derivatives_feed(std::string_view venue,
                                                                             const std::vector<std::string>& unified);
};

/// The feed of derivatives venue `venue` for `unified` symbols ("BTC/USDT"); error on an unknown venue or a malformed
/// symbol.
mi::result<std::unique_ptr<derivatives_feed>> make_derivatives_feed(std::string_view venue,
                                                                    const std::vector<std::string>& unified);

} // namespace mi::venue
