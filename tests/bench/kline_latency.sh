#!/usr/bin/env bash
# Close condition -> final kline acked by JetStream, as the platform measures it itself
# (histogram mi_kline_final_latency_seconds). Starts nats-server, PostgreSQL (as user postgres),
# the platform with 1s and 1m klines and the simulator; prints the histogram at the end.
# Usage: tests/bench/kline_latency.sh [market-ingestor binary] (RATE, COUNT override the load)
set -euo pipefail
BIN=${1:-build/app/market-ingestor}
BIN=$(readlink -f "$BIN")
RATE=${RATE:-2000}
COUNT=${COUNT:-60000}
D=$(mktemp -d); chmod 755 "$D"; mkdir -p "$D/pg"; chown postgres:postgres "$D/pg"
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
NP=$(free_port); PP=$(free_port); SP=$(free_port); MP=$(free_port); WP=$(free_port)
PG=/usr/lib/postgresql/15/bin
cleanup() {
  kill -TERM "${PLAT:-0}" 2>/dev/null || true; sleep 3
  kill "${NATS:-0}" 2>/dev/null || true
  runuser -u postgres -- $PG/pg_ctl -D "$D/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$D"
}
trap cleanup EXIT
nats-server -js -sd "$D/nats" -a 127.0.0.1 -p "$NP" -l "$D/nats.log" & NATS=$!
runuser -u postgres -- $PG/initdb -D "$D/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
runuser -u postgres -- $PG/pg_ctl -D "$D/pg/data" -l "$D/pg/pg.log" -o "-p $PP -k $D/pg -c listen_addresses=127.0.0.1" -w start >/dev/null
cat > "$D/cfg.yaml" <<CFG
nats: {url: "nats://127.0.0.1:$NP"}
postgres: {dsn: "host=127.0.0.1 port=$PP user=postgres dbname=postgres"}
exchanges:
  binance: {ws_url: "ws://127.0.0.1:$SP/stream", rest_url: "http://127.0.0.1:$SP", symbols: [BTC/USDT, ETH/USDT]}
klines: {intervals: [1s, 1m]}
push: {listen: "127.0.0.1:$WP"}
metrics: {listen: "127.0.0.1:$MP"}
CFG
"$BIN" run --config "$D/cfg.yaml" > "$D/platform.log" 2>&1 & PLAT=$!
until grep -q '^ready' "$D/platform.log"; do sleep 0.2; done
"$BIN" simulate --port "$SP" --rate "$RATE" --count "$COUNT" > "$D/sim.log" 2>&1
sleep 4 # the last 1s windows close by the wall clock (grace 2 s)
curl -s "127.0.0.1:$MP/metrics" | grep -E '^mi_kline_final_latency_seconds|^mi_klines_final_total'
