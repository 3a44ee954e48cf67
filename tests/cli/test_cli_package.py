"""The ``veba_sdk.cli`` package itself: its entry points, its option types, its error base."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import pytest

import veba_sdk.cli
from veba_sdk import VebaError
from veba_sdk.cli._kits import TARGETS, Target
from veba_sdk.config import ENCODINGS, Encoding
from veba_sdk.manifests import ManifestError
from veba_sdk.wire import PRODUCERS, Producer


def test_python_dash_m_runs_the_veba_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "veba_sdk.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: veba ")
    for name in veba_sdk.cli.COMMANDS:
        assert f"  {name} " in done.stdout


def test_the_cli_package_imports_without_click_or_its_group() -> None:
    """``veba_sdk.cli`` holds ``main`` and ``COMMANDS``; the click group loads only in main()."""
    code = (
        "import sys\n"
        "import veba_sdk.cli\n"
        "assert 'click' not in sys.modules, 'click'\n"
        "assert 'veba_sdk.cli._main' not in sys.modules, '_main'\n"
        "print(','.join(veba_sdk.cli.COMMANDS))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ",".join(veba_sdk.cli.COMMANDS)


def test_veba_help_loads_neither_the_generators_nor_the_config_models() -> None:
    code = (
        "import sys\n"
        "from veba_sdk.cli import main\n"
        "status = main(['--help'])\n"
        "loaded = [m for m in ('veba_sdk.manifests', 'veba_sdk.config', 'veba_sdk.source')\n"
        "          if m in sys.modules]\n"
        "print(status, loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 []"


def test_a_manifest_error_is_a_veba_error() -> None:
    with pytest.raises(VebaError, match="no platform"):
        raise ManifestError("no platform")
    assert not issubclass(ManifestError, ValueError)  # as before: only the root was added


def test_option_literals_match_the_choices() -> None:
    """The Literal types of the options name exactly the values click lets through."""
    assert get_args(Target) == TARGETS
    assert get_args(Producer) == PRODUCERS
    assert get_args(Encoding) == ENCODINGS
