"""The documentation: the generated event reference is current and the mkdocs site builds.

``mkdocs build --strict`` fails on broken links between pages, links to missing anchors and
pages left out of the navigation, so this test keeps the docs linked as well as buildable.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_event_reference_is_current() -> None:
    """``docs/events.md`` is what ``scripts/generate_event_docs.py`` makes of the catalogue."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_event_docs.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_event_reference_lists_every_class() -> None:
    """Every catalogue class and argument type has its own section."""
    from veba_sdk.events._catalogue import ARGUMENTS, EVENTS

    headings = {
        line[4:].strip()
        for line in (ROOT / "docs" / "events.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("### ")
    }
    assert len(EVENTS) == 443
    assert headings == set(EVENTS) | set(ARGUMENTS)


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """``mkdocs build --strict`` passes, into a temporary site directory."""
    pytest.importorskip("mkdocs", reason="mkdocs is in the test extra")
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
    command = [mkdocs] if mkdocs else [sys.executable, "-m", "mkdocs"]
    result = subprocess.run(
        [*command, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "events" / "index.html").exists()
    assert (tmp_path / "site" / "migration" / "index.html").exists()
