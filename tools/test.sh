#!/usr/bin/env bash
# Runs every test: installs what the tests need (PostgreSQL, Chromium, the dev identity provider's
# packages), builds the solution with warnings as errors, checks the code style (dotnet format),
# runs the dev identity provider's smoke test and every xunit project of the solution (the fast
# Portal.Tests.Unit, Cogrion.Jobs.Tests, and Portal.Tests, which starts its own PostgreSQL cluster,
# identity provider, Portal processes and one headless Chromium), and ends with one line:
#   tests: N passed, N failed, N skipped
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tools/prerequisites.sh test

echo "Building"
dotnet build Portal.sln -nologo -v quiet -clp:ErrorsOnly

# The house style (.editorconfig): counted as one failed check when `dotnet format` would change
# anything, and the suite still runs, so a style slip never hides what the tests say.
echo "Checking the code style"
style_failed=0
dotnet format Portal.sln --verify-no-changes --no-restore -v quiet \
  || { echo "The code drifted from .editorconfig: run 'dotnet format Portal.sln' and commit the result."; style_failed=1; }

echo "Smoke-testing the dev identity provider"
(cd tools/dev-idp && node smoke-test.mjs > "$root/artifacts-idp-smoke.log" 2>&1) \
  || { cat "$root/artifacts-idp-smoke.log"; rm -f "$root/artifacts-idp-smoke.log"; echo "tests: 0 passed, 1 failed, 0 skipped"; exit 1; }
rm -f "$root/artifacts-idp-smoke.log"

results="$root/artifacts/test-results"
rm -rf "$results"
echo "Running the test suite"
status=0
# One project at a time, each with its own report: the fast ones first, so a broken build of the
# rules shows in seconds, and the functional tests get the machine to themselves.
for project in $(dotnet sln Portal.sln list | grep -E 'Tests[^/]*\.csproj$' | sort); do
  name=$(basename "$project" .csproj)
  echo "== $name"
  dotnet test "$project" --no-build -nologo --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" "$@" || status=$?
done

# Count from the TRX reports (one per test project): the plain closing line CI reads.
passed=0; failed=0; total=0
for trx in $(find "$results" -name '*.trx' 2>/dev/null); do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$((total + $(value total)))
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
done
skipped=$((total - passed - failed))
failed=$((failed + style_failed))
if [ "$total" -eq 0 ] && [ "$status" -ne 0 ]; then failed=1; fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
