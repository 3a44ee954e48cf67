"""A Knative ASGI app traced into the OpenTelemetry SDK's in-memory exporter, for uvicorn.

``GET /spans`` answers the finished spans as JSON (and forgets them); ``GET /ping`` records
the request's headers, ``GET /pings`` answers them (and forgets them); every other request
goes to the app. Handlers: ``enter`` marks a FakeVrops host maintained (one vROps call per
request), ``broken`` raises, ``plain`` makes a request of its own with a plain httpx client to
``GET /ping`` of this server (``$TRACED_APP_PORT``), which tracing must leave alone.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from veba_sdk import Router
from veba_sdk.adapters.knative import asgi
from veba_sdk.testing import FakeVrops

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

fake = FakeVrops()
fake.add_host("esx01.lab.local")
vrops = fake.client()
router = Router()
log = logging.getLogger("veba_sdk.traced")


@router.on("EnteredMaintenanceModeEvent")
def enter(event: Any, ctx: Any) -> None:
    vrops.mark_maintained(vrops.host_id(event.host.name))
    ctx.logger.info("marked %s", event.host.name)


@router.on("HostConnectionLostEvent")
def broken(event: Any) -> None:
    raise RuntimeError("vROps said no")


@router.on("VmPoweredOnEvent")
def plain(event: Any) -> None:
    url = f"http://127.0.0.1:{os.environ['TRACED_APP_PORT']}/ping"
    with httpx.Client(timeout=10) as client:
        client.get(url).raise_for_status()


events_app = asgi(router)
pings: list[dict[str, str]] = []


def _span(span: Any) -> dict[str, Any]:
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": f"{span.context.trace_id:032x}",
        "span_id": f"{span.context.span_id:016x}",
        "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "events": [event.name for event in span.events],
    }


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] in ("/spans", "/ping", "/pings"):
        if scope["path"] == "/spans":
            body = json.dumps([_span(s) for s in exporter.get_finished_spans()]).encode()
            exporter.clear()
        elif scope["path"] == "/ping":
            pings.append({k.decode(): v.decode() for k, v in scope["headers"]})
            body = b"[]"
        else:
            body = json.dumps(pings).encode()
            pings.clear()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return
    await events_app(scope, receive, send)
