# Sourced by the bench scripts: a temp directory $D, free ports NP (NATS), PP (PostgreSQL), SP, MP, WP, AP for the
# script's own use, nats-server -js and PostgreSQL (as user postgres) started, and a cleanup on exit that stops the
# platform ($PLAT, when the script started one) and both servers.
D=$(mktemp -d); chmod 755 "$D"; mkdir -p "$D/pg"; chown postgres:postgres "$D/pg"
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
NP=$(free_port); PP=$(free_port); SP=$(free_port); MP=$(free_port); WP=$(free_port); AP=$(free_port)
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
