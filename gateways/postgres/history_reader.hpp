#pragma once

// PostgreSQL reads of the REST history API and its key lookup (libpqxx 6.4 behind this plain
// interface). Blocking: call it from the API's worker threads or a CLI, never from an I/O thread.
// The queries filter on the time columns the tables are (or will be) partitioned by
// (market_trades.ts, market_klines.open_time), so they work on plain and partitioned tables and
// let PostgreSQL prune partitions.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateways/postgres/book_store.hpp"
#include "gateways/postgres/document_store.hpp"
#include "messages/deriv/derivative.hpp"
#include "messages/kline.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::gw {

/// GET /api/v1/klines: one (exchange, symbol, interval), open_time in [start_ms, end_ms].
struct kline_query {
  std::string exchange;
  std::string symbol;
  std::string interval;
  std::optional<std::int64_t> start_ms; ///< inclusive; absent with end: the latest `limit` up to end
  std::optional<std::int64_t> end_ms;   ///< inclusive
  int limit = 500;
};

/// Position of a trade in the API's order (ts_ns, then trade_id in byte order).
struct trade_cursor {
  std::int64_t ts_ns = 0;
  std::string trade_id;
  /// Field-wise equality.
  bool operator==(const trade_cursor&) const = default;
};

/// The opaque `next` token of a trade page: "<ts_ns>_<hex of trade_id>" (URL-safe).
std::string encode_cursor(const trade_cursor& c);
/// Inverse of encode_cursor; error (naming `cursor`) if malformed.
mi::result<trade_cursor> decode_cursor(std::string_view token);

/// GET /api/v1/trades: exactly one of start_ms, from_id, after is set.
struct trade_query {
  std::string exchange;
  std::string symbol;
  std::optional<std::int64_t> start_ms; ///< trades with ts >= start (ms, inclusive)
  std::optional<std::int64_t> end_ms;   ///< trades with ts <= end (ms, inclusive: up to end_ms + 999999 ns)
  std::optional<std::string> from_id;   ///< start at this trade (inclusive)
  std::optional<trade_cursor> after;    ///< continue strictly after this position
  int limit = 500;
};

/// One page of trades, oldest first; `next` is set when more trades match.
struct trade_page {
  std::vector<mi::trade> trades;
  std::optional<trade_cursor> next;
  bool from_id_unknown = false; ///< from_id names no stored trade of that exchange and symbol
};

/// GET /api/v1/symbols: one stored (exchange, symbol).
struct symbol_summary {
  std::string exchange;
  std::string symbol;
  std::int64_t first_ts_ns = 0;
  std::int64_t last_ts_ns = 0;
  std::int64_t trade_count = 0; ///< exact: rows of market_trades (kept in market_symbols, 0005)
};

/// GET /api/v1/bbo: one (exchange, symbol), sample times in [start_ms, end_ms].
struct bbo_query {
  std::string exchange;
  std::string symbol;
  std::optional<std::int64_t> start_ms; ///< inclusive; absent: the latest `limit` up to end
  std::optional<std::int64_t> end_ms;   ///< inclusive
  int limit = 500;
};

/// GET /api/v1/derivatives: one venue's symbol, optionally one channel, in [start_ms, end_ms].
struct derivatives_query {
  std::string exchange;
  std::string symbol;
  std::optional<mi::deriv::channel> channel;
  std::optional<std::int64_t> start_ms; ///< inclusive; absent: the latest `limit` up to end
  std::optional<std::int64_t> end_ms;   ///< inclusive
  int limit = 500;
};

/// GET /api/v1/quotes: one (venue, symbol) of an equities venue, quote times in [start_ms, end_ms].
struct quote_query {
  std::string venue;
  std::string symbol;
  std::optional<std::int64_t> start_ms; ///< inclusive; absent: the latest `limit` up to end
  std::optional<std::int64_t> end_ms;   ///< inclusive
  int limit = 500;
};

/// One stored quote (market_quotes, 0009); decimals as stored text, "" for NULL; levels as stored JSON.
struct quote_row {
  std::string venue, symbol, source;
  std::int64_t ts_us = 0; ///< the source's quote time, microseconds since the epoch
  std::string trading_day, last, bids_json, asks_json, volume, turnover, open, high, low, prev_close, currency;
};

/// GET /api/v1/daily_bars: one (venue, symbol), trading days in [start, end] (YYYY-MM-DD), optionally one source and
/// one adjustment.
struct daily_bar_query {
  std::string venue;
  std::string symbol;
  std::optional<std::string> source;
  std::optional<std::string> adjustment; ///< none, forward, backward, all
  std::optional<std::string> start_day;  ///< inclusive
  std::optional<std::string> end_day;    ///< inclusive
  int limit = 500;
};

/// One stored daily bar (market_daily_bars, 0009).
struct daily_bar_row {
  std::string venue, symbol, market, trading_day, source, adjustment;
  std::string open, high, low, close, volume, turnover, vwap; ///< "" for NULL
  std::int64_t trade_count = -1;                              ///< -1 for NULL
  std::int64_t fetched_at_us = 0;
};

/// GET /api/v1/quality: the daily job's comparisons of one venue (market_daily_quality, 0013), optionally one symbol,
/// trading days in [start, end], only those with a difference.
struct quality_query {
  std::string venue;
  std::optional<std::string> symbol;
  std::optional<std::string> start_day; ///< inclusive, YYYY-MM-DD
  std::optional<std::string> end_day;   ///< inclusive
  bool mismatched_only = false;
  int limit = 500;
};

/// One row of market_daily_quality.
struct quality_result_row {
  std::string venue, symbol, market, trading_day, source;
  int mismatches = 0;
  std::string differences_json; ///< the jsonb as stored
  std::int64_t checked_at_us = 0;
};

/// GET /api/v1/coverage: hours in [from_ms, to_ms), optionally one exchange and/or one symbol.
struct coverage_query {
  std::optional<std::string> exchange;
  std::optional<std::string> symbol;
  std::int64_t from_ms = 0; ///< inclusive, a whole hour
  std::int64_t to_ms = 0;   ///< exclusive
};

/// One (exchange, symbol, UTC hour) of coverage: trades stored, gap reports (market_gaps, 0006), the latest audit.
struct coverage_row {
  std::string exchange;
  std::string symbol;
  std::int64_t hour_ms = 0;
  std::int64_t trades = 0;                         ///< rows of market_trades in the hour
  std::int64_t gaps_detected = 0;                  ///< gaps found by the connections
  std::int64_t gaps_filled = 0;                    ///< backfills that recovered trades
  std::int64_t gaps_unfillable = 0;                ///< parts of gaps reported lost
  std::int64_t recovered_trades = 0;               ///< trades the backfills recovered
  std::int64_t missing_trades = 0;                 ///< trades lost
  std::optional<std::int64_t> audit_stream_trades; ///< the latest audit's count in MARKET_RAW; absent: not audited
  std::optional<std::int64_t> audit_stored_trades; ///< and in market_trades
};

/// One partition of market_trades or market_klines (the console's database section).
struct partition_row {
  std::string table; ///< "market_trades"
  std::string name;  ///< "market_trades_20261202", "market_trades_default"
  std::string range; ///< PostgreSQL's bound text ("FOR VALUES FROM (...) TO (...)", "DEFAULT")
};

/// One row of api_keys as the API's key lookup reads it (gateways/http/auth.hpp opens it).
struct api_key_row {
  std::string key_id;
  std::string signing_key; ///< in clear: only a row from before 0004 (empty otherwise)
  bool revoked = false;
  std::int64_t quota_per_minute = 0; ///< 0: the configured default
  std::string sealed_signing_key;    ///< as stored (gateways/http/key_crypto.hpp); empty when in clear
};

/// Limits of the API's database sessions.
struct history_options {
  std::chrono::milliseconds statement_timeout{3000}; ///< every statement of the session (0: none)
  std::chrono::seconds connect_timeout{3};           ///< libpq connect_timeout
};

/// `conninfo` with libpq's connect_timeout added (key=value or URI form) unless it names one.
std::string with_connect_timeout(const std::string& conninfo, std::chrono::seconds timeout);

/// True when a history_db error is PostgreSQL cancelling a statement at statement_timeout.
bool is_statement_timeout(const mi::error& e);

/// Reads on one connection; not thread-safe (one per worker). Never throws; after a connection
/// error the next call reconnects.
class history_db {
public:
  /// Connects (error text names the failure) and sets the session's statement_timeout. Never
  /// throws.
  static mi::result<std::unique_ptr<history_db>> connect(const std::string& conninfo, history_options o = {});
  ~history_db();
  history_db(const history_db&) = delete;
  history_db& operator=(const history_db&) = delete;

  /// Latest revision of each candle (the table keeps one row per window), oldest first.
  mi::result<std::vector<mi::kline>> klines(const kline_query& q);
  /// One page of trades, oldest first.
  mi::result<trade_page> trades(const trade_query& q);
  /// Every stored (exchange, symbol) with first/last trade time and count (market_symbols: a
  /// read of one row per symbol, never a scan of market_trades).
  mi::result<std::vector<symbol_summary>> symbols();
  /// Perpetual-swap events (market_derivatives), oldest first (by time, then channel and dedup id).
  mi::result<std::vector<mi::deriv::derivative>> derivatives(const derivatives_query& q);
  /// Best bid/ask samples (market_bbo), oldest first.
  mi::result<std::vector<bbo_sample>> bbo(const bbo_query& q);
  /// Equity quote snapshots (market_quotes), oldest first (every source of the symbol).
  mi::result<std::vector<quote_row>> quotes(const quote_query& q);
  /// The sources' daily bars (market_daily_bars), by trading day, then source and adjustment.
  mi::result<std::vector<daily_bar_row>> daily_bars(const daily_bar_query& q);
  /// The daily job's comparisons (market_daily_quality), by trading day, then symbol and source.
  mi::result<std::vector<quality_result_row>> quality(const quality_query& q);
  /// The latest stored book snapshot (market_book_snapshots) at or before `at_ms` (absent: the latest of all), or
  /// nullopt when none is stored.
  mi::result<std::optional<book_sample>> book(const std::string& exchange, const std::string& symbol,
                                              std::optional<std::int64_t> at_ms);
  /// GET /api/v1/documents: the documents table's search (document_store.hpp), newest first.
  mi::result<document_page> documents(const document_query& q);
  /// The key with this id, or nullopt. `signing_key` holds a clear value only for a row not yet
  /// sealed (before 0004); otherwise `sealed_signing_key` is set and the caller opens it.
  mi::result<std::optional<api_key_row>> find_key(const std::string& key_id);
  /// Coverage per (exchange, symbol, hour) with any stored trade, gap report or audit in the range, ordered by
  /// exchange, symbol, hour.
  mi::result<std::vector<coverage_row>> coverage(const coverage_query& q);
  /// The partitions of market_trades and market_klines (none when the tables are not partitioned).
  mi::result<std::vector<partition_row>> partitions();
  /// `SELECT 1`: true when the database answers.
  bool ping();

private:
  struct impl;
  explicit history_db(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace mi::gw
