#!/usr/bin/env bash
# Installs what `npm run bench` needs besides what scripts/setup.sh installs: Debian's wait-for-it (one of
# the peers compared), GNU time (/usr/bin/time, whose %M gives every command's peak RSS) and iproute2 (ip,
# to bring up loopback in the private network namespace where figure 2 counts refused connects). Packages
# are installed only when missing, with sudo only when not root, as scripts/setup.sh does.
set -euo pipefail

packages=(wait-for-it time iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bench/setup.sh: installing ${missing[*]}"
  if ! { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; then
    echo "bench/setup.sh: could not install the Debian package(s) ${missing[*]}; install them and run npm run bench again" >&2
    exit 1
  fi
fi
