#!/usr/bin/env bash
# Installs what `npm run bench` needs besides what scripts/setup.sh installs: Debian's wait-for-it (one of
# the peers compared), GNU time (/usr/bin/time, whose %M gives every command's peak RSS), iproute2 (ip,
# to bring up loopback in the private network namespace where figure 2 counts refused connects), and
# postgresql (initdb, postgres and psql: the real server of figure 1's PostgreSQL row; scripts/setup.sh
# installs it for the tests too, but the bench does not count on that). Packages are installed only when
# missing, with sudo only when not root (scripts/apt-install.sh).
set -euo pipefail

cd "$(dirname "$0")/.."
bash scripts/apt-install.sh wait-for-it time iproute2 postgresql
