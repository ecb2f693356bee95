#!/usr/bin/env bash
# Secret delivery (issue 15): from "Save" on the Secrets page in Chromium to the page showing the new
# version applied by the workspace's agent (the real agent binary in a simulated cluster, the real Portal
# process). COGRION_BENCH_SECRETS_ROUNDS saves (default 20). Last line: "secrets: delivery p95 ms: N".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
result=$(mktemp /tmp/cogrion-secrets.XXXXXX)
trap 'rm -f "$result"' EXIT
echo "building the tests…" >&2
dotnet build "$root/Portal.Tests" -v quiet -nologo >&2
COGRION_BENCH_SECRETS="$result" dotnet test "$root/Portal.Tests" --no-build -nologo \
    --filter "FullyQualifiedName~SecretDeliveryBench" >&2
cat "$result"
