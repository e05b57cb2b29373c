#!/bin/sh
# The deploy kit checked offline with the real tools (issue 16): every check runs, every failure is
# reported, exit 1 if any failed. Usage: tests/lint/deploy.sh /path/to/built/market-ingestor
#  - deploy/nats/nats-server.conf: `nats-server -t` (syntax and settings);
#  - deploy/systemd/*.service: `systemd-analyze verify` (instance @ingest of the role template; the binary
#    path /usr/bin/market-ingestor is replaced by the built one, which verify requires to exist);
#  - deploy/compose/docker-compose.yml: `docker-compose config -q`;
#  - every YAML file under deploy/: `yamllint` (.yamllint);
#  - deploy/k8s + deploy/kustomization.yaml: every object against the Kubernetes schemas (npm
#    kubernetes-models, installed into tests/lint/deploy/node_modules from its package-lock.json), and
#    `kubectl kustomize deploy` where a kubectl is installed.
set -u
cd "$(dirname "$0")/../.."
bin=$(readlink -f "${1:?usage: deploy.sh MARKET_INGESTOR_BINARY}")
failed=0
check() { # name, command...
  name=$1; shift
  if out=$("$@" 2>&1); then echo "ok   $name"; else echo "FAIL $name"; echo "$out" | sed 's/^/     /'; failed=1; fi
}
need() { command -v "$1" >/dev/null || { echo "FAIL $1 is not installed (scripts/setup installs it)"; failed=1; }; }
for t in nats-server systemd-analyze docker-compose yamllint node npm; do need "$t"; done
[ "$failed" = 0 ] || exit 1

check "nats-server -t deploy/nats/nats-server.conf" \
  env NATS_SERVER_NAME=nats-1 NATS_STORE_DIR=/tmp nats-server -t -c deploy/nats/nats-server.conf

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for u in deploy/systemd/*.service; do
  name=$(basename "$u"); case $name in *@.service) name=${name%@.service}@ingest.service ;; esac
  sed "s|/usr/bin/market-ingestor|$bin|g" "$u" > "$tmp/$name"
done
# verify prints warnings (unknown keys, bad values) on stderr but exits 0: any output is a failure.
verify() { out=$(cd "$tmp" && systemd-analyze verify ./*.service 2>&1); [ -z "$out" ] || { echo "$out"; return 1; }; }
check "systemd-analyze verify deploy/systemd/*.service" verify

check "docker-compose config deploy/compose/docker-compose.yml" \
  env MI_API_MASTER_KEY=0 docker-compose -f deploy/compose/docker-compose.yml config -q

check "yamllint deploy/" yamllint -s -c .yamllint deploy

npm_dir=tests/lint/deploy
if [ ! -d "$npm_dir/node_modules/kubernetes-models" ]; then
  check "npm ci (kubernetes-models)" npm ci --prefix "$npm_dir" --no-audit --no-fund --silent
fi
check "kubernetes schemas deploy/k8s" node "$npm_dir/validate-k8s.js" deploy/kustomization.yaml deploy/k8s/*.yaml
if command -v kubectl >/dev/null; then
  check "kubectl kustomize deploy" sh -c 'kubectl kustomize deploy >/dev/null'
fi
exit $failed
