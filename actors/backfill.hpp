#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "actors/actor_slot.hpp"
#include "config/config.hpp"
#include "connectors/venue/venue.hpp"
#include "messages/trade_admission.hpp"

namespace mi::gw {
class metrics;
}

namespace mi::actors {

struct backfill_args {
  std::string exchange;
  mi::cfg::exchange_config cfg; ///< rest_url, connect_timeout, backfill_max_trades
  mi::venue::venue_options venue_opts;
  std::vector<mi::venue::subscription> subs; ///< every subscribed symbol of the exchange
  mi::venue::instruments_ptr instruments;    ///< parsed once per exchange, shared (may be null)
  actor_slot_ptr publisher;
  mi::gw::metrics* metrics = nullptr;
  std::string gap_subject_prefix = "market.gap"; ///< reports go to {prefix}.{exchange}.{symbol}
  mi::admission_limits admission;                ///< edge check before MARKET_RAW (actors/quarantine.hpp)
};

/// One per exchange (REST rate limits are per client): fetches missing trades from the exchange's
/// public REST history, one request at a time within the venue's documented limits (venue::limits():
/// least interval, Binance's weight per minute as reported in X-MBX-USED-WEIGHT-1M), and publishes them
/// through the publisher with the same dedup ids as live trades (a trade that also arrives live is
/// stored once). An answer 429 (or Binance 418, Bybit 403) stops every request until its Retry-After
/// has passed (counted in mi_backfill_throttled_total); the same request is then sent again, the job
/// is not given up for it.
///
/// Accepts:
///   (gap_atom, symbol, first_id, last_id, after_ts_ns, before_ts_ns): backfill that id range. At most
///     cfg.backfill_max_trades (the newest) are fetched; every id still missing at the end (older than
///     that, beyond the exchange's history, or after repeated REST failures) is reported as JSON on
///     market.gap.{exchange}.{symbol} ({"exchange","symbol","outcome":"unfillable","first_id","last_id","missing",
///     "after_ts_ns","before_ts_ns","reason"}) and counted. For coverage, each gap is also recorded when it comes
///     (market.gap.detected.{exchange}.{symbol}) and, when trades were recovered, at the end of its backfill
///     (market.gap.filled.{exchange}.{symbol}, "recovered" instead of "missing"); see gap_report_json.
///   (recent_atom, symbol): venues without sequential ids: fetch the exchange's recent trades and send
///     them back to the asker as (recent_atom, symbol, trade_list), oldest first; the connection keeps
///     the ids it has seen and publishes only new ones (a request already queued for the symbol is not
///     queued twice; its answer goes to the latest asker).
///   (bookrest_atom, symbol, target): fetch a REST order-book snapshot (venue::book_snapshot_request; queued ahead
///     of trade backfills not yet started) and answer the asker (bookrest_atom, symbol, bool ok, body or error).
///   (stop_atom): quits (jobs not done are reported as gaps only if they were started).
/// Detached: REST calls block their own thread, never the scheduler.
caf::actor spawn_backfill(caf::actor_system& sys, backfill_args args);

/// What a gap report says: found, partly recovered, or lost.
enum class gap_outcome : std::uint8_t { detected, filled, unfillable };
/// "detected", "filled", "unfillable".
const char* to_string(gap_outcome o);

/// A gap report (pure; tests and the coverage saver decode it): {"exchange","symbol","outcome","first_id","last_id",
/// "missing" (detected: ids missing, 0 for a gap by time; unfillable: trades lost) or "recovered" (filled),
/// "after_ts_ns","before_ts_ns","reason"}. Unfillable reports go to market.gap.{exchange}.{symbol} (the public
/// subject), the others to market.gap.{detected,filled}.{exchange}.{symbol} (coverage records).
std::string gap_report_json(const std::string& exchange, const std::string& symbol, const mi::venue::gap& g,
                            std::int64_t trades, const std::string& reason, gap_outcome outcome);

} // namespace mi::actors
