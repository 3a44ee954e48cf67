"""Lambda's metrics: CloudWatch Embedded Metric Format lines, checked against the EMF
specification's document structure, and a cold start that never loads prometheus-client."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from veba_sdk import HandlerError, Router
from veba_sdk.adapters import aws_lambda
from veba_sdk.metrics import EMFMetrics
from veba_sdk.testing import make_event, to_eventbridge

SRC = Path(__file__).resolve().parents[2] / "src"

# The EMF specification's document structure ("Specification: Embedded metric format",
# Amazon CloudWatch User Guide), restated as JSON Schema: the root's _aws metadata object, its
# MetricDirective objects, their DimensionSets (at most 30 names) and MetricDefinitions (at most
# 100; a Unit from the spec's list; StorageResolution 1 or 60). Directive members are closed.
UNITS = [
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
]  # fmt: skip
EMF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "CloudWatchMetrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "additionalProperties": False,
                        "properties": {
                            "Namespace": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "Dimensions": {
                                "type": "array",
                                "items": {
                                    "type": "array",
                                    "maxItems": 30,
                                    "items": {"type": "string", "minLength": 1, "maxLength": 250},
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "Name": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": 1024,
                                        },
                                        "Unit": {"enum": UNITS},
                                        "StorageResolution": {"enum": [1, 60]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def check_emf(doc: dict[str, Any]) -> None:
    """One line is an EMF document: the schema, and every target member at the root (a
    dimension's value a string, a metric's value a number or at most 100 numbers)."""
    jsonschema.validate(doc, EMF_SCHEMA)
    for directive in doc["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for name in dimension_set:
                assert isinstance(doc[name], str), name
        for metric in directive["Metrics"]:
            value = doc[metric["Name"]]
            values = value if isinstance(value, list) else [value]
            assert len(values) <= 100
            assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def metered_router() -> Router:
    router = Router(idempotency=True)

    @router.on("VmPoweredOnEvent")
    def powered_on(event: Any) -> None:
        """Returns."""

    @router.on("VmPoweredOffEvent")
    def powered_off(event: Any) -> None:
        """Raises."""
        raise RuntimeError("down")

    return router


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    docs = [json.loads(line) for line in stream.getvalue().splitlines()]
    for doc in docs:
        check_emf(doc)
    return docs


def test_emf_lines_per_event_and_handler() -> None:
    out = io.StringIO()
    emf = EMFMetrics("VEBA/test", service="fn", stream=out)
    handle = aws_lambda.handler(metered_router(), metrics=emf)
    on = make_event("VmPoweredOnEvent", key=7)
    assert handle(to_eventbridge(on), None) is None
    assert handle(to_eventbridge(on), None) is None  # the redelivery: a duplicate
    with pytest.raises(HandlerError):
        handle(to_eventbridge(make_event("VmPoweredOffEvent", key=8)), None)
    handle(to_eventbridge(make_event("UserLoginSessionEvent", key=9)), None)

    docs = lines(out)
    events = [d for d in docs if "handler" not in d]
    handlers = [d for d in docs if "handler" in d]
    assert [(d["event"], d["EventsReceived"], d["NoMatch"], d["Duplicate"]) for d in events] == [
        ("VmPoweredOnEvent", 1, 0, 0),
        ("VmPoweredOnEvent", 1, 0, 1),
        ("VmPoweredOffEvent", 1, 0, 0),
        ("UserLoginSessionEvent", 1, 1, 0),
    ]
    assert all(d["producer"] == "router" and d["service"] == "fn" for d in docs)
    assert all(d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "VEBA/test" for d in docs)
    assert [d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for d in events] == [[["service"]]] * 4
    summary = [
        (d["handler"], d["HandlerOk"], d["HandlerFailed"], d["HandlerDuplicate"]) for d in handlers
    ]
    assert summary == [
        ("metered_router.<locals>.powered_on", 1, 0, 0),
        ("metered_router.<locals>.powered_on", 0, 0, 1),
        ("metered_router.<locals>.powered_off", 0, 1, 0),
    ]
    assert all(
        d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "handler"]]
        for d in handlers
    )
    # A duration for the handlers that ran, none for the duplicate that did not.
    assert [("HandlerDuration" in d) for d in handlers] == [True, False, True]
    assert all(d["HandlerDuration"] >= 0 for d in handlers if "HandlerDuration" in d)
    assert len({d["_aws"]["Timestamp"] for d in docs}) >= 1
    assert events[0]["id"] != events[1]["id"]  # the router's random id per delivery


def test_emf_lines_for_an_sqs_batch() -> None:
    out = io.StringIO()
    handle = aws_lambda.handler(metered_router(), metrics=EMFMetrics(stream=out))
    records = [
        {
            "messageId": f"m{i}",
            "eventSource": "aws:sqs",
            "body": json.dumps(to_eventbridge(make_event(name, key=i))),
        }
        for i, name in enumerate(["VmPoweredOnEvent", "VmPoweredOffEvent"])
    ]
    assert handle({"Records": records}, None) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    docs = lines(out)
    assert [d.get("handler", d["event"]) for d in docs] == [
        "VmPoweredOnEvent",
        "metered_router.<locals>.powered_on",
        "VmPoweredOffEvent",
        "metered_router.<locals>.powered_off",
    ]


def test_emf_defaults_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Ops")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "veba-fn")
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    emf = EMFMetrics()
    assert (emf.namespace, emf.service) == ("Ops", "veba-fn")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "mirror")
    assert EMFMetrics().service == "mirror"


COLD = """
import io, json, sys
from veba_sdk import Router
from veba_sdk.adapters.aws_lambda import handler
router = Router()
@router.on("VmPoweredOnEvent")
def on(event): pass
handle = handler(router, metrics=True)
from veba_sdk.testing import make_event, to_eventbridge
handle(to_eventbridge(make_event("VmPoweredOnEvent")), None)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("prometheus_client", "asyncio"))
print(json.dumps({"loaded": [m for m in loaded if m.startswith("prometheus_client")]}))
"""


def test_lambda_cold_start_never_loads_prometheus_client() -> None:
    result = subprocess.run(
        [sys.executable, "-c", COLD],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    out = result.stdout.splitlines()
    assert json.loads(out[-1]) == {"loaded": []}
    emf = [json.loads(line) for line in out if line.startswith('{"_aws"')]
    assert [d.get("handler", d["event"]) for d in emf] == ["VmPoweredOnEvent", "on"]
    for doc in emf:
        check_emf(doc)


def test_a_router_is_observed_once() -> None:
    out = io.StringIO()
    emf = EMFMetrics(stream=out)
    router = metered_router()
    aws_lambda.handler(router, metrics=emf)
    handle = aws_lambda.handler(router, metrics=emf)
    handle(to_eventbridge(make_event("VmPoweredOnEvent", key=1)), None)
    assert [d.get("handler", d["event"]) for d in lines(out)] == [
        "VmPoweredOnEvent",
        "metered_router.<locals>.powered_on",
    ]
    assert EMFMetrics.default() is EMFMetrics.default()
