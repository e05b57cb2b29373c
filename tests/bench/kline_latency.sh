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
. "$(dirname "$0")/servers.sh"
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
