"""make_event and the producer envelopes: every class, every shape, parsed back by our decoder."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from payloads import SHAPES

from veba_sdk import Router
from veba_sdk.events import (
    EVENT_CLASSES,
    ExtendedEvent,
    decode_http,
    event_class_names,
    to_dict,
)
from veba_sdk.testing import (
    Encoding,
    Mode,
    Producer,
    event_name,
    make_event,
    to_cloudevent,
    to_eventbridge,
    to_openfaas,
    to_xml,
)


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value] or None
    return None if value == "" else value


def _without_empty(event: Any) -> Any:
    """An event as plain data with "" and [] read as None (XML leaves empty values out)."""
    return _normal(attrs.asdict(event, recurse=True))


@pytest.mark.parametrize(("producer", "mode", "encoding"), SHAPES)
def test_every_class_parses_back_through_every_shape(
    producer: Producer, mode: Mode, encoding: Encoding
) -> None:
    names = [*event_class_names(), "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent"]
    assert len(names) == 444
    for name in names:
        event = make_event(name)
        headers, body = to_cloudevent(event, producer, mode, encoding)
        envelope = decode_http(headers, body)
        assert type(envelope.event) is type(event), name
        assert envelope.name == event_name(event)
        assert envelope.producer == producer
        if encoding == "json":
            assert envelope.event == event, name
        else:
            assert _without_empty(envelope.event) == _without_empty(event), name


def test_router_attributes() -> None:
    event = make_event("EnteredMaintenanceModeEvent")
    headers, body = to_cloudevent(event)
    assert headers["ce-type"] == "com.vmware.event.router/event"
    assert headers["ce-subject"] == "EnteredMaintenanceModeEvent"
    assert headers["ce-vsphereapiversion"]
    assert headers["content-type"] == "application/json"
    assert len(headers["ce-id"]) == 36  # a random UUID per delivery
    assert headers["ce-id"] != to_cloudevent(event)[0]["ce-id"]
    assert headers["ce-time"] == to_dict(event)["CreatedTime"]
    data = json.loads(body)
    assert data["Host"]["Host"] == {"Type": "HostSystem", "Value": "host-19"}
    assert data["UserName"] == "VSPHERE.LOCAL\\Administrator"
    assert data["Vm"] is None


def test_vsphere_source_attributes() -> None:
    # Every catalogued release lists this id as an ExtendedEvent, so that is what is built.
    event = make_event("com.vmware.vc.HA.ClusterFailoverActionCompletedEvent")
    headers, body = to_cloudevent(event, "vsphere-source", encoding="xml")
    assert (
        headers["ce-type"]
        == "com.vmware.vsphere.com.vmware.vc.HA.ClusterFailoverActionCompletedEvent.v0"
    )
    assert headers["ce-id"] == str(event.key)
    assert headers["ce-eventclass"] == "extendedevent"
    assert "ce-subject" not in headers
    assert headers["content-type"] == "application/xml"
    assert body.startswith(b"<ExtendedEvent ")
    assert (
        b"<eventTypeId>com.vmware.vc.HA.ClusterFailoverActionCompletedEvent</eventTypeId>" in body
    )
    # ... and an id the releases list as an EventEx is an EventEx.
    headers, body = to_cloudevent(
        make_event("esx.problem.net.vmnic.linkstate.down"), "vsphere-source", encoding="xml"
    )
    assert headers["ce-eventclass"] == "eventex"
    assert body.startswith(b"<EventEx ")


def test_structured_mode() -> None:
    headers, body = to_cloudevent(make_event("VmPoweredOnEvent"), mode="structured")
    assert headers == {"content-type": "application/cloudevents+json"}
    document = json.loads(body)
    assert document["specversion"] == "1.0"
    assert document["datacontenttype"] == "application/json"
    assert document["data"]["Vm"]["Name"] == "web-01"


def test_realistic_defaults() -> None:
    event = make_event("VmPoweredOnEvent")
    assert event.chain_id is not None
    assert event.key == event.chain_id > 0
    assert event.created_time is not None
    assert datetime.now(UTC) - event.created_time < timedelta(minutes=1)
    assert event.created_time.tzinfo is not None
    assert event.vm is not None
    assert event.vm.vm is not None
    assert event.vm.vm.type == "VirtualMachine"
    assert event.host is not None
    assert event.host.name == "esx01.vsphere.local"
    assert event.full_formatted_message
    extended = make_event("ExtendedEvent")
    assert isinstance(extended, ExtendedEvent)
    assert extended.event_type_id
    assert event_name(extended) == extended.event_type_id


def test_nested_overrides_both_spellings() -> None:
    by_path = make_event("EnteredMaintenanceModeEvent", host__name="esx01", key=7)
    by_mapping = make_event("EnteredMaintenanceModeEvent", host={"name": "esx01"}, key=7)
    assert by_path.host is not None
    assert by_mapping.host is not None
    assert by_path.host.name == by_mapping.host.name == "esx01"
    assert by_path.host.host is not None
    assert by_path.host.host.value == "host-19"  # the rest of the argument stays
    assert by_path.key == 7
    assert by_path.full_formatted_message is not None
    assert "esx01" in by_path.full_formatted_message
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert make_event("VmPoweredOnEvent", created_time=moment).created_time == moment
    given = make_event("VmPoweredOnEvent", full_formatted_message="custom")
    assert given.full_formatted_message == "custom"


def test_mistakes_are_reported_with_suggestions() -> None:
    with pytest.raises(KeyError, match="did you mean 'VmPoweredOnEvent'"):
        make_event("VmPoweredOnEvnt")
    with pytest.raises(TypeError, match="no field 'hots'"):
        make_event("VmPoweredOnEvent", hots__name="x")
    with pytest.raises(ValueError, match="JSON only"):
        to_cloudevent(make_event("VmPoweredOnEvent"), "router", encoding="xml")


def test_xml_is_the_readers_inverse() -> None:
    text = to_xml(make_event("EnteredMaintenanceModeEvent", host__name="esx<1>"))
    assert '<host type="HostSystem">host-19</host>' in text
    assert "<name>esx&lt;1&gt;</name>" in text


def test_eventbridge_envelope_feeds_the_lambda_adapter() -> None:
    from veba_sdk.adapters.aws_lambda import handler

    router = Router()
    seen: list[str] = []
    router.on("EnteredMaintenanceModeEvent")(lambda event, ctx: seen.append(ctx.name))
    bridge = to_eventbridge(make_event("EnteredMaintenanceModeEvent"))
    assert bridge["detail-type"] == "EnteredMaintenanceModeEvent"
    assert bridge["source"] == bridge["detail"]["source"]
    assert bridge["detail"]["type"] == "com.vmware.event.router/event"
    handler(router)(bridge, None)
    assert seen == ["EnteredMaintenanceModeEvent"]


def test_openfaas_event_feeds_the_openfaas_adapter() -> None:
    from types import SimpleNamespace

    from veba_sdk.adapters.openfaas import handler

    router = Router()
    router.on("VmPoweredOffEvent")(lambda event: {"vm": event.vm.name})
    request = to_openfaas(make_event("VmPoweredOffEvent", vm__name="db-01"))
    assert request["method"] == "POST"
    assert "ce-id" not in {k.lower() for k in request["headers"]}
    assert request["headers"]["Content-Type"] == "application/json"
    response = handler(router)(SimpleNamespace(**request), None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"vm": "db-01"}


def test_every_class_is_in_the_catalogue() -> None:
    assert len(EVENT_CLASSES) == 443


def test_plugin_fixtures(
    veba_router: Router, veba_event: Any, fake_vrops: Any, fake_vrops_client: Any
) -> None:
    assert veba_router.routes == ()
    assert veba_event("HostConnectedEvent", host__name="esx9").host.name == "esx9"
    fake_vrops.add_host("esx9")
    response = fake_vrops_client.post(
        "/suite-api/api/auth/token/acquire",
        json={"username": fake_vrops.username, "password": "fake-Passw0rd!"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["token"]
