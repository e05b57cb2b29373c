#!/bin/bash
# Alpaca trades/s through the platform (issue 13): the simulator speaking Alpaca's stream (auth, subscribe, trades with
# quotes, corrections, cancels, halts) -> `run --roles ingest,store` -> MARKET_RAW -> market_trades. Reports the
# simulator's own send rate (the baseline: what was offered) and the rate at which market_trades reached N rows,
# from the first trade's time in the simulator's record. Usage: tests/bench/alpaca_e2e.sh [N] [RATE] (as root: the
# servers run as user postgres, see servers.sh). PG_STATEMENT_LOG=1: PostgreSQL logs every statement's duration and
# the script prints the saver's time per kind (COPY, INSERT, the amendments' UPDATEs) and the plan of one amendment
# (the old form and the one the saver runs).
set -euo pipefail
BIN=${BIN:-$(pwd)/build/app/market-ingestor}
N=${1:-100000}
RATE=${2:-20000}
source "$(dirname "$0")/servers.sh"
if [ "${PG_STATEMENT_LOG:-0}" = 1 ]; then
  psql -h 127.0.0.1 -p "$PP" -U postgres -qc "ALTER SYSTEM SET log_min_duration_statement = 0" \
    -c "SELECT pg_reload_conf()" >/dev/null
fi
export MI_ALPACA_KEY_ID=PKSIMULATOR MI_ALPACA_SECRET_KEY=simulator-secret
cat > "$D/config.yaml" <<EOF
nats:
  url: nats://127.0.0.1:$NP
postgres:
  dsn: host=127.0.0.1 port=$PP user=postgres dbname=postgres
exchanges:
  binance:
    enabled: false
  alpaca:
    enabled: true
    ws_url: ws://127.0.0.1:$SP/v2/iex
    rest_url: http://127.0.0.1:$SP
    symbols: [AAPL, MSFT]
    reconnect:
      initial: 100ms
      max: 1s
saver:
  batch_size: 5000
  batch_timeout: 200ms
push:
  listen: 127.0.0.1:$WP
api:
  listen: 127.0.0.1:$AP
metrics:
  listen: 127.0.0.1:$MP
EOF
"$BIN" run --config "$D/config.yaml" --roles ingest,store > "$D/platform.log" 2>&1 & PLAT=$!
for _ in $(seq 100); do grep -q '^ready' "$D/platform.log" && break; sleep 0.2; done
"$BIN" simulate --exchange alpaca --port "$SP" --symbols AAPL,MSFT --count "$N" --rate "$RATE" \
  --record "$D/rec.jsonl" --linger-ms 600000 > "$D/sim.log" 2>&1 & SIM=$!
rows=0
for _ in $(seq 3000); do
  rows=$(psql -h 127.0.0.1 -p "$PP" -U postgres -Atc "SELECT count(*) FROM market_trades" 2>/dev/null || echo 0)
  [ "$rows" -ge "$N" ] && break
  sleep 0.1
done
done_ns=$(date +%s%N)
raw=$(curl -fsS "http://127.0.0.1:$MP/metrics" | grep -E '^mi_(trades_published|published)_total' | head -3 || true)
kill "$SIM" 2>/dev/null || true
mkdir -p /tmp/alpaca_e2e_last && cp "$D/platform.log" "$D/sim.log" /tmp/alpaca_e2e_last/ 2>/dev/null || true
first_ns=$(head -1 "$D/rec.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ts_ns"])')
last_ns=$(tail -1 "$D/rec.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ts_ns"])')
python3 - "$N" "$rows" "$first_ns" "$last_ns" "$done_ns" <<'PY'
import sys
n, rows, first, last, done = map(int, sys.argv[1:])
print(f"N={n} rows={rows} offered={n / ((last - first) / 1e9):.0f}/s stored={rows / ((done - first) / 1e9):.0f}/s "
      f"(first trade to {rows} rows in market_trades: {(done - first) / 1e9:.2f} s)")
PY
if [ "${PG_STATEMENT_LOG:-0}" = 1 ]; then
  python3 - "$D/pg/pg.log" <<'PY'
import re, sys
acc = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"duration: ([0-9.]+) ms\s+(parse|bind|execute|statement)[^:]*:\s*(.*)", line)
    if not m:
        continue
    q = m.group(3)
    kind = "UPDATE (amendment)" if "UPDATE market_trades" in q else "COPY" if "COPY" in q else \
        "INSERT trades" if "WITH ins AS" in q else None
    if kind is None or m.group(2) in ("parse", "bind"):
        continue
    a = acc.setdefault(kind, [0, 0.0])
    a[0] += 1
    a[1] += float(m.group(1))
for k, (n, ms) in sorted(acc.items()):
    print(f"{k}: {n} statements, {ms:.0f} ms")
PY
  IFS='|' read -r TID TS < <(psql -h 127.0.0.1 -p "$PP" -U postgres -Atc \
    "SELECT trade_id, ts FROM market_trades WHERE symbol = 'AAPL' ORDER BY ts OFFSET $((N / 4)) LIMIT 1")
  # The amendment's lookup before and after the fix of apply_amendments (postgres.cpp): by `trade_id = ` (the planner
  # may take the (exchange, symbol, ts) index on a day partition not analysed yet), and the form the saver runs now.
  W="exchange = 'alpaca' AND symbol = 'AAPL'"
  R="ts >= timestamptz '$TS' - interval '7 days' AND ts <= timestamptz '$TS' + interval '1 hour'"
  echo "old form (trade_id = ...):"
  psql -h 127.0.0.1 -p "$PP" -U postgres -c "BEGIN" -c "EXPLAIN (ANALYZE) UPDATE market_trades SET canceled = true \
    WHERE $W AND trade_id = '$TID' AND $R AND NOT canceled" -c "ROLLBACK" | grep -E "Index Scan|Rows Removed|Execution"
  echo "the saver's form (located by the primary key):"
  psql -h 127.0.0.1 -p "$PP" -U postgres -c "BEGIN" -c "EXPLAIN (ANALYZE) UPDATE market_trades SET canceled = true \
    WHERE $W AND trade_id = '$TID' AND NOT canceled AND $R AND ts = (SELECT ts FROM market_trades WHERE $W AND \
    trade_id >= '$TID' AND trade_id <= '$TID' AND $R AND NOT canceled ORDER BY trade_id, ts LIMIT 1)" -c "ROLLBACK" |
    grep -E "Index Scan|Rows Removed|Execution"
  psql -h 127.0.0.1 -p "$PP" -U postgres -Atc "SELECT 'never analysed: ' || string_agg(relname, ', ') FROM \
    pg_class WHERE relname LIKE 'market_trades_p%' AND relkind = 'r' AND reltuples < 0"
fi
