"""Importing veba_sdk.events stays light: no httpx, no pyvmomi, no class created."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import json, sys
import veba_sdk.events as ev
from veba_sdk.events import _models
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("httpx", "pyVmomi", "pyVim"))
print(json.dumps({"heavy": heavy, "created": len(_models._cache),
                  "classes": "veba_sdk.events._classes" in sys.modules}))
"""


def test_import_does_not_pull_heavy_modules_or_create_classes() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True
    ).stdout
    report = json.loads(out.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["classes"] is False
    assert report["created"] < 10
