"""SAM: the Lambda kit's template passes cfn-lint, and ``sam build`` (no container) packages a
function that imports and answers in a clean interpreter, with veba-sdk from either private-build
route: the local index (``PIP_EXTRA_INDEX_URL`` in sam's environment) or a wheel in ``wheels/``.

aws-sam-cli and cfn-lint come from PyPI into their own venv, cached under ``.matrix/sam``
(git-ignored); the first run installs them (about 40 s).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kit_index import ROOT, PackageIndex

from veba_sdk.cli._kits import kit_dir
from veba_sdk.cli.new import scaffold
from veba_sdk.testing import make_event, to_eventbridge

pytestmark = pytest.mark.slow

SAM_VENV = ROOT / ".matrix" / "sam"
TOOLS = ("aws-sam-cli", "cfn-lint")


@pytest.fixture(scope="session")
def sam_tools() -> Path:
    """The venv's bin directory with ``sam`` and ``cfn-lint``, made once and then reused."""
    bin_dir = SAM_VENV / "bin"
    if not ((bin_dir / "sam").exists() and (bin_dir / "cfn-lint").exists()):
        shutil.rmtree(SAM_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(SAM_VENV)], check=True, timeout=120)
        installed = subprocess.run(
            [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", *TOOLS],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert installed.returncode == 0, installed.stdout + installed.stderr
    return bin_dir


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for sam and cfn-lint: no telemetry, no interpreter settings of ours."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "SAM_CLI_TELEMETRY": "0", **extra}


def test_template_passes_cfn_lint(sam_tools: Path) -> None:
    result = subprocess.run(
        [str(sam_tools / "cfn-lint"), str(kit_dir("lambda") / "template.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
        env=tool_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("route", ["index", "wheels"])
def test_sam_build_packages_a_function_that_imports(
    sam_tools: Path, kit_index: PackageIndex, kit_wheel: Path, route: str, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    scaffold("veba-kit-test", "lambda", app)
    extra = {}
    if route == "index":
        extra["PIP_EXTRA_INDEX_URL"] = kit_index.url
    else:
        shutil.copyfile(kit_wheel, app / "wheels" / kit_wheel.name)
    build_dir = tmp_path / "build"
    result = subprocess.run(
        [str(sam_tools / "sam"), "build", "--template-file", "template.yaml",
         "--build-dir", str(build_dir)],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=600,
        env=tool_env(**extra),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    function = build_dir / "VebaFunction"
    assert (function / "main.py").is_file()
    assert (function / "veba_sdk").is_dir()
    # The runtime interface client belongs in the image only: Lambda's runtime has its own.
    assert not list(function.glob("awslambdaric*"))
    # A clean interpreter of the function's runtime: no site-packages, only the package.
    python = shutil.which("python3.11") or sys.executable
    probe = (
        "import json, sys; sys.path.insert(0, '.'); import main; "
        "print(json.dumps(main.lambda_handler(json.load(sys.stdin), None)))"
    )
    event = to_eventbridge(make_event("EnteredMaintenanceModeEvent", host__name="esx01"))
    ran = subprocess.run(
        [python, "-I", "-S", "-c", probe],
        cwd=function,
        input=json.dumps(event),
        capture_output=True,
        text=True,
        timeout=60,
        env=tool_env(),
    )
    assert ran.returncode == 0, ran.stderr
    reply = ran.stdout.strip().splitlines()[-1]
    assert json.loads(reply) == {"event": "EnteredMaintenanceModeEvent", "host": "esx01"}
