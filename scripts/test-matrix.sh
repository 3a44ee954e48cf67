#!/usr/bin/env bash
# The test suite under both cloudevents majors, each in a virtualenv made from scratch:
#
#   ce1  cloudevents 1.x with functions-framework (extras all,test): the GCF adapter's tests
#        run here, against the framework's real server.
#   ce2  cloudevents 2.x with Knative's func-python; functions-framework cannot be installed
#        there (it pins cloudevents<=1.12), so only its tests skip. Tests that build requests
#        with the 1.x API get it from cloudevents.v1 (tests/_cloudevents_v1_api.py).
#
# ce2 is built first and exported as VEBA_CE2_VENV, so the ce1 run's func-python tests use it.
#
# Usage: bash scripts/test-matrix.sh [--build-only] [pytest arguments...]
#   --build-only   make the environments and stop (scripts/test.sh builds ce2 for the main run)
# Environment:
#   MATRIX         environments to test, default "ce1 ce2" (e.g. MATRIX=ce2 when the main
#                  .venv, which has cloudevents 1.x, was tested already)
#   MATRIX_DIR     where the environments live, default .matrix (git-ignored)
#   MATRIX_REUSE=1 keep an environment that exists instead of making it anew
#   PYTHON         the interpreter that makes them, default python3
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_ONLY=0
if [ "${1:-}" = --build-only ]; then
  BUILD_ONLY=1
  shift
fi
PYTHON="${PYTHON:-python3}"
MATRIX="${MATRIX:-ce1 ce2}"
MATRIX_DIR="${MATRIX_DIR:-.matrix}"
mkdir -p "$MATRIX_DIR"
MATRIX_DIR="$(cd "$MATRIX_DIR" && pwd)"

make_env() {  # make_env NAME EXPECTED_MAJOR PIP_ARGS...
  local name="$1" major="$2"
  shift 2
  local venv="$MATRIX_DIR/$name"
  if [ "${MATRIX_REUSE:-0}" != 1 ] || [ ! -x "$venv/bin/python" ]; then
    echo "== $name: creating $venv"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "$@"
  fi
  local version
  version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("cloudevents"))')"
  case "$version" in
    "$major".*) echo "== $name: cloudevents $version" ;;
    *) echo "== $name: expected cloudevents $major.x, found $version" >&2; exit 1 ;;
  esac
}

for env in $MATRIX; do
  case "$env" in ce1|ce2) ;; *) echo "unknown environment '$env' (ce1, ce2)" >&2; exit 2 ;; esac
done

# The vCenter simulator some source tests use (idempotent; a no-op once built).
if [ -f tests/vcsim/build.sh ]; then
  bash tests/vcsim/build.sh
fi

# Build every environment before testing any: ce1's func-python tests need ce2.
if [[ " $MATRIX " == *" ce2 "* ]]; then
  make_env ce2 2 -e ".[vrops,knative,source,eventbridge,redis,dynamodb,cli,fast,oidc,metrics,otel,test]" "cloudevents>=2,<3" "func-python"
  export VEBA_CE2_VENV="$MATRIX_DIR/ce2"
fi
if [[ " $MATRIX " == *" ce1 "* ]]; then
  make_env ce1 1 -e ".[all,test]" "cloudevents>=1.11,<2"
fi

if [ "$BUILD_ONLY" = 1 ]; then
  exit 0
fi

status=0
for env in $MATRIX; do
  echo "== $env: pytest"
  plugin=()
  if [ "$env" = ce2 ]; then
    plugin=(-p _cloudevents_v1_api)
  fi
  PYTHONPATH="tests${PYTHONPATH:+:$PYTHONPATH}" \
    "$MATRIX_DIR/$env/bin/python" -m pytest -q -p no:cacheprovider "${plugin[@]}" "$@" \
    || status=$?
done
exit "$status"
