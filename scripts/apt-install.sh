#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet: apt-get update first, sudo only
# when not root. Used by scripts/setup.sh (the tests' servers) and bench/setup.sh (the benchmark's peers).
set -euo pipefail

missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]}"
if ! { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; then
  echo "could not install the Debian package(s) ${missing[*]}; install them and run this again" >&2
  exit 1
fi
