#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: initdb into DIR, a free port on 127.0.0.1, the
# socket in DIR, stopped by the PID the server wrote. Works as a normal user and as root (initdb
# refuses root: the server then runs as the user "postgres" through runuser).
#   pg_server.sh start DIR   -> writes DIR/uri (postgresql://postgres@127.0.0.1:PORT/postgres)
#   pg_server.sh restart DIR  (a fast restart on the same port: sessions end, open transactions roll back)
#   pg_server.sh stop DIR
# Without the PostgreSQL server binaries (or, as root, without a "postgres" user) it writes the
# reason to DIR/skipped and succeeds: the tests then skip their PostgreSQL runs with that message.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?a folder}

find_bin() {
  if [[ -n "${DPGCERT_PG_BIN:-}" && -x "$DPGCERT_PG_BIN/initdb" ]]; then echo "$DPGCERT_PG_BIN"; return; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$d/initdb" && -x "$d/postgres" ]]; then echo "$d"; return; fi
  done
  if command -v initdb >/dev/null && command -v postgres >/dev/null; then dirname "$(command -v initdb)"; return; fi
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    bin=$(find_bin)
    skip() { rm -rf "$dir"; mkdir -p "$dir"; echo "$1" >"$dir/skipped"; echo "$1" >&2; exit 0; }
    if [[ -z "$bin" ]]; then skip "no PostgreSQL server binaries (initdb, postgres) found; install postgresql"; fi
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
      skip "running as root and there is no user 'postgres' to run the server as"
    fi
    if [[ -f "$dir/data/postmaster.pid" ]]; then "$0" stop "$dir" || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 755 "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
      port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
      # pg_ctl -w waits until the server accepts connections (or fails to start).
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
           -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB" \
           start >/dev/null 2>&1; then
        echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/uri"
        echo "$bin" >"$dir/bin"
        exit 0
      fi
      if ! grep -q "already in use" "$dir/log" 2>/dev/null; then break; fi
    done
    echo "could not start PostgreSQL; its log:" >&2
    cat "$dir/log" >&2 || true
    exit 1
    ;;
  restart)
    bin=$(cat "$dir/bin")
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -m fast -w -t 30 restart >/dev/null
    ;;
  stop)
    pidfile="$dir/data/postmaster.pid"
    [[ -f "$pidfile" ]] || { rm -rf "$dir"; exit 0; }
    pid=$(head -n 1 "$pidfile")
    # SIGINT: PostgreSQL's fast shutdown (roll back open transactions, end sessions).
    kill -INT "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|restart|stop DIR" >&2
    exit 2
    ;;
esac
