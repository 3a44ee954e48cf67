"""veba_sdk.auth's public names: each resolves, is documented, and type-checks as users write it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import veba_sdk.auth

ROOT = Path(__file__).parents[2]


def test_every_exported_name_resolves_and_is_documented() -> None:
    for name in veba_sdk.auth.__all__:
        value = getattr(veba_sdk.auth, name)
        assert (value.__doc__ or "").strip(), name
    assert set(veba_sdk.auth.__all__) >= {"OIDCAuth", "BasicAuth", "HMACAuth", "from_env"}


def test_auth_usage_type_checks_strictly() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "tests/typing/auth_usage.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
