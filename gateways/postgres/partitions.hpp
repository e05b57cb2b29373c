#pragma once

// Partition maintenance of market_trades (one partition per UTC day) and market_klines (one per
// UTC month), created by migration 0002, and of the order-book research tables market_bbo and
// market_book_snapshots (one per UTC month, 0008): create ahead, move stray DEFAULT rows, drop past
// the retention. Blocking (libpqxx): call it from a detached actor or a tool.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"

namespace mi::gw {

/// What maintain_partitions keeps.
struct partition_policy {
  int ahead_days = 7;                   ///< trades: partitions for today .. today + ahead_days (UTC)
  int ahead_months = 2;                 ///< klines: this month .. this month + ahead_months
  int retention_days_trades = 0;        ///< drop trade partitions wholly older than this many days; 0 = keep forever
  int retention_months_klines = 0;      ///< drop kline partitions wholly older than this many months; 0 = keep forever
  int retention_months_books = 0;       ///< market_bbo, market_book_snapshots: the same, in months; 0 = keep forever
  int retention_months_quotes = 0;      ///< market_quotes: the same; 0 = keep forever
  int retention_months_derivatives = 0; ///< market_derivatives: the same; 0 = keep forever
};

/// A table partitioned by month on its `ts` column like market_klines, with the policy member that keeps it.
struct monthly_table {
  std::string_view name;
  int partition_policy::*retention_months;
};

/// The monthly-partitioned tables beside trades and klines, named once: order-book samples (migration 0008),
/// equity quotes (0009), derivatives (0010). Creation ahead, retention and listing iterate this.
inline constexpr monthly_table monthly_tables[] = {
  {"market_bbo", &partition_policy::retention_months_books},
  {"market_book_snapshots", &partition_policy::retention_months_books},
  {"market_quotes", &partition_policy::retention_months_quotes},
  {"market_derivatives", &partition_policy::retention_months_derivatives},
};

/// One range partition: its name and bounds ("YYYY-MM-DD 00:00:00+00", lower inclusive, upper exclusive).
struct partition_range {
  std::string name;       ///< "market_trades_p20261122" / "market_klines_p202611"
  std::string from;       ///< lower bound, UTC text
  std::string to;         ///< upper bound, UTC text
  std::int64_t index = 0; ///< days (trades) or months (klines) since 1970-01 UTC
};

/// What one maintenance run did and saw.
struct partition_report {
  std::vector<std::string> created;      ///< partitions created now
  std::vector<std::string> dropped;      ///< partitions dropped now (retention)
  std::uint64_t moved_from_default = 0;  ///< DEFAULT rows moved into a partition created now
  std::uint64_t default_rows_trades = 0; ///< rows left in market_trades_default afterwards
  std::uint64_t default_rows_klines = 0; ///< rows left in market_klines_default afterwards
  bool timescale = false;                ///< the tables are TimescaleDB hypertables (see timescale.cpp)
};

/// The daily trade partition holding `day` (days since 1970-01-01 UTC). Pure.
partition_range trade_partition(std::int64_t day);
/// The monthly kline partition holding `month` (months since 1970-01 UTC). Pure.
partition_range kline_partition(std::int64_t month);
/// The monthly partition of `table` holding `month`: "{table}_pYYYYMM". Pure.
partition_range monthly_partition(std::string_view table, std::int64_t month);

/// Days since the epoch of a time in ns (floor, UTC). Pure.
std::int64_t day_of(std::int64_t ns_since_epoch);
/// Months since 1970-01 of a time in ns (floor, UTC). Pure.
std::int64_t month_of(std::int64_t ns_since_epoch);

/// The partitions the policy wants at `now_ns`: trades, klines, then each of monthly_tables (this month .. +
/// ahead_months). `trades_and_klines` false: only the book tables' (TimescaleDB makes the chunks of the other two).
/// Pure.
std::vector<partition_range> wanted_partitions(const partition_policy& p, std::int64_t now_ns,
                                               bool trades_and_klines = true);

/// Of `existing` partition names (our naming only; DEFAULT and foreign names are never
/// returned), those wholly older than the retention at `now_ns`: a trade partition of day d
/// when d + 1 <= today - retention_days_trades, a kline partition of month m when
/// m + 1 <= this month - retention_months_klines. Pure.
std::vector<std::string> partitions_past_retention(const std::vector<std::string>& existing, const partition_policy& p,
                                                   std::int64_t now_ns);

/// Creates the wanted partitions that are missing (moving rows of that range out of the DEFAULT
/// partition first, so creation never fails on them), drops those past the retention, and
/// counts the rows left in the DEFAULT partitions. Serialized across processes by an advisory
/// lock; each partition in its own short transaction. On TimescaleDB hypertables it only applies
/// the retention (drop_chunks). Never throws.
mi::result<partition_report> maintain_partitions(const std::string& conninfo, const partition_policy& p,
                                                 std::int64_t now_ns);

/// Names of the partitions of `table` ("market_trades"), sorted; for tools and tests.
mi::result<std::vector<std::string>> list_partitions(const std::string& conninfo, const std::string& table);

/// The 0002 migration used instead of deploy/sql/0002_partitions.sql when the server offers
/// the timescaledb extension (hypertables + a compression policy). UNTESTED here: Debian has no
/// TimescaleDB package.
std::string_view timescale_0002_sql();

/// Whether migration 0002 can use TimescaleDB: the extension must be installed (`available`) and
/// preloaded (listed in `shared_preload_libraries`, or CREATE EXTENSION fails). When it cannot,
/// `why_not` says why (for the warning `migrate` returns); it stays empty when the extension is
/// simply not installed, which is the normal case and needs no warning.
bool use_timescale(bool available, std::string_view shared_preload_libraries, std::string& why_not);

} // namespace mi::gw
