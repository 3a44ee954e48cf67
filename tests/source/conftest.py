"""Fixtures for the vCenter event source tests (helpers in source_helpers.py).

The simulator binary is built by tests/vcsim/build.sh (CI runs it first); when it is missing
the session fixture runs the script, and a failing build fails the tests rather than
skipping them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from source_helpers import ROOT, VCSIM_BIN, VCSIM_DIR, Poster, Receiver, Vcsim


@pytest.fixture(scope="session")
def vcsim_binary() -> Path:
    """The simulator binary, built by tests/vcsim/build.sh when missing."""
    if not VCSIM_BIN.exists():
        result = subprocess.run(
            ["sh", str(VCSIM_DIR / "build.sh")], capture_output=True, text=True, check=False
        )
        if result.returncode != 0 or not VCSIM_BIN.exists():
            pytest.fail(f"tests/vcsim/build.sh failed:\n{result.stdout}\n{result.stderr}")
    return VCSIM_BIN


@pytest.fixture
def vcsim(vcsim_binary: Path) -> Iterator[Vcsim]:
    """A fresh simulator (HTTPS, self-signed) for one test."""
    sim = Vcsim(vcsim_binary)
    yield sim
    sim.stop()


@pytest.fixture
def poster(vcsim: Vcsim) -> Iterator[Poster]:
    p = Poster(vcsim)
    yield p
    p.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """Environment for running ``python -m veba_sdk.source`` from the source tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    return env
