#!/bin/bash
# /api/v1/symbols before and after market_symbols (docs/operations.md "REST API limits"): the old
# GROUP BY scan of market_trades versus the summary table, on N trades over 20 symbols.
# Usage (as root, PostgreSQL 15 installed): tests/bench/api_symbols.sh [build/app/market-ingestor] [N]
set -euo pipefail
BIN=${1:-build/app/market-ingestor}
N=${2:-5000000}
D=$(mktemp -d /tmp/mi-symbols-XXXXXX); chown postgres "$D"
PGBIN=/usr/lib/postgresql/15/bin
PORT=${PORT:-55433}
su postgres -c "$PGBIN/initdb -D $D/data -A trust >/dev/null"
su postgres -c "$PGBIN/pg_ctl -D $D/data -o '-p $PORT -k /tmp -c fsync=off' -l $D/log -w start >/dev/null"
trap 'su postgres -c "$PGBIN/pg_ctl -D $D/data -m immediate stop >/dev/null"; rm -rf "$D"' EXIT
DSN="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
"$BIN" migrate --dsn "$DSN" >/dev/null
P="psql -h 127.0.0.1 -p $PORT -U postgres -At"
$P -c "INSERT INTO market_trades (exchange, symbol, base, quote, trade_id, price, quantity, side, ts, ts_ns, recv_ns)
SELECT 'binance', 'SYM' || (i % 20), 'B', 'Q', i::text, 100.5, 0.001, 'buy', to_timestamp(1764460800 + (i % 432000)),
       (1764460800::bigint + (i % 432000)) * 1000000000, 0 FROM generate_series(1, $N) i" >/dev/null
# What the saver's statement maintains row by row, here in one go.
$P -c "INSERT INTO market_symbols SELECT exchange, symbol, min(ts_ns), max(ts_ns), count(*) FROM market_trades GROUP BY 1, 2" >/dev/null
$P -c "VACUUM ANALYZE" >/dev/null
for q in "SELECT exchange, symbol, min(ts_ns), max(ts_ns), count(*) FROM market_trades GROUP BY exchange, symbol ORDER BY exchange, symbol" \
         "SELECT exchange, symbol, first_ts_ns, last_ts_ns, trade_count FROM market_symbols ORDER BY exchange, symbol"; do
  echo "== $q"
  for r in 1 2 3; do $P -c "EXPLAIN (ANALYZE, TIMING OFF) $q" | grep "Execution Time"; done
done
