"""The Knative app the event-kinds server test serves under uvicorn: one route of each kind
beyond plain class names, each answering what it received."""

from __future__ import annotations

from typing import Any

from veba_sdk import Router
from veba_sdk.adapters.knative import asgi

router = Router()


@router.on("VmPoweredOnEvent")
def powered_on(event: Any, ctx: Any) -> dict[str, Any]:
    return {"route": "VmPoweredOnEvent", "class": type(event).__name__, "vm": event.vm.name}


@router.on("horizon.*")
def horizon(event: Any, ctx: Any) -> dict[str, Any]:
    return {"route": "horizon.*", "type": event.type, "producer": ctx.producer}


@router.on_type("com.example.*")
def webhook(event: Any, ctx: Any) -> dict[str, Any]:
    return {"route": "com.example.*", "data": event}


app = asgi(router)
