#!/usr/bin/env bash
# Measures the Portal's cold start to ready and its idle memory.
#   - publishes the Portal (Release, framework-dependent, ADR 0053) once;
#   - for each of N runs: a new empty database, start the Portal, time from process start to the
#     first 200 from /readyz (which includes applying every migration), then stop it;
#   - on the last run, waits 10 s idle and reads the process's resident memory (VmRSS).
# Everything stays on 127.0.0.1. Usage: bench/startup.sh [runs]   (default 5)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-5}

tools/prerequisites.sh run >/dev/null
work=$(mktemp -d /tmp/cogrion-bench-startup-XXXXXX)
chmod 755 "$work"  # the server runs as the postgres user when we are root
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55499)
portal_port=$((pg_port + 1))
cleanup() { [ -n "${portal_pid:-}" ] && kill "$portal_pid" 2>/dev/null; tools/postgres.sh destroy "$work/pg"; rm -rf "$work"; }
trap cleanup EXIT

echo "Publishing the Portal (Release)"
dotnet publish Portal/Portal.csproj -c Release -o "$work/portal" -nologo -v quiet -clp:ErrorsOnly >/dev/null
tools/postgres.sh start "$work/pg" "$pg_port"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
times=()
for i in $(seq 1 "$runs"); do
  psql -h 127.0.0.1 -p "$pg_port" -U postgres -qtAX -c "create database bench_$i" >/dev/null
  start=$(now_ms)
  (cd "$work/portal" && ASPNETCORE_URLS="http://127.0.0.1:$portal_port" \
    Database__ConnectionString="Host=127.0.0.1;Port=$pg_port;Database=bench_$i;Username=postgres" \
    Keycloak__Authority="http://127.0.0.1:9" Keycloak__RequireHttps=false Keycloak__ClientSecret="bench-secret-not-used" \
    Platform__BaseDomain="cogrion.bench" CloudAccounts__AwsPrincipalArn="arn:aws:iam::111122223333:role/cogrion-bench" \
    CloudAccounts__AliCloudPrincipal="acs:ram::1234567890123456:root" DataProtection__KeyEncryptionKey="$(openssl rand -base64 32)" \
    exec ./Portal) > "$work/portal-$i.log" 2>&1 &
  portal_pid=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$portal_port/readyz" 2>/dev/null; do
    kill -0 "$portal_pid" 2>/dev/null || { cat "$work/portal-$i.log"; exit 1; }
    sleep 0.01
  done
  elapsed=$(( $(now_ms) - start ))
  times+=("$elapsed")
  echo "run $i: ready in $elapsed ms"
  if [ "$i" -eq "$runs" ]; then
    sleep 10
    rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$portal_pid/status")
  fi
  kill "$portal_pid"; wait "$portal_pid" 2>/dev/null || true; portal_pid=""
done

sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median=${sorted[$(( ${#sorted[@]} / 2 ))]}
echo "cold start to ready (empty database, all migrations): median $median ms, min ${sorted[0]} ms, max ${sorted[-1]} ms over $runs runs"
echo "idle resident memory after 10 s: $(( rss_kib / 1024 )) MiB"
echo "startup ms: $median"
