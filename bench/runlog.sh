#!/usr/bin/env bash
# Run log latency: from a line leaving tofu-sandbox (the simulator's own @timestamp) to the line
# arriving at a listener subscribed exactly as the workspace page is (LiveJobUpdates on the replica's
# job notifications, then the page's log query). Real job engine, real runner, real simulator, the
# shared test PostgreSQL; COGRION_BENCH_RUNS workspaces (default 3) at COGRION_BENCH_SPEED (default 100
# simulated seconds per second, so lines are paced as a real apply's, only faster).
# Last line: "runlog p95 ms: N".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
result=$(mktemp /tmp/cogrion-runlog.XXXXXX)
trap 'rm -f "$result"' EXIT
echo "building the tests…" >&2
dotnet build "$root/Portal.Tests" -v quiet -nologo >&2
COGRION_BENCH_RUNLOG="$result" dotnet test "$root/Portal.Tests" --no-build -nologo \
    --filter "FullyQualifiedName~RunLogLatencyBench" >&2
cat "$result"
