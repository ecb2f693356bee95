#!/usr/bin/env bash
# Memory per idle Blazor Server circuit: N signed-in tenant-dashboard pages held open at once in one
# Debian Chromium against ONE Portal process (Release build output, Production environment), on top
# of WARM pages opened first (so one-time costs such as JIT and caches are not counted).
#
#   bench/circuits.sh [CIRCUITS=200] [WARM=10] [IDLE_SECONDS=20] [GC_MODES="workstation server"]
#
# Each GC mode gets its own database and Portal process, one after the other: "workstation" is what the
# Portal ships with (ADR 0120), "server" the alternative it was measured against.
# Memory is the Portal's resident set (VmRSS) read after a full blocking garbage collection that
# dotnet-gcdump induces (the dump also gives the managed heap and its largest types). Starts its own
# PostgreSQL, dev identity provider and Portal on loopback, stops them on exit.
# Last line (the shipped mode): "circuits: N, KB per circuit: N".
set -euo pipefail

CIRCUITS=${1:-200}
WARM=${2:-10}
IDLE=${3:-20}
GC_MODES=${4:-workstation server}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/cogrion-bench-circuits.XXXXXX)
chmod 755 "$work"  # PostgreSQL runs as its own user when we are root

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

portal_pid=""; idp_pid=""
cleanup() {
  [ -n "$portal_pid" ] && { kill "$portal_pid" 2>/dev/null || true; wait "$portal_pid" 2>/dev/null || true; }
  [ -n "$idp_pid" ] && { kill "$idp_pid" 2>/dev/null || true; wait "$idp_pid" 2>/dev/null || true; }
  bash "$root/tools/postgres.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$root/tools/prerequisites.sh" test >/dev/null
# dotnet-gcdump, from NuGet, into the bench's own folder (not a global tool).
gcdump_dir="$root/bench/.tools"
if [ ! -x "$gcdump_dir/dotnet-gcdump" ]; then
  dotnet tool install dotnet-gcdump --version 10.0.750501 --tool-path "$gcdump_dir" >/dev/null
fi

echo "Building (Release)..."
dotnet build "$root/Portal/Portal.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
dotnet build "$root/bench/CircuitLoad" -c Release -v quiet -nologo -clp:ErrorsOnly >>"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
portal_bin="$root/Portal/bin/Release/net10.0/Portal"
load="$root/bench/CircuitLoad/bin/Release/net10.0/CircuitLoad"

pg_port=$(free_port)
bash "$root/tools/postgres.sh" start "$work/pg" "$pg_port" --fast >/dev/null

portal_port=$(free_port); idp_port=$(free_port)
portal_url="http://127.0.0.1:$portal_port"; idp_url="http://127.0.0.1:$idp_port"
secret="bench-$RANDOM$RANDOM"
(cd "$root/tools/dev-idp" && exec env DEV_IDP_HOST=127.0.0.1 DEV_IDP_PORT="$idp_port" DEV_IDP_REALM=cogrion \
  DEV_IDP_CLIENT_ID=cogrion-portal DEV_IDP_CLIENT_SECRET="$secret" \
  DEV_IDP_REDIRECT_URIS="$portal_url/signin-oidc" DEV_IDP_POST_LOGOUT_REDIRECT_URIS="$portal_url/signed-out" \
  node server.mjs) >"$work/idp.log" 2>&1 &
idp_pid=$!
for _ in $(seq 1 300); do grep -q "dev-idp ready:" "$work/idp.log" && break; sleep 0.1; done

# One Portal per GC mode, on a database of its own; the shipped mode runs last so its line ends the output.
shipped=workstation
modes=""
for mode in $GC_MODES; do [ "$mode" = "$shipped" ] || modes="$modes $mode"; done
case " $GC_MODES " in *" $shipped "*) modes="$modes $shipped" ;; esac
for mode in $modes; do
case "$mode" in
  workstation) gc_server=0 ;;
  server) gc_server=1 ;;
  *) echo "unknown GC mode '$mode' (workstation or server)" >&2; exit 2 ;;
esac
echo "== $mode GC"
mkdir -p "$work/$mode"
"$(bash "$root/tools/postgres.sh" bin)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -q -c "create database bench_$mode" postgres
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=bench_$mode"
(cd "$(dirname "$portal_bin")" && exec env DOTNET_gcServer="$gc_server" ASPNETCORE_URLS="$portal_url" ASPNETCORE_ENVIRONMENT=Production \
    DataProtection__KeyEncryptionKey="$(openssl rand -base64 32)" \
    Database__ConnectionString="$connection" \
    Keycloak__Authority="$idp_url" Keycloak__Realm=cogrion Keycloak__ClientId=cogrion-portal Keycloak__ClientSecret="$secret" Keycloak__RequireHttps=false \
    Platform__BaseDomain=cogrion.bench CloudAccounts__AwsPrincipalArn="arn:aws:iam::111122223333:role/cogrion-bench" \
    CloudAccounts__AliCloudPrincipal="acs:ram::1234567890123456:root" Logging__LogLevel__Default=Warning \
    "$portal_bin") >"$work/portal.log" 2>&1 &
portal_pid=$!
for _ in $(seq 1 600); do
  curl -sf "$portal_url/readyz" >/dev/null 2>&1 && break
  kill -0 "$portal_pid" 2>/dev/null || { cat "$work/portal.log"; exit 1; }
  sleep 0.1
done

"$load" --portal "$portal_url" --idp "$idp_url" --connection "$connection" --portal-pid "$portal_pid" \
        --circuits "$CIRCUITS" --warm "$WARM" --idle-seconds "$IDLE" --gcdump "$gcdump_dir/dotnet-gcdump" --work "$work/$mode" \
        --report "$root/bench/.tools/circuits-heap-report-$mode.txt" \
  | sed -u "s/^circuits: /circuits ($mode GC): /" | tee -a "$work/result" \
  || { echo "--- Portal log (tail)"; tail -n 30 "$work/portal.log"; echo "--- idp log (tail)"; tail -n 10 "$work/idp.log"; exit 1; }
kill "$portal_pid"; wait "$portal_pid" 2>/dev/null || true; portal_pid=""
done
# The figure the issue asks for is the shipped configuration's.
grep -h "^circuits ($shipped GC): " "$work/result" | sed "s/^circuits ($shipped GC): /circuits: /" || true
