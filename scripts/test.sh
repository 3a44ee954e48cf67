#!/usr/bin/env bash
# The whole test suite, from a fresh clone: environment, vCenter simulator, both cloudevents majors.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash tests/vcsim/build.sh
.venv/bin/python -m ruff check src tests scripts benchmarks examples adapters
.venv/bin/python -m mypy
.venv/bin/python scripts/generate_events.py --check
.venv/bin/python -m pytest -q "$@"
bash scripts/test-matrix.sh
