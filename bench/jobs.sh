#!/usr/bin/env bash
# No-op jobs through the real job engine (Cogrion.Jobs) with 1, 4 and 16 workers against a private
# local PostgreSQL. Prints throughput, idle enqueue-to-start latency (p50/p99) and an idle replica's
# queries per second. The last line is "jobs/s: N" (the best of the three runs).
#
#   bench/jobs.sh                      PostgreSQL with durability off (fsync, synchronous_commit), like the test cluster
#   bench/jobs.sh --compare hangfire   also Hangfire.PostgreSql 1.21.1, measured the same way in the same run (ADR 0015)
#   BENCH_DURABLE=1 bench/jobs.sh      PostgreSQL with its default durability (every commit waits for the disk)
#   BENCH_JOBS=20000 BENCH_IDLE_SECONDS=60 bench/jobs.sh
set -euo pipefail
compare=""
case "${1:-}" in
  "") ;;
  --compare)
    [ "${2:-}" = "hangfire" ] || { echo "usage: bench/jobs.sh [--compare hangfire]" >&2; exit 2; }
    compare=hangfire ;;
  *) echo "usage: bench/jobs.sh [--compare hangfire]" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${BENCH_JOBS:-20000}
idle=${BENCH_IDLE_SECONDS:-60}
fast="--fast"; durability="off"
if [ "${BENCH_DURABLE:-0}" = "1" ]; then fast=""; durability="on"; fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d /tmp/cogrion-bench-pg.XXXXXX)
cleanup() { bash "$root/tools/postgres.sh" stop "$data" || true; rm -rf "$data" "$data.initdb.log"; }
trap cleanup EXIT

echo "building the benchmark (Release)…" >&2
dotnet build "$root/bench/JobsBench/JobsBench.csproj" -c Release -v quiet -nologo >&2
bash "$root/tools/postgres.sh" start "$data" "$port" $fast
psql_bin=$(bash "$root/tools/postgres.sh" bin)
if [ "$(id -u)" = "0" ]; then run=(runuser -u postgres --); else run=(); fi
"${run[@]}" "$psql_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "create database bench" >/dev/null
hangfire=()
if [ "$compare" = "hangfire" ]; then
  "${run[@]}" "$psql_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "create database bench_hangfire" >/dev/null
  hangfire=("Host=127.0.0.1;Port=$port;Username=postgres;Database=bench_hangfire;Maximum Pool Size=64")
fi

echo "PostgreSQL $("$psql_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, durability $durability; $(nproc) cores; $jobs jobs per run" >&2
exec_dir=$(dirname "$(find "$root/bench/JobsBench/bin/Release" -name JobsBench -type f -perm -u+x | head -n 1)")
"$exec_dir/JobsBench" "Host=127.0.0.1;Port=$port;Username=postgres;Database=bench;Maximum Pool Size=64" "$jobs" "$idle" "${hangfire[@]}"
