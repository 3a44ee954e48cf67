"""Contenders of ``metrics.py``: ``veba_knative``'s apps with ``metrics=True``.

Routers of their own, so the plain apps of ``veba_knative`` stay unobserved.
"""

from __future__ import annotations

from typing import Any

from veba_sdk import Router
from veba_sdk._observe import DispatchObserver
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


app_async = asgi(async_router, metrics=True)
app_sync = asgi(sync_router, metrics=True)


observed_router = Router()
observed_router.on("EnteredMaintenanceModeEvent")(on_maintenance)
observed_router.add_observer(DispatchObserver())  # does nothing: the hook's own cost
app_sync_observed = asgi(observed_router)

observed_async_router = Router()
observed_async_router.on("EnteredMaintenanceModeEvent")(on_maintenance_async)
observed_async_router.add_observer(DispatchObserver())
app_async_observed = asgi(observed_async_router)
