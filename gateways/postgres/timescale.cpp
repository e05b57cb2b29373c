// The TimescaleDB variant of migration 0002, kept apart from the plain path on purpose.
//
// UNTESTED on this platform: Debian ships no TimescaleDB, so neither the tests nor the demo can
// run it. `migrate` (postgres.cpp) applies it instead of deploy/sql/0002_partitions.sql only
// when `pg_available_extensions` lists timescaledb; it is recorded as version 0002 like the plain
// one, so later migrations see the same version history on both paths.
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

} // namespace mi::gw
