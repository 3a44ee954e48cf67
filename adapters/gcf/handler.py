"""veba-function: a VEBA function.

Register handlers on ``router`` with ``@router.on(...)``: a class name, a glob ("Vm*Event"),
an event model class (every subclass too) or an EventEx type id ("com.vmware.vc.HA.*").
Handlers take ``(event)`` or ``(event, ctx)``; a returned dict becomes the response body.
"""

from __future__ import annotations

from typing import Any

from veba_sdk import Context, Router

router = Router()


@router.on("EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent")
def maintenance(event: Any, ctx: Context) -> dict[str, Any]:
    """A host entered or left maintenance mode."""
    host = event.host.name if event.host is not None else None
    ctx.logger.info("%s: host %s", ctx.name, host)
    return {"event": ctx.name, "host": host}
