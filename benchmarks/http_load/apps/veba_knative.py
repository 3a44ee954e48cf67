"""Contenders (b), (c) and (i): veba-sdk's Knative ASGI app under uvicorn.

``app_async`` serves an ``async def`` handler (runs on the loop), ``app_sync`` a plain ``def``
handler (runs in a worker thread, the default). Both read ``event.host.name``.
``app_sync_default_gc`` is ``app_sync`` leaving the garbage collector at CPython's default
(``gc_threshold=None``), to show what the app's own setting is worth. ``app_sync_fixed_gc``
also leaves the app's setting off, after setting the youngest-generation threshold to
``$VEBA_BENCH_GC_THRESHOLD`` when that is given (``gc_sweep.py`` compares thresholds with it),
and answers ``GET /_gc_stats`` with the collector's statistics (``gc.get_stats()``).
"""

from __future__ import annotations

import gc
import json
import os
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

if os.environ.get("VEBA_BENCH_GC_THRESHOLD"):
    gc.set_threshold(int(os.environ["VEBA_BENCH_GC_THRESHOLD"]), *gc.get_threshold()[1:])
_fixed_gc = asgi(sync_router, gc_threshold=None)


async def app_sync_fixed_gc(scope: Any, receive: Any, send: Any) -> None:
    """``app_sync`` with the collector as set above, plus ``GET /_gc_stats``."""
    if scope["type"] == "http" and scope["path"] == "/_gc_stats":
        body = json.dumps(gc.get_stats()).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await _fixed_gc(scope, receive, send)
