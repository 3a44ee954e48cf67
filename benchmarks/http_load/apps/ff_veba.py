"""Contender (f): veba-sdk's gcf adapter under functions-framework's default server."""

from __future__ import annotations

from typing import Any

from veba_sdk import Router
from veba_sdk.adapters.gcf import function

SEEN: list[str] = [""]

router = Router()


@router.on("EnteredMaintenanceModeEvent")
def on_maintenance(event: Any) -> None:
    """Read the host's name, like a real handler would before acting on it."""
    SEEN[0] = event.host.name


handle = function(router)
