// The TimescaleDB variant of migration 0002, kept apart from the plain path on purpose.
//
// UNTESTED on this platform: Debian ships no TimescaleDB, so neither the tests nor the demo can
// run it. `migrate` (postgres.cpp) applies it instead of deploy/sql/0002_partitions.sql only
// when `pg_available_extensions` lists timescaledb and it is preloaded (use_timescale); if it
// still fails, the native partitions are applied instead, with a warning. It is recorded as
// version 0002 like the plain one, so later migrations see the same version history on both paths.
#include "gateways/postgres/partitions.hpp"

namespace mi::gw {

std::string_view timescale_0002_sql() {
  // Hypertables keep the 0001 tables (and their rows: migrate_data), their unique keys (they
  // already contain the time column) and indexes; chunk intervals match the native partitions.
  // Compression after 7 days, segmented by (exchange, symbol) so per-symbol range queries stay
  // cheap. Retention is applied by maintain_partitions with drop_chunks.
  return R"sql(
CREATE EXTENSION IF NOT EXISTS timescaledb;
SELECT create_hypertable('market_trades', 'ts', chunk_time_interval => interval '1 day', migrate_data => true);
SELECT create_hypertable('market_klines', 'open_time', chunk_time_interval => interval '1 month',
                         migrate_data => true);
ALTER TABLE market_trades SET (timescaledb.compress, timescaledb.compress_segmentby = 'exchange, symbol',
                               timescaledb.compress_orderby = 'ts DESC');
SELECT add_compression_policy('market_trades', interval '7 days');
)sql";
}

bool use_timescale(bool available, std::string_view preload, std::string& why_not) {
  why_not.clear();
  if (!available)
    return false;
  // shared_preload_libraries: comma-separated names, each possibly double-quoted, with blanks.
  while (!preload.empty()) {
    auto comma = preload.find(',');
    auto item = preload.substr(0, comma);
    preload = comma == std::string_view::npos ? std::string_view{} : preload.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '"'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '"'))
      item.remove_suffix(1);
    if (item == "timescaledb")
      return true;
  }
  why_not = "the timescaledb extension is installed but not in shared_preload_libraries: "
            "using native partitions (add it to postgresql.conf and restart PostgreSQL for hypertables)";
  return false;
}

} // namespace mi::gw
