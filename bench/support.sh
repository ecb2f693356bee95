#!/usr/bin/env bash
# Support access (issue 16): from a tenant admin's revoke to the agent enforcing it (the real agent binary in a
# simulated cluster has saved the grant as ended and reported the support.revoke command), over 100 grants each
# approved with a passkey signature the agent verified, while a fleet of other agents long-polls the same Portal
# and answers commands enqueued for it.
#   COGRION_BENCH_SUPPORT_GRANTS (100), COGRION_BENCH_SUPPORT_FLEET (200 agents), COGRION_BENCH_SUPPORT_RATE (50 commands/s)
# Last line: "support: revoke p99 ms: N".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
result=$(mktemp /tmp/cogrion-support.XXXXXX)
trap 'rm -f "$result"' EXIT
echo "building the tests…" >&2
dotnet build "$root/Portal.Tests" -v quiet -nologo >&2
COGRION_BENCH_SUPPORT="$result" dotnet test "$root/Portal.Tests" --no-build -nologo \
    --filter "FullyQualifiedName~SupportRevokeBench" >&2
cat "$result"
