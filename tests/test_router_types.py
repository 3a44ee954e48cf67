"""Router.on_type: any CloudEvent by its type, the handler getting the raw data."""

from __future__ import annotations

from typing import Any

import pytest

import veba_sdk
from veba_sdk import RouteError, Router
from veba_sdk.events import decode_http, from_cloudevent
from veba_sdk.testing import Producer, make_event, to_cloudevent


def foreign(ce_type: str, data: Any = None, content_type: str | None = None) -> Any:
    attributes = {"specversion": "1.0", "id": "7", "source": "/ci", "type": ce_type}
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    return from_cloudevent(attributes, data)


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [
        (b'{"build": 7}', "application/json", {"build": 7}),
        (b'{"build": 7}', None, {"build": 7}),
        (b'{"build": 7}', "application/vnd.ci+json; charset=utf-8", {"build": 7}),
        ({"build": 7}, "application/json", {"build": 7}),
        (b"build 7 failed", "text/plain", "build 7 failed"),
        (b"<build id='7'/>", "application/xml", "<build id='7'/>"),
        (b"\x00\x01", "application/octet-stream", b"\x00\x01"),
        (b"\xff not json", None, b"\xff not json"),
        (None, None, None),
    ],
)
def test_type_routes_get_the_raw_data(data: Any, content_type: str | None, expected: Any) -> None:
    router = Router()
    got: list[Any] = []
    router.on_type("com.example.ci.failed")(lambda event, ctx: got.append((event, ctx.data)))
    result = router.dispatch(foreign("com.example.ci.failed", data, content_type))
    assert result.matched
    assert got == [(expected, expected)]


def test_exact_and_glob_type_routes_in_registration_order() -> None:
    router = Router()
    got: list[str] = []
    router.on_type("com.example.*")(lambda event: got.append("glob"))
    router.on_type("com.example.ci.failed", "org.other")(lambda event: got.append("exact"))
    router.on("*")(lambda event: got.append("vcenter glob"))
    router.on("com.vmware.vc.HA.*")(lambda event: got.append("type-id glob"))
    router.dispatch(foreign("com.example.ci.failed", b"{}"))
    router.dispatch(foreign("org.other", b"{}"))
    router.dispatch(foreign("net.nothing", b"{}"))
    assert got == ["glob", "exact", "exact"]
    assert [r.kind for r in router.routes[:3]] == ["type-glob", "type", "type"]


@pytest.mark.parametrize("producer", ["router", "vsphere-source"])
def test_a_vcenter_event_by_its_cloudevent_type(producer: Producer) -> None:
    router = Router()
    raw: list[Any] = []
    typed: list[str] = []
    ce_type = {
        "router": "com.vmware.event.router/event",
        "vsphere-source": "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0",
    }[producer]
    router.on_type(ce_type)(raw.append)
    router.on("EnteredMaintenanceModeEvent")(lambda event: typed.append(type(event).__name__))
    event = make_event("EnteredMaintenanceModeEvent", host__name="esx07")
    router.dispatch(decode_http(*to_cloudevent(event, producer)))
    assert typed == ["EnteredMaintenanceModeEvent"]
    assert raw[0]["Host"]["Name"] == "esx07"  # the producer's JSON, not the model
    # The other producer's shape of the same event has another type: the route misses it.
    other: Producer = "vsphere-source" if producer == "router" else "router"
    router.dispatch(decode_http(*to_cloudevent(event, other)))
    assert len(raw) == 1
    assert typed == ["EnteredMaintenanceModeEvent"] * 2


def test_where_filters_see_the_raw_data() -> None:
    router = Router()
    got: list[Any] = []
    router.on_type("com.example.*", where=lambda data: data["status"] == "failed")(got.append)
    router.dispatch(foreign("com.example.ci", b'{"status": "ok"}', "application/json"))
    router.dispatch(foreign("com.example.ci", b'{"status": "failed"}', "application/json"))
    assert got == [{"status": "failed"}]


def test_included_type_routes_still_see_the_type() -> None:
    module = Router()
    got: list[Any] = []
    module.on_type("com.vmware.event.router/event")(got.append)
    app = Router()
    app.include(module)
    app.dispatch(decode_http(*to_cloudevent(make_event("VmPoweredOnEvent"), "router")))
    assert len(got) == 1


def test_no_route_for_a_foreign_event_runs_the_defaults() -> None:
    router = Router()
    got: list[Any] = []
    router.on("VmPoweredOnEvent")(got.append)
    router.default(lambda event, ctx: got.append((ctx.category, event)))
    router.dispatch(foreign("com.example.x", b'{"a": 1}'))
    assert got == [("cloudevent", {"a": 1})]
    assert not Router().dispatch(foreign("com.example.x", b"{}")).matched


def test_bad_type_routes_are_refused() -> None:
    for patterns in ((), ("",), ("  ",), (3,)):
        with pytest.raises(RouteError):
            Router().on_type(*patterns)


def test_module_level_on_type() -> None:
    assert veba_sdk.on_type == veba_sdk.router.on_type
    assert "on_type" in veba_sdk.__all__
