#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "messages/trade.hpp"
#include "messages/trade_admission.hpp"

namespace mi::gw {
class connection_probe;
struct outgoing;
} // namespace mi::gw

namespace mi::actors {

/// The edge check of the connection and backfill actors: every trade passes mi::admit_trade
/// before MARKET_RAW. A refused trade is counted (mi_trades_rejected_total{exchange,reason}),
/// logged (at most one line per reason every 10 s, with how many were not logged) and turned
/// into its quarantine message: subject market.rejected.{exchange}.{symbol} (stream
/// MARKET_REJECTED), the protobuf Trade as payload (as received), Nats-Msg-Id {exchange}:{symbol}:{trade_id},
/// headers Mi-Reject-Reason (unrepresentable | clock_skew | too_old | bad_trade_id) and Mi-Reject-Detail. Header
/// values and log lines are one line: an ASCII control character in them (a bad_trade_id's) is written as %XX.
/// Not thread-safe: one per actor.
class quarantine {
public:
  /// `probe` (the exchange's, may be null) counts the refusals.
  quarantine(std::string exchange, mi::gw::connection_probe* probe, mi::admission_limits limits)
      : exchange_(std::move(exchange)), probe_(probe), limits_(limits) {}

  /// nullopt: admitted (publish it to MARKET_RAW). Otherwise the message to publish instead.
  /// `now_ns` only paces the log lines.
  std::optional<mi::gw::outgoing> check(const mi::trade& t, std::int64_t now_ns);

private:
  std::string exchange_;
  mi::gw::connection_probe* probe_;
  mi::admission_limits limits_;
  struct pace {
    std::int64_t last_log_ns = 0;
    std::uint64_t unlogged = 0;
  };
  std::array<pace, mi::reject_reasons.size()> pace_{}; // by reject_reason
};

/// The quarantine message of a refused trade (see quarantine).
mi::gw::outgoing rejected_trade_message(const mi::trade& t, const mi::admission& verdict);

} // namespace mi::actors
