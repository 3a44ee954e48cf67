"""Through a real server (the Knative app under uvicorn, over loopback): VEBA's DRS power-on
fixtures in both producer shapes reach a VmPoweredOnEvent handler, a Horizon event its Horizon
route, a webhook CloudEvent its type route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _servers import free_port, running, uvicorn_argv
from payloads import load_payload

from veba_sdk.testing import Mode, Producer, make_event, to_cloudevent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "veba-events"
DRS_FIXTURES = {
    "router": FIXTURES / "DrsVmPoweredOnEvent__v0.7-router__structured-ce__kn-py-vm-attr.json",
    "vsphere-source": FIXTURES
    / "DrsVmPoweredOnEvent__v0.8-vspheresource__structured-ce__kn-py-vm-attr.json",
}
HORIZON = load_payload("Horizon_VLSI_USERLOGIN_REST_FAILED")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    port = free_port()
    with running(uvicorn_argv("_event_kinds_app:app", port), port) as base:
        yield base + "/"


@pytest.mark.parametrize("producer", ["router", "vsphere-source"])
def test_drs_power_on_fixtures_reach_the_vm_powered_on_handler(url: str, producer: str) -> None:
    body = DRS_FIXTURES[producer].read_bytes()
    response = httpx.post(
        url, content=body, headers={"content-type": "application/cloudevents+json"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "route": "VmPoweredOnEvent",
        "class": "DrsVmPoweredOnEvent",
        "vm": "TestVM",
    }


@pytest.mark.parametrize("producer", ["router", "vsphere-source"])
@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_made_drs_power_ons_in_every_shape(url: str, producer: Producer, mode: Mode) -> None:
    event = make_event("DrsVmPoweredOnEvent", vm__name="db-07")
    headers, body = to_cloudevent(event, producer, mode)
    response = httpx.post(url, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["vm"] == "db-07"


@pytest.mark.parametrize(
    ("ce_type", "producer"),
    [
        ("com.vmware.event.router/horizon.vlsi_userlogin_rest_failed.v0", "router"),
        ("com.vmware.horizon.vlsi_userlogin_rest_failed.v0", "horizon-source"),
    ],
)
def test_horizon_and_webhook_events(url: str, ce_type: str, producer: str) -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "166419",
        "ce-source": "https://hz-01.vmware.corp",
        "ce-type": ce_type,
        "content-type": "application/json",
    }
    response = httpx.post(url, content=json.dumps(HORIZON), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "route": "horizon.*",
        "type": "VLSI_USERLOGIN_REST_FAILED",
        "producer": producer,
    }
    headers.update({"ce-type": "com.example.ci.failed", "ce-id": "1"})
    response = httpx.post(url, content=b'{"build": 7}', headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"route": "com.example.*", "data": {"build": 7}}
