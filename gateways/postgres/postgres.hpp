#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "messages/kline.hpp"
#include "messages/result.hpp"
#include "messages/trade.hpp"

namespace mi::gw {

/// One schema migration compiled into the binary from deploy/sql/NNNN_name.sql.
struct migration {
  std::string_view version; ///< "0001": the file name's number, recorded in schema_migrations
  std::string_view name;    ///< "0001_init.sql"
  std::string_view sql;     ///< the file's text
};

/// Every embedded migration, in version order (generated at build time).
const std::vector<migration>& embedded_migrations();

/// Applies every embedded migration not yet recorded in `schema_migrations`, each in its own
/// transaction (serialized across processes by an advisory lock); returns the versions
/// applied now (empty if up to date). Never throws. `warnings`, when given, receives what an
/// operator should know (e.g. TimescaleDB installed but unusable: native partitions used).
mi::result<std::vector<std::string>> migrate(const std::string& conninfo, std::vector<std::string>* warnings = nullptr);

/// A writer on one connection (blocking; run it on a dedicated thread / detached actor).
/// Writes are idempotent, so a batch may be retried after any error, including one where the
/// commit's outcome is unknown.
class pg_writer {
public:
  /// Connects (clear error text on failure). `synchronous_commit = false` sets
  /// synchronous_commit=off for this session (faster commits; a server crash may lose the
  /// last transactions it reported committed). Never throws.
  static mi::result<std::unique_ptr<pg_writer>> connect(const std::string& conninfo, bool synchronous_commit = true);
  ~pg_writer();
  pg_writer(const pg_writer&) = delete;
  pg_writer& operator=(const pg_writer&) = delete;

  /// Where the trades of a batch came from, parallel to the batch: the MARKET_RAW stream, each message's stream
  /// sequence and JetStream timestamp (js_message::stream_seq, timestamp_ns).
  struct raw_origin {
    std::string stream;
    std::vector<std::uint64_t> seqs;
    std::vector<std::int64_t> ts_ns;
  };
  /// What write_trades did beyond inserting, since connect (for the saver's metrics and tests).
  struct trade_stats {
    std::uint64_t redelivered_skipped = 0; ///< messages skipped: their sequences were already stored
    std::uint64_t key_fallbacks = 0;       ///< batches stored again through staging + ON CONFLICT (unique_violation)
  };

  /// One transaction (docs/architecture.md "Exactly once in market_trades"): with `origin`, the messages whose
  /// stream sequences market_raw_stored (0014) already holds are skipped (a redelivery); the other trades go in by
  /// one binary COPY per UTC day, straight into that day's partition (the parent when it does not exist); the
  /// per-symbol summary market_symbols is added to; amendments are applied; and the sequences stored are recorded
  /// in market_raw_stored. When that COPY fails with unique_violation (a trade already stored under another
  /// sequence, or written without an origin), the batch is written again in a new transaction through a temp
  /// staging table and INSERT ... ON CONFLICT DO NOTHING (counted in stats().key_fallbacks). Returns the rows
  /// inserted (duplicates excluded). On error nothing of the batch is stored; the error's code is
  /// mi::errc::rejected when the server refused the rows themselves (SQLSTATE class 22 data exception or 23
  /// integrity violation: retrying the same rows fails again) and mi::errc::unavailable otherwise (connection
  /// lost, shutting down, out of resources: retry).
  mi::result<std::size_t> write_trades(const std::vector<mi::trade>& batch, const raw_origin* origin = nullptr);

  /// Deletes the market_raw_stored rows of `stream` wholly below `below_seq` (the durable consumer's ack floor + 1:
  /// JetStream never redelivers those). Returns the rows deleted.
  mi::result<std::size_t> prune_stored(const std::string& stream, std::uint64_t below_seq);

  const trade_stats& stats() const;

  /// Same pattern for final candles: INSERT ... ON CONFLICT (exchange, symbol, interval,
  /// open_time) DO UPDATE SET every value column, WHERE market_klines.revision <=
  /// EXCLUDED.revision (an older revision never overwrites a newer one; within one batch the
  /// highest revision of a window wins). Returns the rows inserted or updated.
  mi::result<std::size_t> upsert_klines(const std::vector<mi::kline>& batch);

  /// True if the connection is usable as far as we know (after a failure it reconnects
  /// lazily on the next write).
  bool healthy() const;

private:
  struct impl;
  explicit pg_writer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Connects (within `timeout`) and runs `SELECT 1`: true when PostgreSQL answers. Blocking: for a
/// probe thread (the readiness check of /readyz), never an HTTP handler.
mi::result<bool> ping(const std::string& conninfo, std::chrono::seconds timeout);

/// All trades, ordered by exchange, symbol, ts (exact: ts_ns), trade_id. For tools and tests.
mi::result<std::vector<mi::trade>> read_trades(const std::string& conninfo);
/// All candles (is_final = true), ordered by exchange, symbol, interval, open_time.
mi::result<std::vector<mi::kline>> read_klines(const std::string& conninfo);

/// "YYYY-MM-DD HH:MM:SS.ffffff+00" for a time in ns since the epoch, truncated (floor) to the
/// microsecond: what timestamptz stores, computed from integers so nothing is rounded twice.
std::string timestamptz_text(std::int64_t ns_since_epoch);

} // namespace mi::gw
