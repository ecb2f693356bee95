#!/usr/bin/env bash
# Starts the Portal locally with everything it needs, and prints where to sign in:
#   - a private PostgreSQL whose data lives in .local/postgres (git-ignored),
#   - the dev identity provider (a Keycloak-shaped realm with demo users),
#   - the sandbox cloud: sandbox workspaces are provisioned by the tofu-sandbox simulator and get a
#     real Cluster Agent process with a simulated Kubernetes cluster (state in .local/sandbox),
#   - the Portal itself.
# Ctrl-C stops all of it. Data survives restarts; delete .local/ to start from scratch.
#
# Ports (override with environment variables): Portal 5080 (COGRION_PORT),
# identity provider 8081 (COGRION_IDP_PORT), PostgreSQL 55432 (COGRION_PG_PORT).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

portal_port=${COGRION_PORT:-5080}
idp_port=${COGRION_IDP_PORT:-8081}
pg_port=${COGRION_PG_PORT:-55432}
local_dir="$root/.local"
logs="$local_dir/logs"
mkdir -p "$logs"

tools/prerequisites.sh run

for port in "$portal_port" "$idp_port" "$pg_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    if [ "$port" != "$pg_port" ] || [ ! -f "$local_dir/postgres/postmaster.pid" ]; then
      echo "Port $port on 127.0.0.1 is already in use. Stop what uses it, or choose another port (see the top of $0)." >&2
      exit 1
    fi
  fi
done

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "Stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  tools/postgres.sh stop "$local_dir/postgres"
}
trap cleanup INT TERM EXIT

echo "Starting PostgreSQL on 127.0.0.1:$pg_port (data in .local/postgres)"
tools/postgres.sh start "$local_dir/postgres" "$pg_port"
psql_cmd=(psql -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtAX)
[ "$("${psql_cmd[@]}" -c "select 1 from pg_roles where rolname = 'cogrion'")" = "1" ] || "${psql_cmd[@]}" -c "create role cogrion login"
[ "$("${psql_cmd[@]}" -c "select 1 from pg_database where datname = 'cogrion'")" = "1" ] || "${psql_cmd[@]}" -c "create database cogrion owner cogrion"

# One random client secret per checkout, shared by the provider and the Portal, never committed.
secret_file="$local_dir/dev-client-secret"
[ -s "$secret_file" ] || (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$secret_file")
client_secret=$(cat "$secret_file")
# The key that encrypts the Portal's Data Protection key ring in the database (docs/adr/0059): kept
# beside the database it belongs to, so `rm -rf .local` starts both afresh.
kek_file="$local_dir/data-protection-kek"
[ -s "$kek_file" ] || (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n' > "$kek_file")

echo "Starting the dev identity provider on 127.0.0.1:$idp_port (log: .local/logs/dev-idp.log)"
(cd tools/dev-idp && \
  DEV_IDP_PORT="$idp_port" DEV_IDP_CLIENT_SECRET="$client_secret" \
  DEV_IDP_REDIRECT_URIS="http://127.0.0.1:$portal_port/signin-oidc,http://localhost:$portal_port/signin-oidc" \
  DEV_IDP_POST_LOGOUT_REDIRECT_URIS="http://127.0.0.1:$portal_port/signed-out,http://localhost:$portal_port/signed-out" \
  exec node server.mjs) > "$logs/dev-idp.log" 2>&1 &
pids+=($!)

echo "Building the Portal and the Cluster Agent"
dotnet build Portal/Portal.csproj -c Debug -nologo -v quiet -clp:ErrorsOnly
dotnet build Portal.Agent/Portal.Agent.csproj -c Debug -nologo -v quiet -clp:ErrorsOnly
portal_dir="$root/Portal/bin/Debug/net10.0"
agent_binary="$root/Portal.Agent/bin/Debug/net10.0/Portal.Agent"
mkdir -p "$local_dir/sandbox/state" "$local_dir/sandbox/runs"

for _ in $(seq 1 100); do grep -q "dev-idp ready" "$logs/dev-idp.log" 2>/dev/null && break; sleep 0.1; done
grep -q "dev-idp ready" "$logs/dev-idp.log" || { echo "The identity provider did not start:" >&2; cat "$logs/dev-idp.log" >&2; exit 1; }

echo "Starting the Portal on http://127.0.0.1:$portal_port (log: .local/logs/portal.log)"
(cd "$portal_dir" && \
  ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$portal_port" \
  Database__ConnectionString="Host=127.0.0.1;Port=$pg_port;Database=cogrion;Username=cogrion" \
  Keycloak__Authority="http://127.0.0.1:$idp_port" Keycloak__RequireHttps=false Keycloak__ClientSecret="$client_secret" \
  DataProtection__KeyEncryptionKey="$(cat "$kek_file")" \
  Platform__BaseDomain="cogrion.local" \
  CloudAccounts__AwsPrincipalArn="arn:aws:iam::111122223333:role/cogrion-portal-dev" CloudAccounts__AliCloudPrincipal="acs:ram::1234567890123456:role/cogrion-portal-dev" \
  Provisioning__PortalUrl="http://127.0.0.1:$portal_port" Provisioning__SandboxAgentExecutable="$agent_binary" \
  Provisioning__SandboxStateRoot="$local_dir/sandbox/state" OpenTofu__WorkRoot="$local_dir/sandbox/runs" \
  exec ./Portal) > "$logs/portal.log" 2>&1 &
portal_pid=$!
pids+=("$portal_pid")

for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$portal_port/readyz" >/dev/null 2>&1 && break
  kill -0 "$portal_pid" 2>/dev/null || { echo "The Portal stopped during start-up:" >&2; tail -n 40 "$logs/portal.log" >&2; exit 1; }
  sleep 0.1
done

cat <<BANNER

  Cogrion Portal is ready:  http://127.0.0.1:$portal_port

  Sign in with a demo user (development identity provider only):
    admin / admin-pass    platform admin
    alice / alice-pass    ordinary user
    bob   / bob-pass      ordinary user
    carol / carol-pass    ordinary user
    dave  / dave-pass     ordinary user
    erin  / erin-pass     ordinary user, e-mail not verified

  Try the whole lifecycle without a cloud: after sign-in the wizard offers the sandbox (simulated)
  cloud account; a sandbox workspace is provisioned by a simulator and gets a real Cluster Agent.

  Logs: .local/logs/portal.log, .local/logs/dev-idp.log      Stop: Ctrl-C
BANNER

wait "$portal_pid"
