#pragma once

// The China A-share venue's actors (issue 13; docs/operations.md "A-shares"): the quote poller and the daily-bar
// fetcher. Thin: what to request and what the answers mean is connectors/cn (quote_poller, quote_tracker, the
// codecs); the rows are gateways/postgres equity_writer.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "connectors/cn/poller.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw

namespace mi::actors {

/// The quote poller's arguments.
struct cn_quotes_args {
  mi::cn::poller_settings settings;
  std::shared_ptr<const mi::calendar::calendar_set> calendars; ///< XSHG and XSHE
  std::chrono::milliseconds tencent_timeout{5000};
  std::chrono::milliseconds sina_timeout{5000};
  mi::gw::jetstream* js = nullptr; ///< MARKET_QUOTE publishes
  mi::gw::metrics* metrics = nullptr;
  std::uint64_t seed = 1;
};

/// Detached actor (HTTP calls block its own thread): asks its quote_poller what to send, sends it, hands the answer
/// back, and publishes every new snapshot (quote_tracker) as market.v1.Quote on market.quote.cn.{600000_SH}
/// (Nats-Msg-Id `cn:{symbol}:{ts_ns}`). Counts mi_source_requests_total{source="cn.tencent"|"cn.sina",outcome},
/// mi_source_circuit_state and mi_documents_published_total's sibling for quotes (the source probe's `published`);
/// a batch lost by both sources is logged and counted as a gap of the source probe. Accepts: (stop_atom) -> quits.
caf::actor spawn_cn_quotes(caf::actor_system& sys, cn_quotes_args args);

/// The daily-bar fetcher's arguments.
struct cn_daily_bars_args {
  std::vector<mi::cn::symbol> symbols;
  std::shared_ptr<const mi::calendar::calendar_set> calendars;
  mi::cn::source_limits eastmoney; ///< url, rate, circuit
  std::chrono::milliseconds timeout{10000};
  std::int64_t after_close_ns = 30LL * 60 * 1'000'000'000; ///< fetch this long after each close
  int days = 10;                                           ///< trading days back each fetch covers
  std::string dsn;                                         ///< PostgreSQL (market_daily_bars)
  mi::gw::metrics* metrics = nullptr;
};

/// Detached actor: at start and then `after_close` after every XSHG close, fetches each symbol's forward- and
/// backward-adjusted daily bars from Eastmoney (within its token bucket; a failing source opens its circuit) and
/// stores them with equity_writer (source "eastmoney", the adjustment kind; a bar fetched again with the same
/// values changes nothing, with other values it is revised). Accepts: (stop_atom) -> quits.
caf::actor spawn_cn_daily_bars(caf::actor_system& sys, cn_daily_bars_args args);

} // namespace mi::actors
