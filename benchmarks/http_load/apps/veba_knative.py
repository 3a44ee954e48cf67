"""Contenders (b), (c) and (i): veba-sdk's Knative ASGI app under uvicorn.

``app_async`` serves an ``async def`` handler (runs on the loop), ``app_sync`` a plain ``def``
handler (runs in a worker thread, the default). Both read ``event.host.name``.
``app_sync_default_gc`` is ``app_sync`` leaving the garbage collector at CPython's default
(``gc_threshold=None``), to show what the app's own setting is worth.
"""

from __future__ import annotations

from typing import Any

from veba_sdk import Router
from veba_sdk.adapters.knative import asgi

SEEN: list[str] = [""]

async_router = Router()
sync_router = Router()


@async_router.on("EnteredMaintenanceModeEvent")
async def on_maintenance_async(event: Any) -> None:
    """Read the host's name, like a real handler would before acting on it."""
    SEEN[0] = event.host.name


@sync_router.on("EnteredMaintenanceModeEvent")
def on_maintenance(event: Any) -> None:
    """Read the host's name, like a real handler would before acting on it."""
    SEEN[0] = event.host.name


app_async = asgi(async_router)
app_sync = asgi(sync_router)
app_sync_default_gc = asgi(sync_router, gc_threshold=None)
