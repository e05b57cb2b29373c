#!/usr/bin/env bash
# Push gateway at scale (issue 12), measured with `market-ingestor loadtest` against the platform's push role and a
# stand-in publisher of final klines (JetStream MARKET_KLINE -> push hub -> clients):
#   1. baseline: 1 client, 1 message/s           (the path without fan-out, same run, same machine)
#   2. fanout:   FANOUT clients (10000) of one channel, 1 message/s: time to the LAST delivery of each message
#   3. steady:   STEADY clients (as many as fit, toward 50000) of one channel at 10 messages/s: no loss
# and the server's memory per idle connection (VmRSS before/after the connections, nothing published yet).
# Starts nats-server, PostgreSQL (as user postgres) and `run --roles push`; raises ulimit -n as far as allowed.
# Usage: tests/bench/push_fanout.sh [market-ingestor binary]   (FANOUT, STEADY, DURATION, IO_THREADS (server),
# LOAD_THREADS (load generator, default 1) override)
set -euo pipefail
BIN=${1:-build/app/market-ingestor}
BIN=$(readlink -f "$BIN")
ulimit -n "$(ulimit -Hn)" # both processes inherit it
LIMIT=$(ulimit -n)
FANOUT=${FANOUT:-10000}
STEADY=${STEADY:-50000}
DURATION=${DURATION:-30s}
# Each side of a loopback connection is one descriptor per process: the server's limit bounds the clients.
MAXC=$((LIMIT - 500))
[ "$FANOUT" -gt "$MAXC" ] && FANOUT=$MAXC
if [ "$STEADY" -gt "$MAXC" ]; then
  echo "steady: $STEADY clients do not fit: ulimit -n is $LIMIT (hard limit $(ulimit -Hn)); measuring $MAXC"
  STEADY=$MAXC
fi
. "$(dirname "$0")/servers.sh"
cat > "$D/cfg.yaml" <<CFG
nats: {url: "nats://127.0.0.1:$NP"}
postgres: {dsn: "host=127.0.0.1 port=$PP user=postgres dbname=postgres"}
push: {listen: "127.0.0.1:$WP", max_connections: 100000, io_threads: ${IO_THREADS:-2}}
api: {listen: "127.0.0.1:$AP", auth: "off"}
metrics: {listen: "127.0.0.1:$MP"}
CFG
"$BIN" run --config "$D/cfg.yaml" --roles push > "$D/platform.log" 2>&1 & PLAT=$!
until grep -q '^ready' "$D/platform.log"; do sleep 0.2; done
load() { # clients rate channel
  "$BIN" loadtest --port "$WP" --clients "$1" --channels "$3" --duration "$DURATION" --settle 2s \
    --source-addresses 8 --threads "${LOAD_THREADS:-1}" --nats "nats://127.0.0.1:$NP" --publish-rate "$2" --pid "$PLAT"
}
# CPU seconds of the server (utime+stime from /proc) and of the load generator (bash's time), per scenario: on two
# shared cores both sides compete, and the split says which side a latency figure is made of.
server_cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$PLAT/stat"; }
TIMEFORMAT='load generator cpu_s: user %U sys %S (wall %R)'
run() { # title clients rate channel
  echo "== $1"; local before; before=$(server_cpu)
  time load "$2" "$3" "$4"
  echo "server cpu_s: $(awk -v a="$before" -v b="$(server_cpu)" 'BEGIN{printf "%.2f", b - a}')"
}
run "baseline: 1 client, 1 message/s" 1 1 kline.bench.BASEUSDT.1m
run "fanout: $FANOUT clients of one channel, 1 message/s" "$FANOUT" 1 kline.bench.FANUSDT.1m
run "steady: $STEADY clients of one channel, 10 messages/s" "$STEADY" 10 kline.bench.STDUSDT.1m
curl -s "127.0.0.1:$MP/metrics" | grep -E '^mi_push_(dropped|conflated)' || true
