"""The deployment kits: `adapters/<platform>/` in a checkout, `veba_sdk/_kits` in a wheel."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["KIT_NAME", "TARGETS", "Target", "kit_dir"]

#: Placeholder in every kit file, replaced by the project name.
KIT_NAME = "veba-function"
#: The platforms a function is deployed to (``veba new --target``, ``veba manifests --target``).
Target = Literal["knative", "openfaas", "lambda", "gcf"]
TARGETS: tuple[Target, ...] = ("knative", "openfaas", "lambda", "gcf")


def kit_dir(target: str) -> Path:
    """The directory of a platform's kit.

    Raises:
        FileNotFoundError: the kits are neither packaged nor in a source checkout.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: use {', '.join(TARGETS)}")
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_kits" / target, package.parents[1] / "adapters" / target):
        if (candidate / "handler.py").is_file():
            return candidate
    raise FileNotFoundError(f"the {target} kit is not installed with veba-sdk")
