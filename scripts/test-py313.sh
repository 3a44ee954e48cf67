#!/usr/bin/env bash
# The test suite under Python 3.13: Debian trixie's python3 in a root made by scripts/rootfs.sh
# (only the package registries are reachable, so the second interpreter comes from Debian),
# entered with chroot. The checkout is bind-mounted at its own path, so the editable install,
# the vCenter simulator (tests/vcsim/bin) and every path a test computes are the same as outside.
#
#   bash scripts/test-py313.sh [pytest arguments...]    make root and venv, run pytest there
#   bash scripts/test-py313.sh --build-only             make root and venv, stop
#   bash scripts/test-py313.sh --run COMMAND [ARG...]   run a command in the root (venv on PATH,
#                                                       working directory the checkout)
#
# In the root: /opt/veba-venv (extras all,test, cloudevents 1.x, functions-framework) runs the
# suite; /opt/veba-ce2 (func-python, cloudevents 2.x) serves the Knative func-python tests, as
# .matrix/ce2 does for the 3.11 run. Left out, each already run by the 3.11 run:
#   tests/kits       the image tests build images whose Python the image pins (a bookworm 3.11
#                    base) with the machine's Docker engine; from 3.13 they would test the same
#                    images again.
#   test_demo.py     runs the README's command, which makes .venv with the machine's python3;
#                    the flagship it runs is tested under 3.13 by test_maintenance_mode_sync.py.
#
# Environment:
#   PY313_ROOT     the root, default .matrix/trixie (git-ignored; made once, then reused)
#   PY313_REUSE=1  keep venvs that exist and match pyproject.toml instead of making them anew
#
# Mounted while it runs, in a mount namespace of its own (unshare), so the mounts are gone when
# it ends whatever the outcome, and unmounted on exit besides: /proc, /dev (with /dev/pts and
# /dev/shm), the checkout, and read-only the machine's CA certificates, pip configuration and
# the local package folders that configuration names, so pip inside sees the same indexes and
# trust as outside (/etc/resolv.conf and /etc/hosts are copied in; nothing of any of it goes
# into the repository). Runs on the same root take turns (a lock beside the root).
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOUT="$PWD"
ROOT="${PY313_ROOT:-.matrix/trixie}"
mkdir -p "$(dirname "$ROOT")"
ROOT="$(cd "$(dirname "$ROOT")" && pwd)/$(basename "$ROOT")"
PACKAGES=(wrk procps curl redis-server)  # wrk: HTTP load smoke test and benchmark; ps: process checks; curl: OpenFaaS tests;
# redis-server: the idempotency tests start their own
VENV=/opt/veba-venv
CE2=/opt/veba-ce2

if [ "${PY313_NAMESPACE:-}" != "$ROOT" ]; then
  exec 9>"$ROOT.lock"
  if ! flock -n 9; then
    echo "== py313: waiting for another run on $ROOT"
    flock 9
  fi
  PY313_NAMESPACE="$ROOT" exec unshare --mount --propagation private \
    bash "$CHECKOUT/scripts/$(basename "$0")" "$@"
fi

mode=test
case "${1:-}" in
  --build-only) mode=build; shift ;;
  --run) mode=run; shift ;;
esac

mounted() {  # the mount points under the root, deepest first
  awk -v root="$ROOT" '$2 == root || index($2, root "/") == 1 { print $2 }' /proc/self/mounts \
    | sort -r
}

unmount_all() {
  local point
  for point in $(mounted); do
    umount "$point" 2>/dev/null || umount -l "$point"
  done
}
trap unmount_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A root left mounted by an interrupted run is unmounted first: rootfs.sh may delete the root,
# and that must never reach through a bind mount into the checkout.
unmount_all
want="${PACKAGES[*]}"
if [ -f "$ROOT/.veba-rootfs" ] && [ "$(cat "$ROOT.packages" 2>/dev/null)" != "$want" ]; then
  echo "== py313: package list changed, making $ROOT anew"
  rm -rf --one-file-system "$ROOT"
fi
if [ ! -f "$ROOT/.veba-rootfs" ]; then
  echo "== py313: making $ROOT (debootstrap trixie)"
  started=$SECONDS
  bash scripts/rootfs.sh trixie "$ROOT" "${PACKAGES[@]}"
  echo "$want" > "$ROOT.packages"
  echo "== py313: root made in $((SECONDS - started)) s"
fi

BOUND=()
bind() {  # bind SOURCE [ro]: mount SOURCE at the same path inside the root
  local source="$1" target="$ROOT$1" done
  for done in "${BOUND[@]}"; do  # already visible through a folder mounted before
    case "$source" in "$done"|"$done"/*) return 0 ;; esac
  done
  if [ -d "$source" ]; then
    mkdir -p "$target"
  else
    mkdir -p "$(dirname "$target")"
    rm -f "$target"
    touch "$target"
  fi
  mount --bind "$source" "$target"
  if [ "${2:-}" = ro ]; then
    mount -o remount,bind,ro "$target"
  fi
  BOUND+=("$source")
}

mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount --make-rslave "$ROOT/dev"
bind "$CHECKOUT"
bind /etc/ssl/certs ro
for file in /etc/resolv.conf /etc/hosts; do  # name lookups (localhost, the package indexes)
  if [ -e "$file" ]; then
    rm -f "$ROOT$file"
    cp -L "$file" "$ROOT$file"
  fi
done
# pip's configuration: its files, and every local folder or file a setting names (find-links,
# constraints, the certificate bundle; for an index given as a file:// URL, the folder above it,
# where its pages point), each where pip expects it.
pip_paths() {
  local file
  for file in /etc/pip.conf /etc/xdg/pip "${XDG_CONFIG_HOME:-$HOME/.config}/pip" "$HOME/.pip"; do
    if [ -e "$file" ]; then echo "$file"; fi
  done
  { python3 -m pip config list 2>/dev/null || true; } \
    | sed -E "s/^[^=]*='?//; s/'$//" | tr ' ' '\n' \
    | sed -E 's#^file://(/.*[^/])/?$#\1/..#' | grep '^/' | while read -r path; do
        realpath -m "$path"
      done
}
for path in $(pip_paths | sort -u); do
  case "$path" in "$ROOT"|"$ROOT"/*) continue ;; esac
  if [ -e "$path" ]; then
    bind "$path" ro
  fi
done

inside() {  # inside COMMAND...: run in the root, from the checkout, venv first on PATH
  chroot "$ROOT" /usr/bin/env -C "$CHECKOUT" -u VIRTUAL_ENV -u PYTHONHOME HOME=/root \
    PATH="$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@"
}

quiet_pip() {  # pip's output less its warning for every index folder without a package's page
  sed -u "/^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory\.\$/d"
}

make_venv() {  # make_venv DIR PIP_ARGS...: a venv in the root, made anew unless PY313_REUSE=1
  local venv="$1" stamp="$ROOT$1/.veba-installed"
  shift
  if [ "${PY313_REUSE:-0}" = 1 ] && [ -f "$stamp" ] && [ ! "$CHECKOUT/pyproject.toml" -nt "$stamp" ]; then
    return 0
  fi
  echo "== py313: creating $venv"
  local started=$SECONDS
  rm -rf --one-file-system "$ROOT$venv"
  inside python3 -m venv "$venv"
  inside "$venv/bin/python" -m pip install --quiet --upgrade pip 2>&1 | quiet_pip
  inside "$venv/bin/python" -m pip install --quiet "$@" 2>&1 | quiet_pip
  touch "$stamp"
  echo "== py313: $venv made in $((SECONDS - started)) s"
}

make_venv "$VENV" -e ".[all,test]"
make_venv "$CE2" -e ".[vrops,knative,source,cli,fast]" "cloudevents>=2,<3" func-python
inside python -c 'import sys; print("== py313:", sys.version.split()[0], sys.executable)'

case "$mode" in
  build) exit 0 ;;
  run) inside "$@"; exit $? ;;
esac

if [ ! -x tests/vcsim/bin/vcsim ]; then  # the event-source tests' vCenter simulator
  bash tests/vcsim/build.sh
fi
status=0
inside env VEBA_CE2_VENV="$CE2" python -m pytest -q -p no:cacheprovider \
  --ignore=tests/kits \
  --deselect tests/examples/test_demo.py::test_readme_main_job_runs_the_flagship_end_to_end \
  "$@" || status=$?
exit "$status"
