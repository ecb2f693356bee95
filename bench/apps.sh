#!/usr/bin/env bash
# The app catalog (issue 14), in Chromium against the real Portal process and the real agent binary in a simulated
# cluster whose simulated Flux serves the catalog's charts: install overhead (from "Install" to the app page showing
# Ready, minus the simulated chart's own readiness delay; the median of the six apps) and status latency (a workload's
# readiness changed in the cluster to the watching app page showing it; COGRION_BENCH_APPS_ROUNDS changes, default 20,
# COGRION_BENCH_APPS_PAUSE_MS apart, default the agent's report spacing, 3 s: each a single change, ADR 0128). The agent
# beats at its production 30 s, so the change reports alone carry the status.
# Last line: "apps: install overhead ms: N, status p95 ms: N".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
result=$(mktemp /tmp/cogrion-apps.XXXXXX)
trap 'rm -f "$result"' EXIT
echo "building the tests…" >&2
dotnet build "$root/Portal.Tests" -v quiet -nologo >&2
COGRION_BENCH_APPS="$result" dotnet test "$root/Portal.Tests" --no-build -nologo --filter "FullyQualifiedName~AppsBench" >&2
cat "$result"
