"""The HTTP-binding decoder against the CloudEvents conformance cases, the percent-encoding
vectors, the cloudevents SDK itself, and every VEBA producer shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent, from_http
from payloads import load_payload

from veba_sdk import InvalidEvent
from veba_sdk.events import EventEx, decode_http, decode_http_batch, from_cloudevent
from veba_sdk.events.http import read_cloudevent

SPECS = Path(__file__).parent.parent / "specs" / "cloudevents"
EVENTS = Path(__file__).parent.parent / "fixtures" / "veba-events"


ENTER = "EnteredMaintenanceModeEvent__data-only__kn-pcli-hostmaint-alarms.json"
DRS_STRUCTURED_V08 = "DrsVmPoweredOnEvent__v0.8-vspheresource__structured-ce__kn-py-vm-attr.json"
DRS_STRUCTURED_V07 = "DrsVmPoweredOnEvent__v0.7-router__structured-ce__kn-py-vm-attr.json"
HA_EVENTEX = (
    "EventEx_com.vmware.vc.HA.ClusterFailoverActionCompletedEvent__data-only__"
    "kn-pcli-ha-restarted-vms.json"
)


def _conformance_cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted((SPECS / "conformance").glob("yaml_v1*.yaml")):
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc:
                doc["_id"] = f"{path.stem}-{index}"
                cases.append(doc)
    return cases


def _request_for(case: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """Build the HTTP request the conformance tool would send for a case."""
    attributes = dict(case["ContextAttributes"])
    extensions = attributes.pop("Extensions", None) or {}
    attributes = {k: str(v) for k, v in attributes.items() if v is not None}
    data = case.get("Data")
    mode = case.get("Mode", "binary")
    if mode == "structured":
        body_obj: dict[str, Any] = {**attributes, **{k: str(v) for k, v in extensions.items()}}
        if data is not None:
            body_obj["data"] = json.loads(data)
        return {"content-type": "application/cloudevents+json; charset=UTF-8"}, json.dumps(
            body_obj
        ).encode()
    headers = {f"ce-{k}": v for k, v in attributes.items() if k != "datacontenttype"}
    headers.update({f"ce-{k}": str(v).strip() for k, v in extensions.items()})
    if "datacontenttype" in attributes:
        headers["content-type"] = attributes["datacontenttype"]
    return headers, (data or "").encode()


@pytest.mark.parametrize("case", _conformance_cases(), ids=lambda c: c["_id"])
def test_conformance_cases_decode_like_the_sdk(case: dict[str, Any]) -> None:
    headers, body = _request_for(case)
    attributes, data, _ = read_cloudevent(headers, body)
    sdk_event = from_http(headers, body)
    sdk_attributes = {k: str(v) for k, v in sdk_event.get_attributes().items()}
    assert attributes["id"] == sdk_attributes["id"]
    assert attributes["type"] == sdk_attributes["type"]
    assert attributes["source"] == sdk_attributes["source"]
    for key, value in sdk_attributes.items():
        if key in ("specversion", "time"):
            continue
        assert str(attributes[key]) == value, key
    if case.get("Data") and case.get("Mode", "binary") == "structured":
        assert data == json.loads(case["Data"])
    elif case.get("Data"):
        assert data == case["Data"].encode()


def _vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (SPECS / "header-percent-encoding-vectors.json").read_text()
    )
    return loaded


@pytest.mark.parametrize("vector", _vectors()["decode"], ids=lambda v: v["note"][:40])
def test_header_percent_decoding_vectors(vector: dict[str, Any]) -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/s",
        "ce-type": "t",
        "ce-subject": vector["header"],
    }
    if vector.get("error"):
        with pytest.raises(InvalidEvent, match="ce-subject"):
            read_cloudevent(headers, b"{}")
    else:
        attributes, _, _ = read_cloudevent(headers, b"{}")
        assert attributes["subject"] == vector["decoded"]


@pytest.mark.parametrize("vector", _vectors()["encode"], ids=lambda v: v["note"][:40])
def test_encoded_headers_round_trip(vector: dict[str, Any]) -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/s",
        "ce-type": "t",
        "ce-subject": vector["encoded"],
    }
    attributes, _, _ = read_cloudevent(headers, b"{}")
    assert attributes["subject"] == vector["decoded"]


def _vsphere_attributes(name: str, key: int = 1) -> dict[str, str]:
    return {
        "specversion": "1.0",
        "id": str(key),
        "source": "https://vcenter.local/sdk",
        "type": f"com.vmware.vsphere.{name}.v0",
        "eventclass": "event",
        "vsphereapiversion": "8.0.3.0",
        "datacontenttype": "application/json",
    }


def _router_attributes(name: str, category: str = "event") -> dict[str, str]:
    return {
        "specversion": "1.0",
        "id": "08179137-b8e0-4973-b05f-8f212bf5003b",
        "source": "https://vcenter.local/sdk",
        "type": f"com.vmware.event.router/{category}",
        "subject": name,
        "datacontenttype": "application/json",
    }


def test_binary_vsphere_source_request() -> None:
    data = load_payload(ENTER)
    headers, body = to_binary(CloudEvent(_vsphere_attributes("EnteredMaintenanceModeEvent"), data))
    envelope = decode_http(headers, body)
    assert envelope.name == "EnteredMaintenanceModeEvent"
    assert envelope.category == "event"
    assert envelope.producer == "vsphere-source"
    assert envelope.attributes["vsphereapiversion"] == "8.0.3.0"
    assert envelope.event.host is not None
    assert envelope.event.host.name == "esx02.cl.vmweventbroker.io"
    assert envelope.data == data


def test_three_shapes_give_equal_events() -> None:
    data = load_payload(ENTER)
    name = "EnteredMaintenanceModeEvent"
    binary = decode_http(*to_binary(CloudEvent(_vsphere_attributes(name), data)))
    structured = decode_http(*to_structured(CloudEvent(_router_attributes(name), data)))
    # VEBA's OpenFaaS processor: structured JSON, no CloudEvents content type at all.
    openfaas_body = json.dumps({**_router_attributes(name), "data": data}).encode()
    openfaas = decode_http({"Content-Type": "application/json"}, openfaas_body)
    assert binary.event == structured.event == openfaas.event
    assert binary.producer == "vsphere-source"
    assert structured.producer == openfaas.producer == "router"


def test_structured_fixtures_of_both_producers() -> None:
    v08 = decode_http(
        {"content-type": "application/cloudevents+json"}, (EVENTS / DRS_STRUCTURED_V08).read_bytes()
    )
    v07 = decode_http(
        {"content-type": "application/cloudevents+json"}, (EVENTS / DRS_STRUCTURED_V07).read_bytes()
    )
    assert v08.name == v07.name == "DrsVmPoweredOnEvent"
    assert v08.producer == "vsphere-source"
    assert v07.producer == "router"
    assert v08.event.vm is not None
    assert v08.event.vm.vm is not None
    assert v08.event.vm.vm.value == "vm-596"


def test_eventex_in_both_shapes() -> None:
    data = load_payload(HA_EVENTEX)
    type_id = data["EventTypeId"]
    router = decode_http(*to_binary(CloudEvent(_router_attributes(type_id, "eventex"), data)))
    attributes = {**_vsphere_attributes(type_id), "eventclass": "eventex"}
    source = decode_http(*to_binary(CloudEvent(attributes, data)))
    for envelope in (router, source):
        assert envelope.name == type_id
        assert envelope.category == "eventex"
        assert type(envelope.event).__name__ == "EventEx"
        assert isinstance(envelope.event, EventEx)
        assert envelope.event.event_type_id == type_id


def test_batch_of_structured_events() -> None:
    data = load_payload(ENTER)
    items = [
        {**_router_attributes("EnteredMaintenanceModeEvent"), "data": data},
        {**_vsphere_attributes("EnteredMaintenanceModeEvent", 7), "data": data},
    ]
    envelopes = decode_http_batch(
        {"content-type": "application/cloudevents-batch+json"}, json.dumps(items).encode()
    )
    assert [e.producer for e in envelopes] == ["router", "vsphere-source"]
    assert decode_http_batch({"content-type": "application/cloudevents-batch+json"}, b"[]") == []


def test_xml_payload_in_binary_mode() -> None:
    attributes = {**_vsphere_attributes("EnteredMaintenanceModeEvent")}
    headers = {f"ce-{k}": v for k, v in attributes.items() if k != "datacontenttype"}
    headers["content-type"] = "application/xml"
    body = (
        b'<EnteredMaintenanceModeEvent xmlns="urn:vim25" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b"<key>42</key><chainId>41</chainId><createdTime>2024-01-02T03:04:05.123456789Z"
        b"</createdTime><userName>root</userName><host><name>esx01</name>"
        b'<host type="HostSystem">host-19</host></host>'
        b"<fullFormattedMessage>hi</fullFormattedMessage></EnteredMaintenanceModeEvent>"
    )
    envelope = decode_http(headers, body)
    assert envelope.event.key == 42
    assert envelope.event.host is not None
    assert envelope.event.host.name == "esx01"
    assert envelope.event.host.host is not None
    assert envelope.event.host.host.value == "host-19"
    assert isinstance(envelope.data, str)


def test_from_cloudevent_accepts_sdk_events() -> None:
    data = load_payload(ENTER)
    event = CloudEvent(_vsphere_attributes("EnteredMaintenanceModeEvent"), data)
    envelope = from_cloudevent(event)
    assert envelope.name == "EnteredMaintenanceModeEvent"
    assert envelope.event.key == data["Key"]


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        ({}, b"", "empty body"),
        ({"content-type": "text/html"}, b"<html/>", "content type"),
        ({"content-type": "application/json"}, b"{", "not valid JSON"),
        ({"content-type": "application/json"}, b"[1]", "JSON object"),
        ({"content-type": "application/json"}, b'{"id": "1"}', "specversion"),
        (
            {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s"},
            b"{}",
            "'type'",
        ),
        (
            # A CloudEvent of any other type decodes (routable by type), but its data must be
            # what its content type says.
            {
                "ce-specversion": "1.0",
                "ce-id": "1",
                "ce-source": "s",
                "ce-type": "x.y",
                "content-type": "application/json",
            },
            b"{",
            "not valid JSON",
        ),
        (
            {
                "ce-specversion": "1.0",
                "ce-id": "1",
                "ce-source": "s",
                "ce-type": "com.vmware.event.router/event",
            },
            b"{}",
            "subject",
        ),
        (
            {
                "ce-specversion": "1.0",
                "ce-id": "1",
                "ce-source": "s",
                "ce-type": "com.vmware.vsphere.VmPoweredOnEvent.v0",
                "ce-subject": "%zz",
            },
            b"{}",
            "percent-encoding",
        ),
        (
            [(b"ce-specversion", b"1.0"), (b"ce-id", b"\xff\xfe"), (b"ce-source", b"s")],
            b"{}",
            "UTF-8",
        ),
        ({"content-type": "application/cloudevents-batch+json"}, b"[]", "batch"),
        ({"content-type": "application/json"}, b"[" * 100_000, "JSON"),
        ({"content-type": "application/json"}, b"x" * ((1 << 20) + 1), "limit"),
    ],
)
def test_bad_requests_raise_one_line_invalid_event(headers: Any, body: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_http(headers, body)
    assert reason in str(info.value)
    assert "\n" not in str(info.value)
