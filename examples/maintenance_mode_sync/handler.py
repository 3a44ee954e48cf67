"""When a vCenter host enters maintenance mode, mark it maintained in vROps; on exit, unmark it.

Written once; `knative_app.py`, `openfaas_handler.py`, `lambda_function.py` and `gcf_main.py`
expose this same router on each platform.

Configuration, as VEBA users already set it (environment or secret files, see docs/vrops.md):
``VROPS_HOST``/``vropsFqdn``, ``VROPS_USERNAME``/``vropsUser``,
``VROPS_PASSWORD``/``vropsPassword``, optional ``VROPS_VERIFY``; and ``VCENTER_UUIDS``,
``"https://vc01.example.com/sdk=<vCenter instance uuid>,..."``, which lets the host be found by
its vCenter identity (MoRef + vCenter UUID) rather than by name.

Status policy: a vROps failure (down, 5xx after retries) raises, so the platform answers with a
retryable error and the broker redelivers. A host vROps does not know (or knows twice) is
not retried, as no retry could succeed: it is logged as an error and answered with
``{"skipped": ...}``.
"""

from __future__ import annotations

import os
from typing import Any

from veba_sdk import Context, Router
from veba_sdk.events import EnteredMaintenanceModeEvent, ExitMaintenanceModeEvent, HostEvent
from veba_sdk.vrops import AmbiguousResource, VropsClient, VropsNotFound

# Redeliveries of an event that was already mirrored are no-ops.
router = Router(idempotency=True)


def vrops() -> VropsClient:
    """The process-wide vROps client: one token shared by every event, host ids cached.

    Made from the environment on the first event, not at import: ``veba manifests`` and the
    tests import this module with no vROps settings (the test kit's ``vrops_client`` fixture
    makes ``shared()`` answer a client on ``FakeVrops``).
    """
    return VropsClient.shared(cache_host_ids=True)


def vcenter_uuids() -> dict[str, str]:
    """``VCENTER_UUIDS`` as ``{event source URL: vCenter instance UUID}``."""
    pairs = (item.split("=", 1) for item in os.environ.get("VCENTER_UUIDS", "").split(","))
    return {url.strip(): uuid.strip() for url, uuid in (p for p in pairs if len(p) == 2)}


def host_id(event: HostEvent, ctx: Context) -> str:
    """The vROps id of the event's host: by vCenter identity where known, else exact name."""
    if event.host is None or not event.host.name:
        raise ValueError(f"{ctx.name} {ctx.id} carries no host")
    client = vrops()
    vcenter_uuid = vcenter_uuids().get(ctx.source)
    moref = event.host.host.value if event.host.host is not None else None
    if moref and vcenter_uuid:
        try:
            return client.host_id(moref, vcenter_uuid)
        except VropsNotFound:
            ctx.logger.info("host %s (%s) not known by vCenter identity", event.host.name, moref)
    return client.host_id(event.host.name, vcenter_uuid)


@router.on("EnteredMaintenanceModeEvent")
def entered(event: EnteredMaintenanceModeEvent, ctx: Context) -> dict[str, Any]:
    """Mark the host maintained (until unmarked: MAINTAINED_MANUAL). Entering twice is fine."""
    return _mirror(event, ctx, maintained=True)


@router.on("ExitMaintenanceModeEvent")
def exited(event: ExitMaintenanceModeEvent, ctx: Context) -> dict[str, Any]:
    """End the host's maintenance. A host that is not maintained stays as it is."""
    return _mirror(event, ctx, maintained=False)


def _mirror(event: HostEvent, ctx: Context, *, maintained: bool) -> dict[str, Any]:
    name = event.host.name if event.host is not None else None
    try:
        resource_id = host_id(event, ctx)
    except (VropsNotFound, AmbiguousResource) as exc:  # a retry would never succeed
        ctx.logger.error("vROps has no single host for %s %s: %s", ctx.name, ctx.id, exc)
        return {"host": name, "skipped": str(exc)}
    if maintained:
        vrops().mark_maintained(resource_id)
    else:
        vrops().unmark_maintained(resource_id)
    ctx.logger.info("host %s maintained=%s in vROps (%s)", name, maintained, resource_id)
    return {"host": name, "resource_id": resource_id, "maintained": maintained}
