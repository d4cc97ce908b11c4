#!/usr/bin/env bash
# Installs what `npm run bench` needs besides what scripts/setup.sh installs: Debian's wait-for-it (one of
# the peers compared), GNU time (/usr/bin/time, whose %M gives every command's peak RSS), iproute2 (ip,
# to bring up loopback in the private network namespace where figure 2 counts refused connects),
# postgresql (initdb, postgres and psql: the real server of figure 1's PostgreSQL row), and podman, runc and
# debootstrap (figure 5 builds the image on stand-ins of its base images, as test/container.test.ts does);
# scripts/setup.sh installs the last four for the tests too, but the bench does not count on that. Packages
# are installed only when missing, with sudo only when not root (scripts/apt-install.sh).
set -euo pipefail

cd "$(dirname "$0")/.."
bash scripts/apt-install.sh wait-for-it time iproute2 postgresql podman runc debootstrap
