"""The openfaas processor against an OpenFaaS gateway stand-in on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from processor_standins import Gateway

from veba_sdk.source import DeliveryError, OpenFaasTarget, cloudevent_attributes
from veba_sdk.source.openfaas import build_topic_map, event_topic, is_retryable_status

SECRET = "gateway-secret"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway(
        {
            "mark-maintenance": "EnteredMaintenanceModeEvent, ExitMaintenanceModeEvent",
            "audit": "EnteredMaintenanceModeEvent,com.vmware.vc.HA.DasHostFailedEvent",
            "unsubscribed": None,
        },
        password=SECRET,
    )
    yield g
    g.close()


def target(gateway: Gateway, **options: Any) -> OpenFaasTarget:
    options.setdefault("username", "admin")
    options.setdefault("password", SECRET)
    return OpenFaasTarget(gateway.url, **options)


def event(name: str = "EnteredMaintenanceModeEvent", key: int = 7, **kw: Any) -> Any:
    attributes = cloudevent_attributes(
        producer=kw.pop("producer", "router"),
        name=name,
        category="eventex" if "." in name else "event",
        key=key,
        created="2024-03-01T10:00:00.123456Z",
        source="https://vc01.example/sdk",
        api_version="8.0.3.0",
    )
    return attributes, {"Key": key, "Host": {"Name": "esx01"}}


def test_topic_map_from_annotations() -> None:
    listing = [
        {"name": "a", "annotations": {"topic": " X , Y,,X"}},
        {"name": "b", "annotations": {"topic": "Y"}},
        {"name": "c", "annotations": None},
        {"name": "d"},
        {"name": "e", "annotations": {"com.openfaas.scale.min": "1"}},
    ]
    assert build_topic_map(listing) == {"X": ("a",), "Y": ("a", "b")}
    with pytest.raises(ValueError, match="list"):
        build_topic_map({"functions": []})


def test_topic_is_the_subject_or_the_vsphere_source_name() -> None:
    assert event_topic(event()[0]) == "EnteredMaintenanceModeEvent"
    vsphere, _ = event("com.vmware.vc.HA.DasHostFailedEvent", producer="vsphere-source")
    assert "subject" not in vsphere
    assert event_topic(vsphere) == "com.vmware.vc.HA.DasHostFailedEvent"


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (501, False),
        (400, False),
        (401, False),
        (413, False),
        (404, False),
    ],
)
def test_retryable_statuses(status: int, retry: bool) -> None:
    assert is_retryable_status(status) is retry


def test_invokes_every_subscribed_function_with_the_structured_event(gateway: Gateway) -> None:
    with target(gateway) as t:
        attributes, data = event()
        t(attributes, data)
    assert sorted(i.function for i in gateway.invocations) == ["audit", "mark-maintenance"]
    for invocation in gateway.invocations:
        assert invocation.kind == "function"
        # The router's body: the structured CloudEvent; no content type, no ce- headers.
        assert invocation.event == {**attributes, "data": data}
        assert "content-type" not in invocation.headers
        assert not [h for h in invocation.headers if h.startswith("ce-")]
        assert invocation.headers["x-topic"] == "EnteredMaintenanceModeEvent"
        # Basic auth is for /system only.
        assert "authorization" not in invocation.headers
    assert len(gateway.system_requests) == 1
    assert gateway.system_requests[0]["authorization"].startswith("Basic ")


def test_async_invocation(gateway: Gateway) -> None:
    with target(gateway, async_=True) as t:
        t(*event("com.vmware.vc.HA.DasHostFailedEvent"))
    assert [(i.kind, i.function, i.status) for i in gateway.invocations] == [
        ("async-function", "audit", 202)
    ]


def test_no_subscriber_no_call(gateway: Gateway) -> None:
    with target(gateway) as t:
        t(*event("VmPoweredOnEvent"))
    assert gateway.invocations == []


def test_retries_only_the_functions_that_failed(gateway: Gateway) -> None:
    gateway.script = {"audit": [503, 429]}
    with target(gateway) as t:
        attributes, data = event()
        with pytest.raises(DeliveryError, match="audit: 503"):
            t(attributes, data)
        with pytest.raises(DeliveryError, match="audit: 429"):
            t(attributes, data)
        t(attributes, data)  # the source retries the same event
        stats = t.stats.invocations()
    assert [i.function for i in gateway.accepted("mark-maintenance")] == ["mark-maintenance"]
    assert len(gateway.accepted("audit")) == 1
    assert [i.status for i in gateway.invocations if i.function == "audit"] == [503, 429, 200]
    assert stats == {"EnteredMaintenanceModeEvent": {"SuccessCount": 2, "FailureCount": 2}}


def test_a_new_event_starts_afresh(gateway: Gateway) -> None:
    gateway.script = {"audit": [503]}
    with target(gateway) as t:
        with pytest.raises(DeliveryError):
            t(*event(key=1))
        t(*event(key=2))  # another event (another id): both functions again
    assert [i.event["data"]["Key"] for i in gateway.accepted("mark-maintenance")] == [1, 2]


def test_final_answers_are_not_retried(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    gateway.script = {"audit": [400], "mark-maintenance": [501]}
    with target(gateway) as t, caplog.at_level(logging.ERROR, "veba_sdk.source"):
        t(*event())  # no exception: the functions said no
        assert t.stats.invocations()["EnteredMaintenanceModeEvent"]["FailureCount"] == 2
    assert len(gateway.invocations) == 2
    assert "not retried" in caplog.text
    assert SECRET not in caplog.text


def test_404_of_a_function_still_subscribed_is_retried(gateway: Gateway) -> None:
    gateway.script = {"audit": [404]}
    with target(gateway) as t:
        attributes, data = event("com.vmware.vc.HA.DasHostFailedEvent")
        with pytest.raises(DeliveryError, match="still subscribed"):
            t(attributes, data)
        t(attributes, data)
    assert [i.status for i in gateway.invocations] == [404, 200]


def test_404_of_a_removed_function_is_dropped(gateway: Gateway) -> None:
    with target(gateway) as t:
        t.refresh()
        with gateway.lock:
            del gateway.functions["audit"]  # removed after the map was built
        t(*event("com.vmware.vc.HA.DasHostFailedEvent"))
    assert [i.status for i in gateway.invocations] == [404]


def test_connection_errors_are_retried(gateway: Gateway) -> None:
    with target(gateway) as t:
        t.refresh()
        gateway.close()
        with pytest.raises(DeliveryError, match="ConnectError"):
            t(*event())


def test_topic_map_is_refreshed_on_its_interval(gateway: Gateway) -> None:
    with target(gateway, refresh_interval=0.2) as t:
        t(*event("VmPoweredOnEvent"))
        with gateway.lock:
            gateway.functions["power"] = "VmPoweredOnEvent"
        t(*event("VmPoweredOnEvent"))  # the map is still fresh: nobody subscribes yet
        assert gateway.invocations == []
        time.sleep(0.25)
        t(*event("VmPoweredOnEvent"))
    assert [i.function for i in gateway.invocations] == ["power"]
    assert len(gateway.system_requests) == 2


def test_a_failed_refresh_keeps_the_previous_map(gateway: Gateway) -> None:
    with target(gateway, refresh_interval=0.05) as t:
        t.refresh()
        gateway.password = "rotated"  # /system now refuses our credentials
        time.sleep(0.1)
        t(*event())
    assert gateway.system_denied == 1
    assert len(gateway.accepted("audit")) == 1


def test_no_map_yet_is_a_delivery_error(gateway: Gateway) -> None:
    with target(gateway, password="wrong") as t:
        with pytest.raises(DeliveryError, match=r"401 \(check eventProcessor.openfaas.auth\)"):
            t(*event())
        assert "wrong" not in repr(t)
    assert gateway.invocations == []


def test_stats_snapshot_has_the_router_shape(gateway: Gateway) -> None:
    with target(gateway) as t:
        t(*event())
        snapshot = t.stats.snapshot()
    assert snapshot["type"] == "processor"
    assert snapshot["address"] == gateway.url
    assert snapshot["invocations"] == {
        "EnteredMaintenanceModeEvent": {"SuccessCount": 2, "FailureCount": 0}
    }
    json.dumps(snapshot)
