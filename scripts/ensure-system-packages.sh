#!/usr/bin/env bash
# Installs the Debian packages that the platform's tests and benchmarks talk to (real clients,
# real sshd, real browser, a load generator, a load balancer). Idempotent: does nothing when everything is present.
set -euo pipefail

# command → Debian package
declare -A NEEDED=(
  [skopeo]=skopeo
  [umoci]=umoci
  [docker-registry]=docker-registry
  [sshd]=openssh-server
  [sudo]=sudo
  [chromium]=chromium
  [wrk]=wrk
  [unzip]=unzip
  [haproxy]=haproxy
  [zstd]=zstd
  # The Pier One benchmark reads its large download with curl.
  [curl]=curl
  # Daemonless OCI clients (Pier One's podman/buildah tests: vfs storage, no user namespaces needed as root).
  [podman]=podman
  [buildah]=buildah
)

missing=()
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDED[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "missing Debian packages (${missing[*]}) and not root: install them first" >&2
    exit 1
  fi
else SUDO=""; fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
