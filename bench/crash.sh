#!/usr/bin/env bash
# Crash safety of sandbox runs (issue 12): N (at least 10) SIGKILLs of a Portal process at random
# points of sandbox runs, each followed by a new Portal on the same database and machine; counts what
# the dead Portal left running (orphans), applies of one state that overlapped (the simulator's apply
# journal), and workspaces left inconsistent; a killed run counts as recovered when a retry makes its
# workspace ready. Real Portal processes, the real lifeline, runner and simulator, the tests' PostgreSQL.
#   bench/crash.sh [KILLS=10]     (COGRION_BENCH_SEED=N repeats a run's random points)
# Last line: "crash: kills N, orphans N, double applies N, stuck N" (goal: 0, 0, 0).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
result=$(mktemp /tmp/cogrion-crash.XXXXXX)
trap 'rm -f "$result"' EXIT
echo "building the tests…" >&2
dotnet build "$root/Portal.Tests" -v quiet -nologo -clp:ErrorsOnly >&2
COGRION_BENCH_CRASH="$result" COGRION_BENCH_KILLS="${1:-10}" dotnet test "$root/Portal.Tests" --no-build -nologo \
    --filter "FullyQualifiedName~CrashBench" --logger "console;verbosity=normal" >&2
cat "$result"
