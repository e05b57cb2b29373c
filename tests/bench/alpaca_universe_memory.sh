#!/usr/bin/env bash
# Memory of the ingest role with the full US universe subscribed (issue 13): `run --roles ingest` with Alpaca against
# the simulator's Alpaca protocol, once with 2 symbols (the baseline, same run, same machine) and once with SYMBOLS
# (10000 four-letter tickers AAAA, AAAB, ...), trades at RATE per second over all symbols; VmRSS and VmHWM of the
# platform after WAIT seconds. Starts its own nats-server and simulator on PORT_BASE.. and stops them.
# Usage: tests/bench/alpaca_universe_memory.sh [market-ingestor binary]   (SYMBOLS, RATE, WAIT, PORT_BASE override)
set -euo pipefail
BIN=$(readlink -f "${1:-build/app/market-ingestor}")
SYMBOLS=${SYMBOLS:-10000}
RATE=${RATE:-200}
WAIT=${WAIT:-60}
PORT_BASE=${PORT_BASE:-24100}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 - "$SYMBOLS" "$WORK" <<'PY'
import itertools, string, sys
n, d = int(sys.argv[1]), sys.argv[2]
syms = [''.join(t) for t, _ in zip(itertools.product(string.ascii_uppercase, repeat=4), range(n))]
open(d + '/syms.txt', 'w').write(','.join(syms))
open(d + '/syms.yaml', 'w').write('[' + ', '.join(syms) + ']')
PY

one_run() { # $1: symbols (comma list), $2: the same as YAML, $3: label
  local d="$WORK/$3" np=$PORT_BASE sp=$((PORT_BASE + 1)) mp=$((PORT_BASE + 2))
  mkdir -p "$d"
  nats-server -js -p "$np" -sd "$d/js" >"$d/nats.log" 2>&1 &
  local nats=$!
  "$BIN" simulate --exchange alpaca --port "$sp" --symbols "$1" --rate "$RATE" --count 0 --linger-ms 600000 \
    >"$d/sim.log" 2>&1 &
  local sim=$!
  sleep 2
  cat >"$d/config.yaml" <<YAML
nats:
  url: nats://127.0.0.1:$np
exchanges:
  binance:
    enabled: false
  alpaca:
    enabled: true
    ws_url: ws://127.0.0.1:$sp/v2/iex
    rest_url: http://127.0.0.1:$sp
    symbols: $2
metrics:
  listen: 127.0.0.1:$mp
YAML
  MI_ALPACA_KEY_ID=PKSIMULATOR MI_ALPACA_SECRET_KEY=simulator-secret \
    "$BIN" run --config "$d/config.yaml" --roles ingest >"$d/platform.log" 2>&1 &
  local plat=$!
  sleep "$WAIT"
  local rss hwm trades
  rss=$(awk '/VmRSS/ {print $2}' /proc/$plat/status)
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$plat/status)
  trades=$(curl -s "http://127.0.0.1:$mp/metrics" | awk '/^mi_trades_received_total\{exchange="alpaca"\}/ {print $2}')
  echo "$3: VmRSS ${rss} KiB, VmHWM ${hwm} KiB, trades received ${trades}"
  kill "$plat" && wait "$plat" 2>/dev/null || true
  kill "$sim" "$nats" && wait "$sim" "$nats" 2>/dev/null || true
}

one_run "AAAA,AAAB" "[AAAA, AAAB]" "2 symbols"
one_run "$(cat "$WORK/syms.txt")" "$(cat "$WORK/syms.yaml")" "$SYMBOLS symbols"
