"""Horizon events: VEBA's fixtures decode from both producers with every field asserted against
the raw payload, Horizon routes select them, vCenter routes do not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from payloads import load_payload

from veba_sdk import RouteError, Router
from veba_sdk.events import HorizonEvent, decode_http, from_cloudevent
from veba_sdk.events.horizon import HORIZON_PREFIX, horizon_name, parse_horizon

if TYPE_CHECKING:
    from veba_sdk.testing import Mode, Producer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "veba-events"
GOLDEN = json.loads(
    (FIXTURES / "Horizon_AuditEventSummary-list__v0.7-router__provider-golden.json").read_text()
)
LOGIN_FAILED = load_payload("Horizon_VLSI_USERLOGIN_REST_FAILED")
PRODUCERS = {
    "router": "com.vmware.event.router/horizon.{}.v0",
    "horizon-source": "com.vmware.horizon.{}.v0",
}


def cloudevent(payload: dict[str, Any], producer: str) -> tuple[dict[str, str], bytes]:
    """The binary-mode request each producer sends: the type lower-cased in the CloudEvent
    type, the Horizon id as its id, the summary as JSON data."""
    headers = {
        "ce-specversion": "1.0",
        "ce-id": str(payload["id"]),
        "ce-source": "https://horizon.corp.local",
        "ce-type": PRODUCERS[producer].format(payload["type"].lower()),
        "ce-time": "2021-07-27T07:12:19Z",
        "content-type": "application/json",
    }
    return headers, json.dumps(payload).encode()


def assert_fields(event: HorizonEvent, payload: dict[str, Any]) -> None:
    """Every field of the raw payload, on the typed event."""
    for key, value in payload.items():
        if key == "time":
            assert event.time == datetime.fromtimestamp(value / 1000, UTC)
            assert event.time.tzinfo is not None
        else:
            assert getattr(event, key) == value, key
    for field in ("machine_id", "desktop_pool_name", "application_pool_name"):
        if field not in payload:
            assert getattr(event, field) is None
    assert event.extra == {}


@pytest.mark.parametrize("producer", list(PRODUCERS))
@pytest.mark.parametrize("payload", [*GOLDEN, LOGIN_FAILED], ids=lambda p: f"{p['id']}")
def test_fixtures_decode_with_every_field(producer: str, payload: dict[str, Any]) -> None:
    envelope = decode_http(*cloudevent(payload, producer))
    assert envelope.name == "horizon." + payload["type"]
    assert envelope.category == "horizon"
    assert envelope.producer == producer
    assert envelope.data == payload
    assert isinstance(envelope.event, HorizonEvent)
    assert_fields(envelope.event, payload)
    assert envelope.event.name == envelope.name
    assert envelope.event.to_dict() == payload


def test_the_login_failure_fixture() -> None:
    event = from_cloudevent(
        {
            "specversion": "1.0",
            "id": "166419",
            "source": "https://hz-01.vmware.corp",
            "type": "com.vmware.horizon.vlsi_userlogin_rest_failed.v0",
            "datacontenttype": "application/json",
        },
        LOGIN_FAILED,
    ).event
    assert isinstance(event, HorizonEvent)  # Envelope.event is typed for vCenter's events
    assert event.id == 166419
    assert event.type == "VLSI_USERLOGIN_REST_FAILED"
    assert event.severity == "AUDIT_FAIL"
    assert event.module == "Vlsi"
    assert event.machine_dns_name == "hz-01.vmware.corp"
    assert event.message == (
        "User vmware.corp\\badguy has failed to authenticate to Horizon REST API"
    )
    assert event.time == datetime(2021, 9, 3, 16, 0, 28, 187000, tzinfo=UTC)
    assert event.user_id is None


def test_parsing_is_tolerant() -> None:
    event = parse_horizon(
        {
            "id": "42",
            "type": "BROKER_USERLOGGEDIN",
            "time": "2024-01-02T03:04:05Z",
            "severity": 7,
            "user_id": "",
            "event_data": {"k": "v"},
        }
    )
    assert event.id == 42
    assert event.time == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert event.severity is None
    assert event.user_id is None
    assert event.extra == {"severity": 7, "event_data": {"k": "v"}}
    assert parse_horizon({"time": "soon"}).extra == {"time": "soon"}
    assert parse_horizon({}) == HorizonEvent()


def test_names_from_cloudevent_types() -> None:
    assert horizon_name("com.vmware.event.router/horizon.vlsi_userloggedin.v0") == (
        "horizon.VLSI_USERLOGGEDIN"
    )
    assert horizon_name("com.vmware.horizon.broker_small_memory.v0") == (
        "horizon.BROKER_SMALL_MEMORY"
    )
    assert horizon_name("com.vmware.horizon..v0") is None
    assert horizon_name("com.vmware.horizon.x.v1") is None
    from veba_sdk import wire  # the router's routes (veba_sdk._routes) take their prefix here

    assert wire.HORIZON_NAME_PREFIX == HORIZON_PREFIX


@pytest.mark.parametrize("producer", list(PRODUCERS))
def test_horizon_routes_and_only_they_select_horizon_events(producer: str) -> None:
    router = Router()
    got: list[str] = []
    router.on("horizon.VLSI_USERLOGIN_REST_FAILED")(lambda event: got.append("exact"))
    router.on("horizon.vlsi_*")(lambda event: got.append("glob, any case"))
    router.on("horizon.*")(lambda event: got.append("all"))
    router.on("horizon.BROKER_*")(lambda event: got.append("wrong"))
    router.on("*", "Event")(lambda event: got.append("vcenter"))
    result = router.dispatch(decode_http(*cloudevent(LOGIN_FAILED, producer)))
    assert got == ["exact", "glob, any case", "all"]
    assert len(result.ran) == 3
    assert [r.pattern for r in router.routes[:4]] == [
        "horizon.VLSI_USERLOGIN_REST_FAILED",
        "horizon.VLSI_*",
        "horizon.*",
        "horizon.BROKER_*",
    ]


def test_bad_horizon_routes_are_refused() -> None:
    for pattern in ("horizon.", "horizon.VLSI USER", "horizon.a.b"):
        with pytest.raises(RouteError, match="no Horizon event route"):
            Router().on(pattern)(lambda event: None)


def test_a_default_handler_sees_horizon_events_no_route_selects() -> None:
    router = Router()
    got: list[tuple[str, str]] = []
    router.on("EnteredMaintenanceModeEvent")(lambda event: got.append(("route", "")))
    router.default(lambda event, ctx: got.append((ctx.category, type(event).__name__)))
    router.dispatch(decode_http(*cloudevent(LOGIN_FAILED, "router")))
    assert got == [("horizon", "HorizonEvent")]


@pytest.mark.parametrize("producer", ["router", "horizon-source", "vsphere-source"])
@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_made_horizon_events_round_trip_in_each_producer_shape(
    producer: Producer, mode: Mode
) -> None:
    from veba_sdk.testing import make_horizon_event, to_cloudevent

    event = make_horizon_event("horizon.broker_userloggedin", user_id="S-1-5-21-1")
    assert event.type == "BROKER_USERLOGGEDIN"
    assert event.module == "Broker"
    headers, body = to_cloudevent(event, producer, mode)
    envelope = decode_http(headers, body)
    assert envelope.name == "horizon.BROKER_USERLOGGEDIN"
    assert envelope.producer == ("router" if producer == "router" else "horizon-source")
    assert isinstance(envelope.event, HorizonEvent)
    assert envelope.event == event
    assert envelope.id == str(event.id)
    with pytest.raises(TypeError, match="no field 'host'"):
        make_horizon_event("X", host="esx01")
    with pytest.raises(ValueError, match="JSON"):
        to_cloudevent(event, "horizon-source", encoding="xml")
