"""Keeps benchmarks/http_load/gc_sweep.py from rotting (a tiny sweep of two thresholds), and
checks how benchmark sections are named when they come from a second interpreter.

The sweep needs wrk, taskset and two cores, like test_http_load_smoke.py; about 10 s.
"""

from __future__ import annotations

import gc
import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "benchmarks" / "http_load" / "gc_sweep.py"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk missing: apt-get install -y wrk")
@pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset (util-linux) missing")
@pytest.mark.skipif(
    not {0, 1} <= os.sched_getaffinity(0), reason="needs cores 0 and 1 for server and load"
)
def test_tiny_sweep_counts_collections_per_threshold() -> None:
    done = subprocess.run(
        [
            sys.executable, str(SWEEP), "--thresholds", "default,700", "--connections", "16",
            "--seconds", "1", "--warmup", "0.5", "--rounds", "1",
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert f"## Garbage collector threshold: Python {version}" in done.stdout
    rows = re.findall(
        r"^\| 16 \| (\S+)(?: \(default\))? \| ([\d,]+) \| [\d.]+x \| [\d.]+ / [\d.]+ \| "
        r"([\d.]+) / ([\d.]+) / ([\d.]+) \| [\d.]+ \| \d+ \|$",
        done.stdout,
        re.M,
    )
    assert [row[0] for row in rows] == [str(gc.get_threshold()[0]), "700"]
    for _, rps, *collections in rows:
        assert int(rps.replace(",", "")) > 0
        assert all(float(c) >= 0 for c in collections)


def test_sections_from_a_second_interpreter_are_named_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        report = importlib.import_module("_report")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    page = tmp_path / "performance.md"
    page.write_text("# Performance\n\n## HTTP load\n\nmain interpreter\n")
    monkeypatch.setattr(report, "PERFORMANCE", page)
    python = f"Python {sys.version_info[0]}.{sys.version_info[1]}"

    monkeypatch.setenv("VEBA_BENCH_NAME_PYTHON", "1")
    report.write_section("HTTP load", "## HTTP load\n\nsecond interpreter\n")
    report.write_section(f"GC: {python}", f"## GC: {python}\n\nnamed already\n")
    text = page.read_text()
    assert "## HTTP load\n\nmain interpreter\n" in text
    assert f"## HTTP load ({python})\n\nsecond interpreter\n" in text
    assert f"## GC: {python}\n\nnamed already\n" in text
    assert f"({python}) ({python})" not in text

    monkeypatch.delenv("VEBA_BENCH_NAME_PYTHON")
    report.write_section("HTTP load", "## HTTP load\n\nmain again\n")
    text = page.read_text()
    assert "## HTTP load\n\nmain again\n" in text
    assert f"## HTTP load ({python})\n\nsecond interpreter\n" in text
