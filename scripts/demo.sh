#!/usr/bin/env bash
# The main job: the flagship example end to end on loopback (function + vROps stand-in).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m examples.maintenance_mode_sync.demo "$@"
