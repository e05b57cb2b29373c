#pragma once

// The Alpaca daily job (issue 13, item 4; docs/operations.md "Alpaca daily job"), role `daily`: after the close of
// each XNYS trading day it fetches the day's raw daily bars of the universe from Alpaca's REST API, stores them
// (market_daily_bars, source alpaca, adjustment none), compares them field by field with our own 1d klines of that
// trading day and reports the differences (core NATS market.quality.alpaca, market_daily_quality,
// mi_daily_bar_mismatches_total); then it backfills older trading days newest first. Its progress is a JetStream KV
// value, written after a day is stored and compared. What to fetch, when, and what the answers mean is
// connectors/alpaca (daily_job, rest); this file does the I/O.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/calendar/calendar_feed.hpp"
#include "messages/result.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw

namespace mi::actors {

/// The KV bucket and key of the daily job's progress ("live=2026-12-02;back=2026-11-27").
inline constexpr const char* alpaca_daily_bucket = "MI_ALPACA_DAILY";
inline constexpr const char* alpaca_daily_key = "progress";

/// The job's settings (app/roles.cpp from exchanges.alpaca).
struct alpaca_daily_args {
  std::vector<std::string> symbols; ///< the universe: the configured tickers ("AAPL", "BRK.B")
  std::string rest_url;             ///< Alpaca's data API (exchanges.alpaca.rest_url)
  std::string feed = "iex";         ///< the feed of our trades: the last segment of ws_url (iex, sip)
  std::string key_id, secret_key;   ///< MI_ALPACA_KEY_ID / MI_ALPACA_SECRET_KEY (never logged)
  /// Between two requests (the venue's REST rate): the process's one throttle of the venue (shared with the trade
  /// backfill, connectors/venue/shared_throttle.hpp) is made with it if it does not exist yet.
  std::int64_t min_interval_ns = 300'000'000;
  int at_minutes = 20 * 60 + 5; ///< New York local time of the daily run
  int backfill_days = 30;       ///< trading days back
  std::chrono::milliseconds timeout{10000};
  /// XNYS, read per step and per day (a refresh, calendars.alpaca_refresh_every, reaches the next one).
  std::shared_ptr<const mi::calendar::calendar_feed> calendars;
  std::string dsn;                    ///< PostgreSQL
  mi::gw::jetstream* js = nullptr;    ///< the report and the progress
  mi::gw::metrics* metrics = nullptr; ///< may be null (the CLI)
};

/// What one day's run did.
struct alpaca_day_outcome {
  std::size_t requests = 0;   ///< REST requests (pages)
  std::size_t bars = 0;       ///< Alpaca's bars of the universe
  std::size_t symbols = 0;    ///< symbols compared (with a bar or a kline)
  std::size_t mismatched = 0; ///< of which with a difference
  std::string report;         ///< the JSON published on market.quality.alpaca
};

/// One trading day of the job, synchronously (the actor's step and `market-ingestor alpaca-daily --date`): fetch
/// every page of the day's bars (within the venue's shared REST throttle), store them, compare with our 1d klines,
/// write the quality rows, publish the report and count the mismatches. Not thread-safe; blocking.
class alpaca_daily_runner {
public:
  explicit alpaca_daily_runner(alpaca_daily_args args);
  ~alpaca_daily_runner();
  alpaca_daily_runner(const alpaca_daily_runner&) = delete;
  alpaca_daily_runner& operator=(const alpaca_daily_runner&) = delete;

  /// Runs `day` (days since 1970-01-01, a New York date); `run` names it in the report (live, backfill, rerun).
  /// An error (HTTP, body, database) leaves the day to be run again; retry_after_ns() says when.
  mi::result<alpaca_day_outcome> run_day(std::int64_t day, std::string_view run);
  /// How long from now until the next request may go (the pace, or a 429's Retry-After); 0: now.
  std::int64_t request_wait_ns() const;
  /// True when the last run_day failed on a rate-limit answer (retry after request_wait_ns(), not later).
  bool throttled() const;
  const alpaca_daily_args& args() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Detached actor: asks daily_job's next_step what to do, runs it with alpaca_daily_runner, records the progress in
/// KV, and sleeps until the next step (at most a second at a time). A failed day is retried after 30 s (or the
/// Retry-After). Accepts: (stop_atom) -> quits.
caf::actor spawn_alpaca_daily(caf::actor_system& sys, alpaca_daily_args args);

} // namespace mi::actors
