#!/usr/bin/env bash
# Installs everything harbor-wait's tests and demo need on a fresh Debian/Ubuntu machine that has Node.js
# and npm: Debian's redis-server, redis-sentinel and openssl (real servers for the tests) and python3 (a
# listener that never accepts, for the fault-injection tests), then the npm dependencies, Node.js 24 among
# them (the node@24 devDependency, which npm scripts run on).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(redis-server redis-sentinel redis-tools openssl python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

npm ci --no-audit --no-fund
