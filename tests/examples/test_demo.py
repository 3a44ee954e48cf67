"""The README's main-job command, run as a user runs it, with its output asserted."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_readme_main_job_runs_the_flagship_end_to_end() -> None:
    readme = (ROOT / "README.md").read_text()
    first_command = re.search(r"```bash\n(.+?)\s+#", readme)
    assert first_command is not None
    assert first_command.group(1) == "bash scripts/demo.sh"
    done = subprocess.run(
        ["bash", "scripts/demo.sh"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    states = re.findall(
        r"^\s+(router / structured|vsphere-source / binary)\s+(\w+)\s+-> HTTP 200; "
        r"vROps state: (\w+)$",
        done.stdout,
        re.M,
    )
    assert states == [
        ("router / structured", "EnteredMaintenanceModeEvent", "MAINTAINED_MANUAL"),
        ("router / structured", "ExitMaintenanceModeEvent", "STARTED"),
        ("vsphere-source / binary", "EnteredMaintenanceModeEvent", "MAINTAINED_MANUAL"),
        ("vsphere-source / binary", "ExitMaintenanceModeEvent", "STARTED"),
    ]
    assert "esx01.lab.local in vROps: STARTED" in done.stdout
    assert "1 token acquire" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
