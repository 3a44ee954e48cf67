"""The function's own test: events as the event router and the VSphereSource send them."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from main import app

from veba_sdk.testing import make_event, to_cloudevent


def post(headers: dict[str, str], body: bytes) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://function") as client:
            return await client.post("/", headers=headers, content=body)

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("producer", "mode", "encoding"),
    [
        ("router", "binary", "json"),
        ("router", "structured", "json"),
        ("vsphere-source", "binary", "json"),
        ("vsphere-source", "binary", "xml"),
    ],
)
def test_maintenance_event(producer: str, mode: str, encoding: str) -> None:
    event = make_event("EnteredMaintenanceModeEvent", host__name="esx01")
    response = post(*to_cloudevent(event, producer, mode, encoding))
    assert response.status_code == 200
    assert response.json() == {"event": "EnteredMaintenanceModeEvent", "host": "esx01"}


def test_other_events_are_acknowledged() -> None:
    response = post(*to_cloudevent(make_event("VmPoweredOnEvent")))
    assert response.status_code == 204


def test_garbage_is_rejected_not_retried() -> None:
    response = post({"content-type": "application/json"}, b"{not json")
    assert response.status_code == 400
