#!/usr/bin/env bash
# Runs Flotilla on this machine: dependencies, local Postgres + Redis, migrations, a build, then
# one server and one worker. Stays in the foreground (Ctrl-C stops the server and worker; the
# stack keeps running: `bash scripts/stack.sh down`).
#   scripts/quickstart.sh            run in the foreground
#   scripts/quickstart.sh --detach   start, wait until ready, print where to look, and return
#   scripts/quickstart.sh stop       stop a detached server and worker
# PORT (default 8080) sets the server's port.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUN_DIR=.data/run
LOG_DIR=.data/logs
PORT=${PORT:-8080}
mkdir -p "$RUN_DIR" "$LOG_DIR"

stop_apps() {
  for app in worker server; do
    pidfile=$RUN_DIR/$app.pid
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = stop ]; then stop_apps; echo "server and worker stopped (stack still up: bash scripts/stack.sh down)"; exit 0; fi

bash scripts/bootstrap.sh
bash scripts/stack.sh up
eval "$(bash scripts/stack.sh env)"
echo "[quickstart] applying migrations" >&2
npm run -s migration:run >"$LOG_DIR/migrations.log" 2>&1 || { cat "$LOG_DIR/migrations.log" >&2; exit 1; }
echo "[quickstart] building server and worker" >&2
npm run -s build >"$LOG_DIR/build.log" 2>&1 || { cat "$LOG_DIR/build.log" >&2; exit 1; }
stop_apps

export PORT HOST=${HOST:-127.0.0.1}
node dist/apps/server/main.js >>"$LOG_DIR/server.log" 2>&1 &
echo $! >"$RUN_DIR/server.pid"
node dist/apps/worker/main.js >>"$LOG_DIR/worker.log" 2>&1 &
echo $! >"$RUN_DIR/worker.pid"

ready=0
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$(cat "$RUN_DIR/server.pid")" 2>/dev/null || break
  sleep 0.2
done
if [ $ready != 1 ]; then
  echo "[quickstart] error: the server did not become ready; last log lines:" >&2
  tail -n 20 "$LOG_DIR/server.log" >&2
  stop_apps
  exit 1
fi

cat <<TXT

Flotilla is up.
  API         http://127.0.0.1:$PORT        (readiness: /readyz, liveness: /healthz)
  logs        $ROOT/$LOG_DIR/server.log, worker.log (JSON, one line per event)
  Postgres    $DATABASE_URL
  Redis       $REDIS_URL
  stop        Ctrl-C here (or: bash scripts/quickstart.sh stop), then bash scripts/stack.sh down
TXT

if [ "${1:-}" = --detach ]; then exit 0; fi
trap 'echo; stop_apps; echo "server and worker stopped"; exit 0' INT TERM
wait
