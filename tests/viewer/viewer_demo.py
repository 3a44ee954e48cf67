"""Handlers the viewer test serves with veba serve --viewer: one ok, one async, one failing."""

from __future__ import annotations

import asyncio
from typing import Any

from veba_sdk import Router

router = Router()


@router.on("EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent")
def sync_state(event: Any, ctx: Any) -> None:
    ctx.logger.info("host %s", event.host.name)


@router.on("VmPoweredOnEvent")
async def audit(event: Any, ctx: Any) -> None:
    await asyncio.sleep(0.02)  # a vROps call's worth of waiting, on the loop
    ctx.logger.info("vm %s powered on", event.vm.name)


@router.on("HostConnectionLostEvent")
def page_oncall(event: Any) -> None:
    raise RuntimeError("pager gateway answered 503")
