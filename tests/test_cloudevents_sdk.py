"""veba-sdk with whichever ``cloudevents`` major is installed: 1.x and 2.x both work.

Runs natively in each environment of ``scripts/test-matrix.sh``: with 1.x it uses
``cloudevents.http``/``cloudevents.conversion``, with 2.x the new ``cloudevents.core`` API
(its event class, its HTTP binding and JSON format). The code paths covered are every place
veba-sdk touches SDK objects: ``from_cloudevent`` (``_attributes_of_sdk_event``),
``Reply.to_cloudevent`` and ``Reply.from_cloudevent``, and the router taking an SDK event.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from veba_sdk import Reply, Router, from_cloudevent

EVENTS = Path(__file__).parent / "fixtures" / "veba-events"
MAJOR = int(importlib.metadata.version("cloudevents").split(".")[0])
ROUTER_CE = "VmPoweredOffEvent__v0.7-router__structured-ce__kn-py-echo"
SOURCE_CE = "VmPoweredOffEvent__v0.8-vspheresource__structured-ce__kn-py-echo"


def make_event(attributes: dict[str, Any], data: Any) -> Any:
    """An event object of the installed SDK's own class."""
    if MAJOR >= 2:
        from cloudevents.core.v1.event import CloudEvent

        if "time" in attributes:  # 2.x holds times as datetimes
            text = attributes["time"]
            attributes = dict(attributes, time=_parse_time(text))
        return CloudEvent(attributes, data)
    from cloudevents.http import CloudEvent as LegacyCloudEvent

    return LegacyCloudEvent(attributes, data)


def _parse_time(text: str) -> datetime.datetime:
    head, _, fraction = text.rstrip("Z").partition(".")
    micro = (fraction + "000000")[:6] if fraction else "000000"
    return datetime.datetime.fromisoformat(f"{head}.{micro}+00:00")


def over_http(event: Any, mode: str) -> Any:
    """The event sent through the installed SDK's HTTP binding and parsed back by it."""
    if MAJOR >= 2:
        from cloudevents.core.bindings import http
        from cloudevents.core.formats.json import JSONFormat

        fmt = JSONFormat()
        message = http.to_binary(event, fmt) if mode == "binary" else http.to_structured(event, fmt)
        return http.from_http(message, fmt)
    from cloudevents.conversion import to_binary, to_structured
    from cloudevents.http import from_http

    headers, body = (to_binary if mode == "binary" else to_structured)(event)
    return from_http(headers, body)


def _split(name: str) -> tuple[dict[str, Any], Any]:
    raw: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    data = raw.pop("data")
    return raw, data


def test_the_expected_sdk_is_installed() -> None:
    import cloudevents

    assert MAJOR in (1, 2)
    if MAJOR >= 2:
        assert importlib.util.find_spec("cloudevents.core") is not None
    else:
        assert importlib.util.find_spec("cloudevents.http") is not None
    assert cloudevents.__name__ == "cloudevents"


@pytest.mark.parametrize("name", [ROUTER_CE, SOURCE_CE])
@pytest.mark.parametrize("mode", ["direct", "binary", "structured"])
def test_from_cloudevent_takes_sdk_events(name: str, mode: str) -> None:
    attributes, data = _split(name)
    event = make_event(dict(attributes), data)
    if mode != "direct":
        event = over_http(event, mode)

    envelope = from_cloudevent(event)
    expected = from_cloudevent(attributes, data)

    assert (envelope.name, envelope.category, envelope.producer) == (
        expected.name,
        expected.category,
        expected.producer,
    )
    assert envelope.event == expected.event
    for key in ("id", "source", "type", "specversion"):
        assert envelope.attributes[key] == attributes[key]
    # Extensions survive (2.x keeps them among the attributes, 1.x too).
    for key in ("eventclass", "vsphereapiversion", "knativearrivaltime"):
        if key in attributes:
            assert envelope.attributes[key] == attributes[key]
    # Times are text again, in UTC with a Z (the SDK 2.x holds datetimes, to microseconds).
    assert isinstance(envelope.attributes["time"], str)
    assert envelope.attributes["time"].endswith("Z")
    assert envelope.attributes["time"][:19] == attributes["time"][:19]


def test_router_dispatches_an_sdk_event() -> None:
    router = Router()
    seen: list[str] = []

    @router.on("VmPoweredOffEvent")
    def off(event: Any) -> None:
        seen.append(event.vm.name)

    attributes, data = _split(ROUTER_CE)
    result = router.dispatch(make_event(attributes, data))
    assert result.ok
    assert seen == [data["Vm"]["Name"]]


@pytest.mark.parametrize("mode", ["direct", "binary", "structured"])
def test_reply_round_trips_through_the_sdk(mode: str) -> None:
    reply = Reply(
        type="com.example.vm.handled",
        data={"vm": "test-01", "ok": True},
        source="https://fn.example/veba",
        subject="VmPoweredOffEvent",
        extensions={"eventclass": "event", "vsphereapiversion": "8.0.3.0"},
    )
    event = reply.to_cloudevent(id="reply-1")
    if MAJOR >= 2:
        from cloudevents.core.v1.event import CloudEvent

        assert isinstance(event, CloudEvent)
    else:
        from cloudevents.http import CloudEvent as LegacyCloudEvent

        assert isinstance(event, LegacyCloudEvent)
    if mode != "direct":
        event = over_http(event, mode)
    assert Reply.from_cloudevent(event) == reply
    assert event.get_attributes()["id"] == "reply-1"
