"""Keeps benchmarks/http_load/idempotency.py from rotting: one tiny round of the Knative app
with no store, the in-memory store and the Redis store. The benchmark itself checks that Redis
holds one record per request (every request a new event, claimed and completed).

Needs wrk, taskset, redis-server and two cores; skipped otherwise. About 15 s.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "http_load" / "idempotency.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk missing: apt-get install -y wrk"),
    pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset (util-linux) missing"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server missing"),
    pytest.mark.skipif(
        not {0, 1} <= os.sched_getaffinity(0), reason="needs cores 0 and 1 for server and load"
    ),
]


def test_one_round_of_each_store() -> None:
    done = subprocess.run(
        [sys.executable, str(RUN), "--seconds", "1", "--rounds", "1"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    rows = {}
    for line in done.stdout.splitlines():
        found = re.match(r"\| (\w): .*? \| ([\d,]+) \| ([\d.]+) \|", line)
        if found:
            rows[found[1]] = (int(found[2].replace(",", "")), float(found[3]))
    assert set(rows) == {"n", "m", "r"}
    assert all(rps > 0 for rps, _ in rows.values())
    assert rows["n"][1] == 1.0
    records = re.search(r"redis records: ([\d,]+) for ([\d,]+) requests", done.stderr)
    assert records is not None, done.stderr
    assert int(records[1].replace(",", "")) >= int(records[2].replace(",", "")) > 1
