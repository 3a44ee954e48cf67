"""Type-checked (mypy --strict) by tests/test_public_api.py: the public API as users write it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from veba_sdk import Context, DispatchResult, Reply, Router, on
from veba_sdk.events import (
    EnteredMaintenanceModeEvent,
    Envelope,
    HorizonEvent,
    TypeIdInfo,
    VmPoweredOnEvent,
    decode_http,
    parse_event,
    type_id_info,
)

router = Router(idempotency=True)
blocking = Router(handler_threads=64)  # def handlers waiting on I/O: a pool of its own


@router.on("EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent")
def sync_state(event: EnteredMaintenanceModeEvent, ctx: Context) -> dict[str, Any]:
    name: str | None = event.host.name if event.host is not None else None
    ctx.logger.info("host %s", name)
    return {"host": name}


@on("com.vmware.vc.HA.*")
async def ha(event: Any, ctx: Context) -> Reply:
    return ctx.reply(type="com.example.ha", data={"id": ctx.id})


@router.on("VmPoweredOnEvent")  # DrsVmPoweredOnEvent too
@router.on("VmPoweredOnEvent", exact=True)
@router.on("com.acme.vcenter10.NewEvent", uncatalogued=True)
def powered_on(event: VmPoweredOnEvent) -> None:
    print(event.vm.name if event.vm is not None else None)


@router.on("horizon.VLSI_USERLOGIN_REST_FAILED", "horizon.BROKER_*")
def horizon(event: HorizonEvent, ctx: Context) -> None:
    when: datetime | None = event.time
    ctx.logger.warning("%s at %s: %s", event.type, when, event.message)


@router.on_type("com.example.ci.*", where=lambda data: bool(data))
def webhook(event: Any, ctx: Context) -> dict[str, Any]:
    return {"type": ctx.type, "category": ctx.category, "data": event}


def catalogue(type_id: str) -> str | None:
    info: TypeIdInfo | None = type_id_info(type_id)
    return None if info is None else f"{info.kind}: {info.description} {info.releases}"


def dispatch(headers: dict[str, str], body: bytes) -> bool:
    envelope: Envelope = decode_http(headers, body)
    result: DispatchResult = router.dispatch(envelope)
    key: int | None = parse_event(body, name="EnteredMaintenanceModeEvent").key
    return result.ok and key is not None


def mark_host(event: EnteredMaintenanceModeEvent) -> str | None:
    """The process-wide vROps client, made on first use (``VropsClient.shared()``)."""
    from veba_sdk.vrops import VropsClient

    if event.host is None or not event.host.name:
        return None
    return VropsClient.shared(cache_host_ids=True).mark_host_maintained(event.host.name)


def test_client_answers() -> int:
    """The test kit's in-process client, as a function's own test uses it."""
    from veba_sdk.testing import ClientResponse, FunctionClient, client

    with client(router, platform="openfaas") as function:
        checked: FunctionClient = function
        response: ClientResponse = checked.send("EnteredMaintenanceModeEvent", host__name="e1")
        garbage: ClientResponse = checked.post(b"{", headers={"content-type": "text/plain"})
    body: Any = response.json() if response.ok else None
    return garbage.status if body is None else response.status


def configure_logging() -> None:
    """Logging as an entry module sets it up before the adapter does (veba_sdk.logging)."""
    import logging

    from veba_sdk.logging import JsonFormatter, formatter, setup

    handler: logging.Handler | None = setup(level="DEBUG", json=True)
    if handler is None:  # the process had configured logging: use the formats in its handlers
        own = logging.StreamHandler()
        own.setFormatter(JsonFormatter())
        own.setFormatter(formatter(json=False))


def shared_idempotency_stores(envelope: Envelope) -> list[Router]:
    """The shared stores as users configure them (veba_sdk.idempotency)."""
    from veba_sdk.idempotency import (
        AsyncIdempotencyStore,
        DynamoDBIdempotencyStore,
        IdempotencyStore,
        Outcome,
        RedisIdempotencyStore,
        idempotency_key,
    )

    cache: AsyncIdempotencyStore = RedisIdempotencyStore.from_url(
        "redis://redis:6379/0", ttl=600, in_progress_ttl=60, socket_timeout=1.0
    )
    table: IdempotencyStore = DynamoDBIdempotencyStore("veba-idempotency", region_name="us-east-1")
    outcome: Outcome = table.begin(idempotency_key(envelope))
    assert outcome in ("new", "completed", "in_progress")
    return [Router(idempotency=cache), Router(idempotency=table)]
