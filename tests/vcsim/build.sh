#!/bin/sh
# Build tests/vcsim/bin/vcsim: govmomi's vCenter simulator from Debian's packages.
#
# Installs golang-go and golang-github-vmware-govmomi-dev with apt-get when they are
# missing (needs root), then builds in GOPATH mode. One file of the simulator,
# event_manager.go, is replaced at build time (go build -overlay) by a copy with
# event_manager.patch applied: Debian's govmomi 0.24.2 EventHistoryCollector.ReadNextEvents
# never returns events posted after the collector was read to its end, which is the one
# thing an event source relies on. Nothing outside tests/vcsim/bin is written.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
gopath=/usr/share/gocode
simdir=$gopath/src/github.com/vmware/govmomi/simulator

if ! command -v go >/dev/null 2>&1 || [ ! -f "$simdir/event_manager.go" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends golang-go golang-github-vmware-govmomi-dev patch
fi

mkdir -p "$here/bin/overlay"
cp "$simdir/event_manager.go" "$here/bin/overlay/event_manager.go"
(cd "$here/bin/overlay" && patch -s -p2 < "$here/event_manager.patch")
printf '{"Replace": {"%s": "%s"}}\n' "$simdir/event_manager.go" "$here/bin/overlay/event_manager.go" \
    > "$here/bin/overlay/overlay.json"

cd "$here"
GO111MODULE=off GOPATH=$gopath GOFLAGS= GOCACHE="${GOCACHE:-$here/bin/gocache}" \
    go build -overlay "$here/bin/overlay/overlay.json" -o "$here/bin/vcsim" .
echo "built $here/bin/vcsim"
