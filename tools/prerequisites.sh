#!/usr/bin/env bash
# Installs what the Portal needs on a Debian machine, once: idempotent and quiet when all is there.
# Used by tools/start.sh and tools/test.sh.
#
#   tools/prerequisites.sh run     PostgreSQL server, Node packages of the dev identity provider and of tools/hcl2json
#   tools/prerequisites.sh test    the same, plus Debian's Chromium for the browser tests, nginx for the
#                                  failover test (a real reverse proxy in front of three Portals) and
#                                  kubectl (it renders deploy/kubernetes offline; no cluster needed)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
need=${1:-run}

packages=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
command -v curl >/dev/null 2>&1 || packages+=(curl)
if [ "$need" = "test" ]; then
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  [ -x /usr/sbin/nginx ] || packages+=(nginx)
  command -v kubectl >/dev/null 2>&1 || packages+=(kubectl)
fi

if [ ${#packages[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${packages[*]}"
  sudo=""
  [ "$(id -u)" = "0" ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# The dev identity provider's packages, exactly as locked.
idp="$here/dev-idp"
stamp="$idp/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$idp/package-lock.json" -nt "$stamp" ]; then
  echo "Installing the dev identity provider's npm packages"
  (cd "$idp" && npm ci --silent --no-audit --no-fund)
fi

# The HCL parser the module contract test uses (Portal.Tests/Workspaces/Modules), exactly as locked.
hcl2json="$here/hcl2json"
stamp="$hcl2json/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$hcl2json/package-lock.json" -nt "$stamp" ]; then
  echo "Installing the hcl2json tool's npm packages"
  (cd "$hcl2json" && npm ci --silent --no-audit --no-fund)
fi
