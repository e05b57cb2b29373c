#pragma once

// Equities in PostgreSQL (migration 0009): quote snapshots (market_quotes, market.v1.Quote from MARKET_QUOTE) and
// the sources' own daily bars (market_daily_bars, market.v1.DailyBar: Alpaca's daily job, Eastmoney's adjusted
// bars). Blocking (libpqxx): call it from a detached actor, a worker thread or a tool.

#include <memory>
#include <string>
#include <vector>

#include "market.pb.h"
#include "messages/result.hpp"

namespace mi::gw {

/// "none", "forward", "backward", "all": the market_daily_bars.adjustment text of `a`; "" for UNSPECIFIED.
std::string_view adjustment_text(market::v1::Adjustment a);

/// `[["price","size"],...]`: quote levels as the jsonb columns hold them (best first, the exchange code dropped).
std::string quote_levels_json(const google::protobuf::RepeatedPtrField<market::v1::QuoteLevel>& levels);

/// Writes quotes and daily bars on one connection (reconnects after an error); not thread-safe.
/// A quote already stored (same venue, symbol, source and time to the microsecond: a redelivery, a second store
/// node) is kept once. A daily bar is keyed by (venue, symbol, trading day, source, adjustment): written again with
/// other values and a later fetched_at (the source revised it), the row takes the new values; the same values are
/// not counted.
class equity_writer {
public:
  explicit equity_writer(std::string conninfo);
  ~equity_writer();
  equity_writer(const equity_writer&) = delete;
  equity_writer& operator=(const equity_writer&) = delete;

  /// Stores both lists in one transaction; the rows inserted or changed, or the error (a bar with an
  /// unspecified adjustment or an empty trading day is an error naming it, and nothing is written).
  mi::result<std::size_t> write(const std::vector<market::v1::Quote>& quotes,
                                const std::vector<market::v1::DailyBar>& bars);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace mi::gw
