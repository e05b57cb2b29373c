#!/usr/bin/env bash
# Runs a benchmark with nats-server's Go profiler on port ${NATS_PROFILE_PORT:-6061} (one nats-server at a time):
#   tests/bench/nats_profiled.sh build/tests/bench/mi_bench_e2e --count 400000 --rates 50000 &
#   curl -s -o ns.pprof "http://127.0.0.1:6061/debug/pprof/profile?seconds=4"; tests/bench/pprof_top.py ns.pprof
# (docs/performance.md §23). A wrapper named nats-server goes first on PATH and adds --profile.
set -euo pipefail
real=$(command -v nats-server)
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
cat > "$wrap/nats-server" <<WRAP
#!/usr/bin/env bash
exec "$real" --profile ${NATS_PROFILE_PORT:-6061} "\$@"
WRAP
chmod +x "$wrap/nats-server"
PATH="$wrap:$PATH" "$@"
