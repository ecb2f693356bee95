#!/usr/bin/env bash
# Load test of the agent protocol: N simulated agents long-polling ONE Portal process over real
# HTTP on loopback; commands are enqueued through the Portal's own queue code (sign, insert,
# NOTIFY) and the delivery latency, the Portal's memory and its CPU are measured.
#
#   bench/agents.sh [AGENTS=20000] [COMMANDS=2000] [RATE_PER_SECOND=100]
#
# The agents are split over load processes of at most 9,000 agents each (a process may hold at most
# `ulimit -Hn` open files, 20,000 on our machines, and each agent holds a socket), and each process
# spreads its connections over several loopback source addresses (127.0.S.1-4) so the ephemeral ports
# of one address (about 28,000) never run out. The Portal's resident memory is read before the first
# agent and once every agent long-polls, which gives the memory per agent.
#
# Last line: "agents: N, delivery p99 ms: X". Bounded: the load tool gives up after 15 minutes,
# and everything it started (PostgreSQL, the Portal) is stopped on exit. Nothing leaves 127.0.0.1.
set -euo pipefail

AGENTS=${1:-20000}
COMMANDS=${2:-2000}
RATE=${3:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/cogrion-bench-agents.XXXXXX)
# PostgreSQL runs as its own user when we are root: it must be able to reach its data folder.
chmod 755 "$work"

# Two sockets per agent (its side and the Portal's side) plus the database pool.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

portal_pid=""
cleanup() {
  if [ -n "$portal_pid" ]; then kill "$portal_pid" 2>/dev/null || true; wait "$portal_pid" 2>/dev/null || true; fi
  bash "$root/tools/postgres.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "Building (Release)..."
dotnet build "$root/bench/AgentLoad" -c Release -v quiet -nologo >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
load="$root/bench/AgentLoad/bin/Release/net10.0/AgentLoad"
portal_bin=$(dirname "$load")/Portal

pg_port=$(free_port)
bash "$root/tools/postgres.sh" start "$work/pg" "$pg_port" --fast >/dev/null
"$(bash "$root/tools/postgres.sh" bin)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -q -c "create database bench" postgres
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=bench;Maximum Pool Size=100"

"$load" --generate-key "$work/signing-key.pem"

portal_port=$(free_port)
portal_url="http://127.0.0.1:$portal_port"
env ASPNETCORE_URLS="$portal_url" ASPNETCORE_ENVIRONMENT=Production \
    DataProtection__KeyEncryptionKey="$(openssl rand -base64 32)" \
    Database__ConnectionString="$connection" \
    Keycloak__Authority="http://127.0.0.1:9" Keycloak__ClientSecret="bench-$RANDOM$RANDOM" Keycloak__RequireHttps=false \
    Platform__BaseDomain=bench.test CloudAccounts__AwsPrincipalArn="arn:aws:iam::111122223333:role/cogrion-bench" CloudAccounts__AliCloudPrincipal="acs:ram::1234567890123456:root" \
    Agents__CommandSigningKey="$(cat "$work/signing-key.pem")" \
    Agents__AgentPermitsPerMinute=1000000 Agents__AnonymousPermitsPerMinute=1000000 \
    Logging__LogLevel__Default=Warning \
    "$portal_bin" >"$work/portal.log" 2>&1 &
portal_pid=$!
for _ in $(seq 1 600); do
  curl -sf "$portal_url/readyz" >/dev/null 2>&1 && break
  kill -0 "$portal_pid" 2>/dev/null || { cat "$work/portal.log"; exit 1; }
  sleep 0.1
done

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$portal_pid/status"; }
open_files() { ls "/proc/$portal_pid/fd" | wc -l; }
baseline_kb=$(rss_kb)
echo "Portal before agents: RSS $((baseline_kb / 1024)) MB, open files $(open_files), open files limit $(awk '/Max open files/ {print $4}' "/proc/$portal_pid/limits")"

per_shard=9000
shards=$(( (AGENTS + per_shard - 1) / per_shard ))
mkdir -p "$work/shards"
shard_pids=()
for s in $(seq 0 $((shards - 1))); do
  agents=$(( AGENTS / shards + (s < AGENTS % shards ? 1 : 0) ))
  commands=$(( COMMANDS / shards + (s < COMMANDS % shards ? 1 : 0) ))
  rate=$(( RATE / shards > 0 ? RATE / shards : 1 ))
  "$load" --portal "$portal_url" --connection "$connection" --agents "$agents" --commands "$commands" --rate "$rate" \
          --signing-key "$work/signing-key.pem" --portal-pid "$portal_pid" --deadline-seconds 900 \
          --source-addresses 4 --shard "$s" --shard-dir "$work/shards" &
  shard_pids+=($!)
done
failed=0
# Every shard's agents long-poll before any command goes out; the Portal's memory is read then.
while [ "$(ls "$work/shards" | grep -c '^ready\.')" -lt "$shards" ]; do
  for pid in "${shard_pids[@]}"; do kill -0 "$pid" 2>/dev/null || { wait "$pid" || failed=1; }; done
  [ "$failed" = 0 ] || break
  sleep 1
done
if [ "$failed" = 0 ]; then
  polling_kb=$(rss_kb)
  echo "All $AGENTS agents long-polling: Portal RSS $((polling_kb / 1024)) MB, open files $(open_files);" \
       "RSS per agent $(( (polling_kb - baseline_kb) / AGENTS )) KB"
  touch "$work/shards/go"
fi
for pid in "${shard_pids[@]}"; do wait "$pid" || failed=1; done
if [ "$failed" != 0 ]; then echo "--- Portal log (tail)"; tail -n 30 "$work/portal.log"; exit 1; fi
sort -g "$work"/shards/latencies.* > "$work/latencies"
count=$(wc -l < "$work/latencies")
p99=$(awk -v n="$count" 'NR == int(n * 0.99 + 0.999) {printf "%.0f", $1}' "$work/latencies")
p50=$(awk -v n="$count" 'NR == int(n * 0.50 + 0.999) {printf "%.0f", $1}' "$work/latencies")
echo "Delivered $count/$COMMANDS commands to $AGENTS agents; delivery ms p50 $p50 p99 $p99 max $(tail -n1 "$work/latencies" | cut -d. -f1)"
echo "agents: $AGENTS, delivery p99 ms: $p99"
