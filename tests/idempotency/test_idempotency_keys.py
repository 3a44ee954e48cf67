"""One event, one key: every producer shape a function receives gives the same idempotency
key for the same vCenter event, never from the router's random CloudEvent id."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest

from veba_sdk import decode_http
from veba_sdk.adapters.aws_lambda import decode_event
from veba_sdk.events import Envelope
from veba_sdk.idempotency import idempotency_key
from veba_sdk.testing import (
    make_event,
    make_horizon_event,
    to_cloudevent,
    to_eventbridge,
    to_openfaas,
)

NAMES = ["VmPoweredOnEvent", "com.vmware.vc.HA.HostFailedEvent", "EnteredMaintenanceModeEvent"]


def _every_shape(event: Any) -> list[Envelope]:
    shapes = [
        decode_http(*to_cloudevent(event, "router", "binary")),
        decode_http(*to_cloudevent(event, "router", "structured")),
        decode_http(*to_cloudevent(event, "vsphere-source", "binary")),
        decode_http(*to_cloudevent(event, "vsphere-source", "structured")),
        decode_event(to_eventbridge(event)),
    ]
    openfaas = to_openfaas(event)
    shapes.append(decode_http(openfaas["headers"], openfaas["body"]))
    return shapes


@pytest.mark.parametrize("name", NAMES)
def test_a_vcenter_event_has_one_key_whoever_delivers_it(name: str) -> None:
    event = make_event(name)
    shapes = _every_shape(event)
    shapes.append(decode_http(*to_cloudevent(event, "vsphere-source", encoding="xml")))
    ids = {envelope.attributes["id"] for envelope in shapes}
    assert len(ids) >= 5  # the router's ids are random per delivery
    keys = {idempotency_key(envelope) for envelope in shapes}
    assert event.created_time is not None
    created = event.created_time.isoformat()
    assert keys == {f"https://vcenter.vsphere.local/sdk#{event.key}@{created}"}


def test_the_same_key_at_another_time_is_another_event() -> None:
    """A vCenter whose key counter started again (a restore) reuses keys: CreatedTime tells
    its events apart."""
    first = make_event("VmPoweredOnEvent", key=4242)
    again = make_event("VmPoweredOnEvent", key=4242)
    assert first.created_time != again.created_time
    keys = {idempotency_key(decode_http(*to_cloudevent(e, "router"))) for e in (first, again)}
    assert len(keys) == 2


def test_other_vcenters_never_share_keys() -> None:
    event = make_event("VmPoweredOnEvent")
    one = decode_http(*to_cloudevent(event, source="https://vc01/sdk"))
    two = decode_http(*to_cloudevent(event, source="https://vc02/sdk"))
    assert idempotency_key(one) != idempotency_key(two)


@pytest.mark.parametrize("producer", ["router", "horizon-source"])
def test_horizon_events_key_on_their_horizon_id(
    producer: Literal["router", "horizon-source"],
) -> None:
    event = make_horizon_event("VLSI_USERLOGGEDIN_REST")
    envelope = decode_http(*to_cloudevent(event, producer))
    assert idempotency_key(envelope) == f"https://vcenter.vsphere.local/sdk#horizon:{event.id}"


def test_other_cloudevents_key_on_source_and_id() -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "build-7",
        "ce-source": "https://ci.example.com",
        "ce-type": "com.example.build.finished",
        "content-type": "application/json",
    }
    envelope = decode_http(headers, json.dumps({"ok": True}).encode())
    assert envelope.category == "cloudevent"
    assert idempotency_key(envelope) == "https://ci.example.com#build-7"
