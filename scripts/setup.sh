#!/usr/bin/env bash
# Installs everything harbor-wait's tests and demo need on a fresh Debian/Ubuntu machine that has Node.js
# and npm: Debian's redis-server, redis-sentinel and openssl (real servers for the tests) and python3 (a
# listener that never accepts, for the fault-injection tests), podman and runc (test/container.test.ts builds
# the image and runs it; crun fails here) and debootstrap (the stand-ins for its base images), then the npm
# dependencies, Node.js 24 among them (the node@24 devDependency, which npm scripts run on), and helm for the
# rendered-chart tests (scripts/install-helm.sh: into a cache outside the tree, not a dependency).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/apt-install.sh redis-server redis-sentinel redis-tools openssl python3 postgresql podman runc debootstrap

npm ci --no-audit --no-fund
bash scripts/install-helm.sh >/dev/null
