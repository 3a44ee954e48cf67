"""The echo example through the Knative ASGI app: every fixture, in every producer shape.

Each captured VEBA payload is parsed, wrapped exactly as the event router or the VSphereSource
deliver it (binary and structured CloudEvents, JSON and XML data), posted to
``examples.echo.knative_app:app`` and the logged fields are compared with the raw payload.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from veba_sdk.events import parse_event
from veba_sdk.testing import Encoding, Mode, Producer, make_event, to_cloudevent

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the examples package lives at the repository root
    sys.path.insert(0, str(ROOT))

from asgi_post import post  # noqa: E402
from payloads import SHAPES, load_event, load_payload, unwrap  # noqa: E402

from examples.echo.knative_app import app  # noqa: E402

# The fixture names are longer than a line: these two tables keep their own layout.
# fmt: off
# Captured vCenter payloads (data only, or the data of a structured CloudEvent) -> class.
CASES = {
    "AlarmStatusChangedEvent__data-only__kn-pcli-datastore-usage-email": "AlarmStatusChangedEvent",
    "AlarmStatusChangedEvent__v0.7-router__structured-ce-wrapped-in-.event__kn-go-preemption-README":
        "AlarmStatusChangedEvent",
    "DrsVmPoweredOnEvent__v0.7-router__structured-ce__kn-py-vm-attr": "DrsVmPoweredOnEvent",
    "DrsVmPoweredOnEvent__v0.8-vspheresource__data-only__docs-intro-tanzu-sources-L507":
        "DrsVmPoweredOnEvent",
    "EnteredMaintenanceModeEvent__data-only__kn-pcli-hostmaint-alarms":
        "EnteredMaintenanceModeEvent",
    "ExitMaintenanceModeEvent__data-only__kn-pcli-hostmaint-alarms": "ExitMaintenanceModeEvent",
    "EventEx_com.vmware.applmgmt.backup.job.failed.event__data-only__kn-ps-google-chat": "EventEx",
    "EventEx_com.vmware.cis.tagging.attach__data-only__kn-pcli-nsx-tag-sync": "EventEx",
    "EventEx_com.vmware.vc.HA.ClusterFailoverActionCompletedEvent__data-only__kn-pcli-ha-restarted-vms":
        "EventEx",
    "TaskEvent_VirtualMachine.createSnapshot__data-only__kn-ps-twillio-sms": "TaskEvent",
    "VmPoweredOffEvent__v0.7-router__structured-ce__kn-py-echo": "VmPoweredOffEvent",
    "VmPoweredOnEvent__v0.5-v0.7-router__structured-ce__of-py-invoke-rest-api-L246":
        "VmPoweredOnEvent",
    "VmReconfiguredEvent__data-only__kn-pcli-pg-check": "VmReconfiguredEvent",
    "VmRemovedEvent__data-only__kn-ps-email": "VmRemovedEvent",
}


# Captured structured CloudEvents, posted byte for byte as VEBA's own samples send them.
STRUCTURED = {
    "VmPoweredOffEvent__v0.7-router__structured-ce__kn-py-echo": ("router", "VmPoweredOffEvent"),
    "VmPoweredOffEvent__v0.8-vspheresource__structured-ce__kn-py-echo":
        ("vsphere-source", "VmPoweredOffEvent"),
    "DrsVmPoweredOnEvent__v0.7-router__structured-ce__kn-py-vm-attr":
        ("router", "DrsVmPoweredOnEvent"),
    "DrsVmPoweredOnEvent__v0.8-vspheresource__structured-ce__kn-py-vm-attr":
        ("vsphere-source", "DrsVmPoweredOnEvent"),
    "VmPoweredOnEvent__v0.5-v0.7-router__structured-ce__of-py-invoke-rest-api-L246":
        ("router", "VmPoweredOnEvent"),
}
# fmt: on

ENTITIES = {
    "Datacenter": "datacenter",
    "ComputeResource": "cluster",
    "Host": "host",
    "Vm": "vm",
    "Ds": "datastore",
    "Net": "network",
    "Dvs": "dvs",
}


def _document(stem: str) -> dict[str, Any]:
    document: dict[str, Any] = unwrap(load_event(stem))
    return document


def _payload(stem: str) -> dict[str, Any]:
    """The vCenter event itself (PascalCase JSON) from a fixture of either kind."""
    data: dict[str, Any] = load_payload(stem)
    return data


def _time(text: str) -> datetime:
    """An RFC 3339 time with up to 9 fractional digits, as an aware UTC datetime."""
    head, _, rest = text.rstrip("Z").partition(".")
    moment = datetime.fromisoformat(head).replace(tzinfo=UTC)
    return moment.replace(microsecond=int((rest + "000000")[:6]) if rest else 0)


def _expected(payload: dict[str, Any], class_name: str) -> dict[str, Any]:
    """The fields the echo must log, read straight from the raw payload."""
    fields: dict[str, Any] = {
        "class": class_name,
        "key": payload["Key"],
        "chain_id": payload["ChainId"],
        "created": _time(payload["CreatedTime"]),
    }
    if payload.get("UserName"):
        fields["user"] = payload["UserName"]
    if payload.get("FullFormattedMessage"):
        fields["message"] = payload["FullFormattedMessage"]
    for wire, label in ENTITIES.items():
        argument = payload.get(wire)
        if argument and argument.get("Name"):
            fields[label] = argument["Name"]
    if class_name == "EventEx":
        fields["name"] = payload["EventTypeId"]
        fields["category"] = "eventex"
        fields["type_id"] = payload["EventTypeId"]
        fields["arguments"] = {a["Key"]: a["Value"] for a in payload.get("Arguments") or ()}
    else:
        fields["name"] = class_name
        fields["category"] = "event"
    return fields


def _post(headers: dict[str, str], body: bytes) -> httpx.Response:
    """POST one request to the Knative ASGI app, in process."""
    return post(app, headers, body)


def _logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "examples.echo.handler"]


def _check(record: logging.LogRecord, expected: dict[str, Any]) -> dict[str, Any]:
    """Compare the structured fields of one echo record with ``expected``; return them."""
    fields: dict[str, Any] = dict(record.veba_echo)  # type: ignore[attr-defined]
    created = datetime.fromisoformat(fields.pop("created"))
    assert created == expected["created"]
    want = {k: v for k, v in expected.items() if k != "created"}
    assert {k: fields.get(k) for k in want} == want
    for label in set(ENTITIES.values()) - set(expected):
        assert label not in fields, f"{label} logged but absent from the payload"
    message = record.getMessage()
    assert message.startswith(f"echo name={expected['name']} ")
    for label in ("host", "vm", "datastore", "cluster", "datacenter"):
        if label in expected and " " not in expected[label]:
            assert f" {label}={expected[label]}" in message
    return fields


@pytest.mark.parametrize(("producer", "mode", "encoding"), SHAPES)
@pytest.mark.parametrize("stem", sorted(CASES))
def test_echo_logs_typed_fields_in_every_shape(
    caplog: pytest.LogCaptureFixture,
    stem: str,
    producer: Producer,
    mode: Mode,
    encoding: Encoding,
) -> None:
    """A captured event wrapped by each producer: the echo logs the payload's own values."""
    class_name = CASES[stem]
    payload = _payload(stem)
    event = parse_event(payload, name=class_name)
    headers, body = to_cloudevent(event, producer=producer, mode=mode, encoding=encoding)
    caplog.set_level(logging.INFO, logger="examples.echo.handler")

    response = _post(headers, body)

    assert response.status_code == 200, response.text
    (record,) = _logged(caplog)
    expected = _expected(payload, class_name) | {"producer": producer}
    if producer == "vsphere-source":  # the VSphereSource's CloudEvent id is the event key
        expected["id"] = str(payload["Key"])
    fields = _check(record, expected)
    assert response.json() == fields | {"created": response.json()["created"]}


@pytest.mark.parametrize("stem", sorted(STRUCTURED))
def test_echo_reads_captured_structured_cloudevents(
    caplog: pytest.LogCaptureFixture, stem: str
) -> None:
    """VEBA's own sample CloudEvents, byte for byte, as their README ``curl`` sends them."""
    producer, class_name = STRUCTURED[stem]
    document = _document(stem)
    caplog.set_level(logging.INFO, logger="examples.echo.handler")

    response = _post(
        {"content-type": "application/cloudevents+json"}, json.dumps(document).encode()
    )

    assert response.status_code == 200, response.text
    (record,) = _logged(caplog)
    expected = _expected(document["data"], class_name) | {
        "producer": producer,
        "id": document["id"],
        "source": document["source"],
    }
    _check(record, expected)


@pytest.mark.parametrize(("producer", "mode", "encoding"), SHAPES)
def test_echo_logs_extended_event_type_id_and_data(
    caplog: pytest.LogCaptureFixture, producer: Producer, mode: Mode, encoding: Encoding
) -> None:
    """ExtendedEvent: routed by type id; its data pairs are logged as arguments."""
    event = make_event(
        "ExtendedEvent",
        event_type_id="com.vmware.vcIntegrity.ScanStart",
        data=[{"key": "entityName", "value": "esx01"}],
    )
    headers, body = to_cloudevent(event, producer=producer, mode=mode, encoding=encoding)
    caplog.set_level(logging.INFO, logger="examples.echo.handler")

    response = _post(headers, body)

    assert response.status_code == 200, response.text
    (record,) = _logged(caplog)
    fields = record.veba_echo  # type: ignore[attr-defined]
    assert fields["name"] == fields["type_id"] == "com.vmware.vcIntegrity.ScanStart"
    assert fields["category"] == "extendedevent"
    assert fields["class"] == "ExtendedEvent"
    assert fields["producer"] == producer
    assert fields["managed_object"] == "HostSystem:host-19"
    assert fields["arguments"] == {"entityName": "esx01"}
    assert " type_id=com.vmware.vcIntegrity.ScanStart " in record.getMessage()


def test_echo_answers_unrelated_probes_without_logging(caplog: pytest.LogCaptureFixture) -> None:
    """A body that is no CloudEvent gets a one-line 400 and no echo line."""
    caplog.set_level(logging.INFO, logger="examples.echo.handler")

    response = _post({"content-type": "application/json"}, b'{"hello": "world"}')

    assert response.status_code == 400
    assert "\n" not in response.text.strip()
    assert _logged(caplog) == []
