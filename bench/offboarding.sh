#!/usr/bin/env bash
# Offboarding (issue 17): a tenant with a child tenant, 3 sandbox workspaces (2 destroyed, 1 kept) and 5 catalog apps, offboarded with
# real agents in simulated clusters, from the start to the purge. The figure is the Portal's overhead: the wall time minus the time
# the simulator's tofu processes ran (the cloud's own pace, simulated). Real Portal, agents, job engine and PostgreSQL of the tests.
#   bench/offboarding.sh
# Last line: "offboarding: overhead s: N" (goal: ≤ 60).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
result=$(mktemp /tmp/cogrion-offboarding.XXXXXX)
trap 'rm -f "$result"' EXIT
echo "building the tests…" >&2
dotnet build "$root/Portal.Tests" -v quiet -nologo -clp:ErrorsOnly >&2
COGRION_BENCH_OFFBOARDING="$result" dotnet test "$root/Portal.Tests" --no-build -nologo \
    --filter "FullyQualifiedName~OffboardingBench" --logger "console;verbosity=normal" >&2
cat "$result"
