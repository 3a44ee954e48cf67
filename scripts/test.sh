#!/usr/bin/env bash
# The whole test suite from a fresh clone: environments, vCenter simulator, linters,
# generated-code checks, then pytest under cloudevents 2.x (a second environment with
# Knative's func-python), under Python 3.13 (scripts/test-py313.sh: a Debian trixie root) and
# under cloudevents 1.x (.venv, with functions-framework, Python 3.11), whose summary closes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash tests/vcsim/build.sh
if ! command -v wrk >/dev/null 2>&1; then  # the HTTP load harness's smoke test drives wrk
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends wrk >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends wrk >/dev/null; }
fi
command -v redis-server >/dev/null 2>&1 || { apt-get install -y --no-install-recommends redis-server >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y --no-install-recommends redis-server >/dev/null; }; }  # tests/idempotency start their own
if ! command -v dockerd >/dev/null 2>&1; then  # tests/kits build and run the kits' images
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends docker.io >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends docker.io >/dev/null; }
fi
command -v chromium >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null; }  # tests/viewer's browser
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/python -m mypy
.venv/bin/python -m mypy --strict tests
# The directories' own conftest.py files share one module name: a run each (pyproject.toml).
for conftest in tests/*/conftest.py; do .venv/bin/python -m mypy --strict "$conftest"; done
.venv/bin/python scripts/generate_events.py --check
.venv/bin/python scripts/generate_event_docs.py --check
.venv/bin/python scripts/generate_eventex_catalogue.py --check
.venv/bin/python scripts/generate_sync_vrops.py --check
status=0
# cloudevents 2.x first: it also builds the func-python environment the 1.x run serves from.
# The kits' images, source deploys and SAM build do not depend on the runner's cloudevents:
# they run once, in the 1.x run below.
MATRIX=ce2 MATRIX_REUSE="${MATRIX_REUSE:-0}" bash scripts/test-matrix.sh --ignore=tests/kits "$@" \
  || status=$?
# Python 3.13: the whole suite again in a trixie chroot, less the kits' images (they pin their
# own Python) and the README's demo (it runs .venv's 3.11); see scripts/test-py313.sh.
PY313_REUSE="${PY313_REUSE:-0}" bash scripts/test-py313.sh "$@" || status=$?
VEBA_CE2_VENV="$PWD/.matrix/ce2" .venv/bin/python -m pytest -q -p no:cacheprovider "$@" \
  || status=$?
exit "$status"
