#!/usr/bin/env bash
# A local PostgreSQL for novalet's tests and testbeds: Debian's postgresql (scripts/install.sh installs it), its
# own cluster under a data dir, started with pg_ctl (no systemd), listening on loopback and a unix socket in the
# data dir, with a C-collated database for the store. Trust authentication on loopback: for tests only.
#   scripts/postgres.sh start|stop|status|url
#   NOVALET_PG_DIR (default /var/lib/novalet/postgres), NOVALET_PG_PORT (5433), NOVALET_PG_DB (novalet),
#   NOVALET_PG_LISTEN (one more address to listen on, e.g. a testbed's private veth) and NOVALET_PG_TRUST (the
#   network trusted on it, its /30: `novalet testbed up --store postgres`)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DIR=${NOVALET_PG_DIR:-/var/lib/novalet/postgres}
PORT=${NOVALET_PG_PORT:-5433}
DB=${NOVALET_PG_DB:-novalet}
DATA=$DIR/data
LISTEN=${NOVALET_PG_LISTEN:-}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)

as_pg() { runuser -u postgres -- "$@"; }
url() { echo "postgres://postgres@${LISTEN:-127.0.0.1}:$PORT/$DB"; }

start() {
  need_root
  [ -n "$BIN" ] && [ -x "$BIN/pg_ctl" ] || die "PostgreSQL is not installed (scripts/install.sh installs Debian's postgresql)"
  getent passwd postgres >/dev/null || die "no postgres user (Debian's postgresql package creates it)"
  mkdir -p "$DIR"; chown postgres: "$DIR"; chmod 700 "$DIR"
  # test files starting it at once (or two sessions) must not both run initdb / pg_ctl start
  exec 9>"$DIR.lock"; flock 9
  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "initdb $DATA"
    as_pg "$BIN/initdb" -D "$DATA" --auth=trust --username=postgres --locale=C --encoding=UTF8 >/dev/null
    # the extra address's network (a testbed's veth pair: this machine's two ends only)
    [ -z "${NOVALET_PG_TRUST:-}" ] || echo "host all all $NOVALET_PG_TRUST trust" >> "$DATA/pg_hba.conf"
  fi
  if as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "running (port $PORT)"
  else
    log "starting on 127.0.0.1:$PORT"
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DIR/postgres.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1${LISTEN:+,$LISTEN} -p $PORT -c unix_socket_directories=$DIR -c max_connections=200 -c fsync=off" >/dev/null 9>&-
    # (9>&-: the server must not inherit the lock's descriptor, or it holds the lock for its whole life)
  fi
  as_pg "$BIN/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 ||
    as_pg "$BIN/createdb" -h "$DIR" -p "$PORT" -U postgres --locale=C --template=template0 "$DB"
  url
}

stop() {
  need_root
  [ -f "$DATA/PG_VERSION" ] || return 0
  as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1 || return 0
  log "stopping"
  as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) [ -n "$BIN" ] && as_pg "$BIN/pg_ctl" -D "$DATA" status ;;
  url) url ;;
  *) die "usage: $0 start|stop|status|url" ;;
esac
