"""Helpers for testing VEBA functions.

``FakeVrops`` is imported lazily: importing ``veba_sdk.testing`` does not need
httpx (the ``vrops`` extra) unless the fake is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from veba_sdk.testing._fake_vrops import FakeVrops

__all__ = ["FakeVrops"]


def __getattr__(name: str) -> Any:
    if name == "FakeVrops":
        from veba_sdk.testing._fake_vrops import FakeVrops

        return FakeVrops
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
