#!/usr/bin/env bash
# A private PostgreSQL cluster on a loopback port, for local runs and tests.
# One implementation, used by tools/start.sh and by the test fixture (Portal.Tests/Infrastructure/PostgresServer.cs).
#
#   tools/postgres.sh start <data-dir> <port> [--fast]   initialise if needed, start, wait until it answers
#   tools/postgres.sh stop  <data-dir>                     fast shutdown
#   tools/postgres.sh destroy <data-dir>                   fast shutdown, then delete the data
#   tools/postgres.sh bin                                  print the folder of the server binaries
#
# --fast turns off durability (fsync, synchronous commit): right for throwaway test clusters only.
# PostgreSQL refuses to run as root; when we are root the server runs as the 'postgres' user.
set -euo pipefail

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "PostgreSQL server binaries not found under /usr/lib/postgresql. Install them: apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "$dir"
}

as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-}
case "$cmd" in
  bin) pg_bin ;;
  start)
    data=${2:?data dir}; port=${3:?port}; fast=${4:-}
    bin=$(pg_bin)
    mkdir -p "$data"
    data=$(cd "$data" && pwd)
    if [ "$(id -u)" = "0" ]; then
      chown postgres:postgres "$data"; chmod 700 "$data"
      runuser -u postgres -- test -x "$data" \
        || { echo "The postgres user cannot reach $data: every folder above it must be searchable (chmod o+x)." >&2; exit 1; }
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      log=$(mktemp)
      as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$log" 2>&1 \
        || { cat "$log" >&2; rm -f "$log"; exit 1; }
      rm -f "$log"
    fi
    opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data -c max_connections=300 -c shared_buffers=128MB"
    # Test clusters: no durability, and room for the many hosts a parallel test run starts (each with its own pool).
    if [ "$fast" = "--fast" ]; then opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000"; fi
    as_owner "$bin/pg_ctl" -D "$data" -o "$opts" -l "$data/server.log" -w -t 60 start >/dev/null \
      || { tail -n 30 "$data/server.log" >&2; exit 1; }
    ;;
  stop)
    data=${2:?data dir}
    bin=$(pg_bin)
    [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
    ;;
  destroy)
    data=${2:?data dir}
    "$0" stop "$data"
    rm -rf "$data"
    ;;
  *) echo "usage: $0 start <data-dir> <port> [--fast] | stop <data-dir> | destroy <data-dir> | bin" >&2; exit 2 ;;
esac
