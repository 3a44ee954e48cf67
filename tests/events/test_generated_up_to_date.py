"""The committed generated files are what the generator writes today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_generated_files_are_up_to_date() -> None:
    pytest.importorskip("pyVmomi", reason="the generator reads pyvmomi's metadata")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_events.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
