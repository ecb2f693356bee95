#!/usr/bin/env bash
# The agent's footprint: publishes Portal.Agent with Native AOT, installs it from the install template
# into a simulated cluster (sandbox-cluster, whose kubelet starts it from the Deployment, docs/sandbox.md)
# registered to a local Portal, and reports the binary size and the idle resident memory.
#
#   bench/agent-footprint.sh [IDLE_SECONDS=30] [APPS=0]
#
# APPS > 0 adds that many catalog-app namespaces (each with the agent's workload RoleBinding, a HelmRelease and a
# Deployment) to the cluster before the agent starts: the agent then holds its app watches (ADR 0075) while idle.
set -euo pipefail
IDLE=${1:-30}
APPS=${2:-0}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/cogrion-bench-footprint.XXXXXX)
chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
portal_pid=""; cluster_pid=""
cleanup() {
  # The cluster's kubelet stops the agent (its pod) when the cluster stops.
  for pid in $cluster_pid $portal_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  bash "$root/tools/postgres.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "Publishing the agent with Native AOT and building the Portal (Release)..."
dotnet publish "$root/Portal.Agent" -c Release -p:PublishAot=true -o "$work/agent" -v quiet -nologo >"$work/publish.log" 2>&1 || { cat "$work/publish.log"; exit 1; }
dotnet build "$root/bench/AgentLoad" -c Release -v quiet -nologo >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
dotnet build "$root/Portal.Sandbox.Cluster" -c Release -v quiet -nologo >"$work/build-cluster.log" 2>&1 || { cat "$work/build-cluster.log"; exit 1; }
cluster="$root/Portal.Sandbox.Cluster/bin/Release/net10.0/sandbox-cluster"
load="$root/bench/AgentLoad/bin/Release/net10.0/AgentLoad"

pg_port=$(free_port)
bash "$root/tools/postgres.sh" start "$work/pg" "$pg_port" --fast >/dev/null
"$(bash "$root/tools/postgres.sh" bin)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -q -c "create database footprint" postgres
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=footprint"
"$load" --generate-key "$work/key.pem"
portal_url="http://127.0.0.1:$(free_port)"
env ASPNETCORE_URLS="$portal_url" Database__ConnectionString="$connection" Keycloak__Authority=http://127.0.0.1:9 \
    Keycloak__ClientSecret="fp-$RANDOM$RANDOM" Keycloak__RequireHttps=false Platform__BaseDomain=bench.test CloudAccounts__AwsPrincipalArn="arn:aws:iam::111122223333:role/cogrion-bench" CloudAccounts__AliCloudPrincipal="acs:ram::1234567890123456:root" \
    Agents__CommandSigningKey="$(cat "$work/key.pem")" DataProtection__KeyEncryptionKey="$(openssl rand -base64 32)" Logging__LogLevel__Default=Warning \
    "$(dirname "$load")/Portal" >"$work/portal.log" 2>&1 &
portal_pid=$!
for _ in $(seq 1 600); do curl -sf "$portal_url/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
token=$("$load" --mint-token --connection "$connection" --signing-key "$work/key.pem")

# The install as the Portal renders it (terraform/modules/cluster-agent/install.yaml.tftpl, JSON-encoded values).
image="ghcr.io/cogrion/portal-agent:bench"
python3 - "$root/terraform/modules/cluster-agent/install.yaml.tftpl" "$work/install.yaml" "$image" "$portal_url" "$token" <<'PY'
import json, re, sys, uuid
template, target, image, portal, token = sys.argv[1:]
values = {"tenant_id": str(uuid.uuid4()), "workspace_id": str(uuid.uuid4()), "image": image, "portal_url": portal, "bootstrap_token": token}
text = open(template).read().replace("$${", "\0")
text = re.sub(r"\$\{\s*([a-z_]+)\s*\}", lambda m: json.dumps(values[m.group(1)]), text).replace("\0", "${")
open(target, "w").write(text)
PY
python3 - "$work/apps.yaml" "$APPS" <<'PY'
import json, sys
target, count = sys.argv[1], int(sys.argv[2])
# The HelmRelease kind exists only once Flux's CRD is installed (the simulated API server answers 404 before, as a real one does).
docs = [{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "helmreleases.helm.toolkit.fluxcd.io"},
         "spec": {"group": "helm.toolkit.fluxcd.io", "scope": "Namespaced",
                  "names": {"kind": "HelmRelease", "listKind": "HelmReleaseList", "plural": "helmreleases", "singular": "helmrelease"},
                  "versions": [{"name": "v2", "served": True, "storage": True}]}}] if count > 0 else []
for i in range(count):
    ns = f"app-{i}"
    docs += [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"app.kubernetes.io/managed-by": "cogrion-agent", "cogrion.dev/app": ns}}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "cogrion-agent", "namespace": ns},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cogrion-agent-workload"},
         "subjects": [{"kind": "ServiceAccount", "name": "cogrion-agent", "namespace": "cogrion-agent"}]},
        {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": ns, "namespace": ns},
         "spec": {"chart": {"spec": {"chart": ns, "version": "1.0.0"}}}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": ns, "namespace": ns, "annotations": {"sandbox.cogrion.io/simulated-by": "bench"}},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": ns}}}},
    ]
open(target, "w").write("\n---\n".join(json.dumps(d) for d in docs) + "\n")
PY
apps_manifest=(); [ "$APPS" -gt 0 ] && apps_manifest=(--apply "$work/apps.yaml")
"$cluster" --dir "$work/cluster" --image "$image=$work/agent/Portal.Agent" --apply "$work/install.yaml" "${apps_manifest[@]}" >"$work/cluster.log" 2>&1 &
cluster_pid=$!
for _ in $(seq 1 600); do grep -qs "is connected to the Portal" "$work"/cluster/pods/*/container.log && break; sleep 0.2; done
grep -qs "is connected to the Portal" "$work"/cluster/pods/*/container.log || { cat "$work/cluster.log" "$work"/cluster/pods/*/container.log 2>/dev/null; exit 1; }
agent_pid=$(pgrep -f -x "$work/agent/Portal.Agent" | head -n 1)
sleep "$IDLE"
size=$(stat -c %s "$work/agent/Portal.Agent")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent_pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$agent_pid/status")
echo "agent binary: $(awk "BEGIN {printf \"%.1f\", $size/1048576}") MiB; apps watched: $APPS; idle RSS after ${IDLE} s: $(awk "BEGIN {printf \"%.1f\", $rss/1024}") MiB (peak $(awk "BEGIN {printf \"%.1f\", $hwm/1024}") MiB)"
