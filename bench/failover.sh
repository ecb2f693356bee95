#!/usr/bin/env bash
# Failover (issue 11): three real Portal processes, each with a home folder of its own, behind Debian's
# nginx with the shipped proxy rules (deploy/nginx), on one PostgreSQL and the dev identity provider.
# Signed-in browsers keep a page open on one replica, agents long-poll every replica, jobs run; that
# replica is SIGKILLed while commands keep being enqueued. Measured from outside: the time until every
# agent of the dead replica polls a live one (a command enqueued at the kill reaches it), commands lost
# and duplicated (every arrival of every id is counted at the agents), sessions signed out, circuits
# back, the dead replica's jobs run again after their leases.
#   bench/failover.sh [AGENTS_PER_REPLICA=30] [SESSIONS=3]
# Last line: "failover: repoll p99 s: N, lost N, duplicated N, signed out N" (goal: ≤ 10, 0, 0, 0).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
result=$(mktemp /tmp/cogrion-failover.XXXXXX)
trap 'rm -f "$result"' EXIT
bash "$root/tools/prerequisites.sh" test >&2
echo "building the tests…" >&2
dotnet build "$root/Portal.Tests" -v quiet -nologo -clp:ErrorsOnly >&2
COGRION_BENCH_FAILOVER="$result" COGRION_BENCH_AGENTS_PER_REPLICA="${1:-30}" COGRION_BENCH_SESSIONS="${2:-3}" \
  dotnet test "$root/Portal.Tests" --no-build -nologo --filter "FullyQualifiedName~FailoverBench" --logger "console;verbosity=normal" >&2
cat "$result"
