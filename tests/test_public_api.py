"""The flat public namespace: every exported name resolves, and the API type-checks as used."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

import veba_sdk
import veba_sdk.events
import veba_sdk.idempotency

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "module", [veba_sdk, veba_sdk.events, veba_sdk.idempotency], ids=lambda m: m.__name__
)
def test_every_exported_name_resolves(module: types.ModuleType) -> None:
    exported = module.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert getattr(module, name) is not None, name


def test_package_exports_what_its_modules_define() -> None:
    from veba_sdk import _context, _errors, _idempotency, _router

    public = {name for module in (_context, _errors, _idempotency) for name in module.__all__} | {
        "Router",
        "Route",
        "DispatchResult",
        "DuplicateInProgress",
    }
    assert public <= set(veba_sdk.__all__)
    assert {"Envelope", "decode_http", "from_cloudevent", "parse_event", "to_dict"} <= set(
        veba_sdk.__all__
    )
    assert set(_router.__all__) - set(veba_sdk.__all__) == {"idempotency_key", "iter_routes"}


def test_public_api_type_checks_strictly() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "tests/typing/public_api_usage.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
