#!/usr/bin/env bash
# Local stack for Flotilla: Postgres 15 and Redis on loopback, data under .data/.
#   scripts/stack.sh up|down|status|env
# Ports: FLOTILLA_PG_PORT (default 55432), FLOTILLA_REDIS_PORT (default 56379).
# Data:  FLOTILLA_DATA_DIR (default <project>/.data).
# A service whose URL is already set (DATABASE_URL, REDIS_URL) is used as given and not started.
# `up` is idempotent and returns once both servers accept connections; `env` prints the
# exports for the URLs (eval "$(scripts/stack.sh env)").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA_DIR=${FLOTILLA_DATA_DIR:-$ROOT/.data}
PG_PORT=${FLOTILLA_PG_PORT:-55432}
REDIS_PORT=${FLOTILLA_REDIS_PORT:-56379}
PG_DATA=$DATA_DIR/postgres
PG_RUN=$DATA_DIR/postgres-run
PG_LOG=$DATA_DIR/logs/postgres.log
REDIS_DIR=$DATA_DIR/redis
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$DATA_DIR/logs/redis.log
PG_USER=postgres
PG_DB=flotilla

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

external_pg() { [ -n "${DATABASE_URL:-}" ]; }
external_redis() { [ -n "${REDIS_URL:-}" ]; }
database_url() { echo "postgres://$PG_USER@127.0.0.1:$PG_PORT/$PG_DB"; }
redis_url() { echo "redis://127.0.0.1:$REDIS_PORT"; }

# initdb refuses to run as root, so as root the cluster is owned by and run as `postgres`.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null; then runuser -u "$PG_USER" -- "$@"; else su "$PG_USER" -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

pg_bin() {
  local name=$1
  if command -v "$name" >/dev/null; then command -v "$name"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$found" ] && [ -x "$found/$name" ] && { echo "$found/$name"; return; }
  die "PostgreSQL server binary '$name' not found: install PostgreSQL 15 server binaries (initdb, pg_ctl, postgres) on PATH"
}

# The postgres user must be able to reach the data dir; a mktemp clone is 0700, so open
# traverse (x) permission on the ancestors that lack it. Nothing is made readable.
ensure_traversable() {
  [ "$(id -u)" = 0 ] || return 0
  local dir=$1
  while [ "$dir" != "/" ]; do
    if ! runuser -u "$PG_USER" -- test -x "$dir" 2>/dev/null; then
      log "granting traverse permission on $dir so the postgres user can reach its data dir"
      chmod o+x "$dir"
    fi
    dir=$(dirname "$dir")
  done
}

pg_running() { [ -f "$PG_DATA/postmaster.pid" ] && as_pg "$(pg_bin pg_ctl)" -D "$PG_DATA" status >/dev/null 2>&1; }

pg_up() {
  mkdir -p "$DATA_DIR/logs"
  if [ "$(id -u)" = 0 ]; then id "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"; fi
  ensure_traversable "$DATA_DIR"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "initialising Postgres cluster in $PG_DATA"
    mkdir -p "$PG_DATA"
    [ "$(id -u)" = 0 ] && chown "$PG_USER" "$PG_DATA"
    as_pg "$(pg_bin initdb)" -D "$PG_DATA" -U "$PG_USER" --auth=trust --encoding=UTF8 --no-locale >"$DATA_DIR/logs/initdb.log" 2>&1 \
      || die "initdb failed, see $DATA_DIR/logs/initdb.log"
  fi
  mkdir -p "$PG_RUN"; touch "$PG_LOG"
  if [ "$(id -u)" = 0 ]; then chown "$PG_USER" "$PG_RUN" "$PG_LOG"; fi
  if pg_running; then
    log "Postgres already running on 127.0.0.1:$PG_PORT"
  else
    log "starting Postgres on 127.0.0.1:$PG_PORT"
    as_pg "$(pg_bin pg_ctl)" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_RUN -c fsync=on -c max_connections=200" start >/dev/null \
      || die "Postgres failed to start, see $PG_LOG"
  fi
  wait_for "Postgres" pg_accepts
  for db in "$PG_DB" "${PG_DB}_test"; do
    if ! psql_q -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
      log "creating database $db"
      psql_q -c "CREATE DATABASE $db" >/dev/null
    fi
  done
}

psql_q() { PGCONNECT_TIMEOUT=2 psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -q "$@"; }
pg_accepts() { psql_q -tAc 'SELECT 1' >/dev/null 2>&1; }

pg_down() {
  if pg_running; then
    log "stopping Postgres"
    as_pg "$(pg_bin pg_ctl)" -D "$PG_DATA" -m fast -w stop >/dev/null
  fi
}

ensure_redis_installed() {
  command -v redis-server >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "redis-server missing: installing it with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
      || die "apt-get could not install redis-server"
    # Debian's package starts a system instance on 6379; the project runs its own.
    (service redis-server stop >/dev/null 2>&1 || true)
  else
    die "redis-server is not installed: install Redis 7 (Debian: apt-get install redis-server) or set REDIS_URL and DATABASE_URL"
  fi
}

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
redis_accepts() { [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }

redis_up() {
  ensure_redis_installed
  mkdir -p "$REDIS_DIR" "$DATA_DIR/logs"
  if redis_accepts; then
    log "Redis already running on 127.0.0.1:$REDIS_PORT"
  else
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    # BullMQ requires maxmemory-policy noeviction; AOF keeps queued jobs across restarts.
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes --dir "$REDIS_DIR" \
      --daemonize yes --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" \
      --appendonly yes --maxmemory-policy noeviction --save '' >/dev/null \
      || die "Redis failed to start, see $REDIS_LOG"
  fi
  wait_for "Redis" redis_accepts
}

redis_down() {
  if redis_accepts; then
    log "stopping Redis"
    redis_cli shutdown nosave >/dev/null 2>&1 || true
  fi
  rm -f "$REDIS_PID"
}

wait_for() {
  local name=$1 probe=$2 i
  for i in $(seq 1 120); do
    "$probe" && return 0
    sleep 0.5
  done
  die "$name did not accept connections within 60 s"
}

print_env() {
  printf 'export DATABASE_URL=%q\nexport REDIS_URL=%q\n' "${DATABASE_URL:-$(database_url)}" "${REDIS_URL:-$(redis_url)}"
}

status() {
  local rc=0
  if external_pg; then echo "postgres: external (DATABASE_URL)"
  elif pg_accepts; then echo "postgres: up   127.0.0.1:$PG_PORT  data $PG_DATA"
  else echo "postgres: down"; rc=1; fi
  if external_redis; then echo "redis:    external (REDIS_URL)"
  elif redis_accepts; then echo "redis:    up   127.0.0.1:$REDIS_PORT  data $REDIS_DIR"
  else echo "redis:    down"; rc=1; fi
  return $rc
}

case "${1:-}" in
  up)
    if external_pg; then log "DATABASE_URL is set: using it, not starting Postgres"; else pg_up; fi
    if external_redis; then log "REDIS_URL is set: using it, not starting Redis"; else redis_up; fi
    status ;;
  down)
    external_redis || redis_down
    external_pg || pg_down ;;
  status) status ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
