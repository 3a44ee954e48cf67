"""What each kit installs: veba-sdk with the platform's extra in a range admitting this version,
one pip step in the Dockerfile over exactly that file, and the private-build hooks in place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from veba_sdk.cli._kits import TARGETS, kit_dir

ROOT = Path(__file__).resolve().parents[2]
_VERSION = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
assert _VERSION is not None, "pyproject.toml has no version"
VERSION = Version(_VERSION.group(1))
#: What each image adds to requirements.txt, and only the image: the server it runs.
IMAGE_ONLY = {"knative": [], "openfaas": ['"waitress>=3"'], "lambda": ["awslambdaric"], "gcf": []}


def requirements(target: str) -> list[str]:
    """The requirement lines of the kit's requirements.txt (no comments, no options)."""
    lines = (kit_dir(target) / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "-"))]


def pip_steps(target: str) -> list[str]:
    """The Dockerfile's RUN instructions that call pip."""
    text = (kit_dir(target) / "Dockerfile").read_text().replace("\\\n", " ")
    return [line for line in text.splitlines() if line.startswith("RUN") and "pip" in line]


@pytest.mark.parametrize("target", TARGETS)
def test_requirements_carry_veba_sdk_with_the_platform_extra(target: str) -> None:
    (line,) = [r for r in requirements(target) if Requirement(r).name == "veba-sdk"]
    requirement = Requirement(line)
    assert requirement.extras == {target}
    assert requirement.specifier.contains(VERSION), f"{line} does not admit {VERSION}"
    # A compatible range: a floor and a ceiling below the next breaking release.
    operators = {spec.operator for spec in requirement.specifier}
    assert operators in ({">=", "<"}, {"~="}), operators
    next_breaking = Version(f"{VERSION.major}.{VERSION.minor + 1}" if VERSION.major == 0 else
                            f"{VERSION.major + 1}")  # fmt: skip
    assert not requirement.specifier.contains(next_breaking)


@pytest.mark.parametrize("target", TARGETS)
def test_dockerfile_installs_requirements_in_one_pip_step(target: str) -> None:
    (step,) = pip_steps(target)
    assert step.split() == ["RUN", "pip", "install", "-r", "requirements.txt", *IMAGE_ONLY[target]]
    names = {Requirement(r).name for r in requirements(target)}
    assert not names & {"awslambdaric", "waitress"}, "image-only servers belong in the Dockerfile"


@pytest.mark.parametrize("target", TARGETS)
def test_private_build_hooks(target: str) -> None:
    """``--find-links wheels`` (read relative to requirements.txt), a wheels/ folder the
    Dockerfile copies before installing, and the index URLs as build arguments."""
    kit = kit_dir(target)
    assert "--find-links wheels" in (kit / "requirements.txt").read_text().splitlines()
    assert (kit / "wheels").is_dir()
    dockerfile = (kit / "Dockerfile").read_text()
    assert dockerfile.index("COPY wheels/ wheels/") < dockerfile.index("RUN pip install")
    assert re.search(r"^ARG PIP_INDEX_URL$", dockerfile, re.M)
    assert re.search(r"^ARG PIP_EXTRA_INDEX_URL$", dockerfile, re.M)


def test_gcf_user_has_a_home_and_main_registers_a_cloudevent_function() -> None:
    kit = kit_dir("gcf")
    assert "--create-home --home-dir /home/veba" in (kit / "Dockerfile").read_text()
    assert "--signature-type" not in (kit / "Dockerfile").read_text()
    assert "functions_framework.cloud_event(" in (kit / "main.py").read_text()
