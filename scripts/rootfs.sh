#!/usr/bin/env bash
# Make a Debian root with debootstrap, from the Debian mirror this machine's apt already uses
# (only the package registries are reachable, so images and interpreters start from here).
#
#   bash scripts/rootfs.sh SUITE DIR [PACKAGE...]
#
# bookworm gives Python 3.11 (the stand-in for the python:3.11-slim image of the image tests),
# trixie Python 3.13 (the second interpreter CI tests). python3, venv, pip and CA certificates
# are always included. Idempotent: a finished root (marked .veba-rootfs) is left as it is.
set -euo pipefail
suite="$1" dir="$2"
shift 2
if [ -f "$dir/.veba-rootfs" ]; then
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends debootstrap >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends debootstrap >/dev/null; }
fi
# The first Debian archive URI that apt is configured with (deb822 or one-line sources).
mirror="$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
  | grep -v -e security -e updates | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//' \
  | awk '{print $1; exit}' || true)"
if [ -z "$mirror" ]; then
  echo "rootfs.sh: no Debian archive in this machine's apt sources" >&2
  exit 1
fi
packages="python3,python3-venv,python3-pip,ca-certificates"
for extra in "$@"; do packages="$packages,$extra"; done
rm -rf --one-file-system "$dir"  # never through a bind mount left inside
mkdir -p "$dir"
debootstrap --variant=minbase --include="$packages" "$suite" "$dir" "$mirror" >"$dir.log" 2>&1 \
  || { tail -20 "$dir.log" >&2; exit 1; }
touch "$dir/.veba-rootfs"
