"""AWS Lambda adapter: VEBA's EventBridge entries, bare details, SQS batches, hostile input.

The EventBridge events are built the way VEBA's processor builds its ``PutEvents`` entry
(``vmware-event-router/internal/processor/aws/aws_event_bridge.go``: ``Source`` = CloudEvent
source, ``DetailType`` = subject, ``Detail`` = the structured CloudEvent JSON) and, in the moto
test, delivered by moto's own EventBridge through a rule to an SQS queue.
"""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from veba_sdk import Context, HandlerError, InvalidEvent, Router
from veba_sdk.adapters.aws_lambda import LambdaContext, decode_event, handler
from veba_sdk.events import EventEx

EVENTS = Path(__file__).parent.parent / "fixtures" / "veba-events"
ROUTER_CE = "VmPoweredOffEvent__v0.7-router__structured-ce__kn-py-echo.json"
DRS_CE = "DrsVmPoweredOnEvent__v0.7-router__structured-ce__kn-py-vm-attr.json"
SOURCE_CE = "VmPoweredOffEvent__v0.8-vspheresource__structured-ce__kn-py-echo.json"
MAINT_DATA = "EnteredMaintenanceModeEvent__data-only__kn-pcli-hostmaint-alarms.json"
HA_DATA = (
    "EventEx_com.vmware.vc.HA.ClusterFailoverActionCompletedEvent"
    "__data-only__kn-pcli-ha-restarted-vms.json"
)


def load(name: str) -> dict[str, Any]:
    """A fixture from VEBA's repository, parsed."""
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


class FakeContext:
    """A stand-in for the runtime's context object; mypy checks it against the Protocol."""

    function_name = "veba-fn"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


CONTEXT: LambdaContext = FakeContext()


def put_events_entry(
    cloudevent: dict[str, Any], bus: str = "vmware-event-router"
) -> dict[str, Any]:
    """The ``PutEventsRequestEntry`` VEBA's EventBridge processor sends for one CloudEvent."""
    return {
        "Detail": json.dumps(cloudevent),
        "EventBusName": bus,
        "Source": cloudevent["source"],
        "DetailType": cloudevent["subject"],
    }


def delivered(entry: dict[str, Any]) -> dict[str, Any]:
    """The event EventBridge hands a Lambda target for a ``PutEvents`` entry."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "123456789012",
        "time": "2021-05-04T07:33:34Z",
        "region": "eu-central-1",
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }


def bridge(cloudevent: dict[str, Any]) -> dict[str, Any]:
    return delivered(put_events_entry(cloudevent))


def sqs_record(body: Any, message_id: str | None = None, *, fifo: bool = False) -> dict[str, Any]:
    """One SQS record as Lambda's SQS event source mapping delivers it."""
    queue = "veba-events.fifo" if fifo else "veba-events"
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1620113614000"},
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:eu-central-1:123456789012:{queue}",
        "awsRegion": "eu-central-1",
    }


class Recorder:
    """A router with handlers that record what they saw (and fail on request)."""

    def __init__(self) -> None:
        self.router = Router()
        self.seen: list[tuple[str, str, Any]] = []
        self.fail_for: set[str] = set()

        @self.router.on("*")
        def everything(event: Any, ctx: Context) -> None:
            self.seen.append((ctx.name, ctx.id, ctx.platform))
            if ctx.name in self.fail_for:
                raise RuntimeError(f"boom for {ctx.name}")

        @self.router.on("com.vmware.vc.HA.*")
        def ha(event: Any, ctx: Context) -> dict[str, Any]:
            self.seen.append((ctx.name, ctx.id, ctx.category))
            return {"handled": ctx.name}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


# -- EventBridge: the structured CloudEvent in detail --------------------------------------------


@pytest.mark.parametrize("fixture", [ROUTER_CE, DRS_CE, SOURCE_CE])
def test_eventbridge_structured_cloudevent(recorder: Recorder, fixture: str) -> None:
    cloudevent = load(fixture)
    if "subject" not in cloudevent:  # VSphereSource events carry the name in type
        cloudevent["subject"] = cloudevent["type"][len("com.vmware.vsphere.") : -len(".v0")]
    event = bridge(cloudevent)

    assert handler(recorder.router)(event, CONTEXT) is None

    envelope = decode_event(event)
    assert recorder.seen == [(envelope.name, cloudevent["id"], CONTEXT)]
    assert envelope.attributes["source"] == cloudevent["source"] == event["source"]
    assert envelope.data == cloudevent["data"]
    assert envelope.event.key == cloudevent["data"]["Key"]


def test_eventbridge_keeps_every_attribute_and_typed_fields(recorder: Recorder) -> None:
    cloudevent = load(DRS_CE)
    envelope = decode_event(bridge(cloudevent))
    assert envelope.name == "DrsVmPoweredOnEvent"
    assert envelope.producer == "router"
    assert envelope.attributes["knativearrivaltime"] == cloudevent["knativearrivaltime"]
    assert envelope.event.vm is not None
    assert envelope.event.vm.name == cloudevent["data"]["Vm"]["Name"]


def test_eventbridge_detail_with_data_base64(recorder: Recorder) -> None:
    import base64

    cloudevent = load(ROUTER_CE)
    data = cloudevent.pop("data")
    cloudevent["data_base64"] = base64.b64encode(json.dumps(data).encode()).decode()
    handler(recorder.router)(bridge(cloudevent), None)
    assert recorder.seen == [("VmPoweredOffEvent", cloudevent["id"], None)]


def test_a_bare_structured_cloudevent_is_accepted(recorder: Recorder) -> None:
    cloudevent = load(ROUTER_CE)
    handler(recorder.router)(cloudevent, CONTEXT)
    assert recorder.seen == [("VmPoweredOffEvent", cloudevent["id"], CONTEXT)]


def test_handler_return_value_is_the_invocation_result(recorder: Recorder) -> None:
    detail = load(HA_DATA)
    event = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail["EventTypeId"],
        "source": "https://vc01.example.com/sdk",
        "time": "2022-04-25T17:29:49Z",
        "detail": detail,
    }
    result = handler(recorder.router)(event, CONTEXT)
    assert result == {"handled": "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent"}


def test_handler_failure_reraises_for_eventbridge_retry(recorder: Recorder) -> None:
    recorder.fail_for.add("VmPoweredOffEvent")
    with pytest.raises(HandlerError, match="everything") as info:
        handler(recorder.router)(bridge(load(ROUTER_CE)), CONTEXT)
    assert isinstance(info.value.errors[0], RuntimeError)


def test_no_matching_handler_is_acknowledged() -> None:
    router = Router()

    @router.on("VmPoweredOnEvent")
    def only_on(event: Any) -> None:
        raise AssertionError("must not run")

    assert handler(router)(bridge(load(ROUTER_CE)), CONTEXT) is None


# -- EventBridge: a bare vCenter event in detail -------------------------------------------------


def test_bare_detail_named_by_detail_type(recorder: Recorder) -> None:
    detail = load(MAINT_DATA)
    event = {
        "version": "0",
        "id": "0d5d6c8e-4a5c-4d3c-a3a4-0c8f1a4b7b1e",
        "detail-type": "EnteredMaintenanceModeEvent",
        "source": "https://vc01.example.com/sdk",
        "time": "2022-04-20T15:47:33Z",
        "detail": detail,
    }
    handler(recorder.router)(event, CONTEXT)
    envelope = decode_event(event)
    assert recorder.seen == [("EnteredMaintenanceModeEvent", event["id"], CONTEXT)]
    assert envelope.category == "event"
    assert envelope.attributes == {
        "specversion": "1.0",
        "id": event["id"],
        "source": event["source"],
        "type": "com.vmware.event.router/event",
        "subject": "EnteredMaintenanceModeEvent",
        "time": event["time"],
        "datacontenttype": "application/json",
    }
    assert envelope.event.host is not None
    assert envelope.event.host.name == detail["Host"]["Name"]


def test_bare_detail_eventex_type_id(recorder: Recorder) -> None:
    detail = load(HA_DATA)
    event = {
        "detail-type": detail["EventTypeId"],
        "source": "https://vc01.example.com/sdk",
        "id": "e1",
        "detail": detail,
    }
    envelope = decode_event(event)
    assert envelope.category == "eventex"
    assert envelope.name == "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent"
    assert isinstance(envelope.event, EventEx)
    assert envelope.event.event_type_id == envelope.name


def test_bare_detail_extendedevent_and_vsphere_type() -> None:
    detail = {"Key": 7, "EventTypeId": "com.example.ext", "ManagedObject": None, "Data": None}
    event = {"detail-type": "com.example.ext", "source": "vc", "id": "e2", "detail": detail}
    assert decode_event(event).category == "extendedevent"

    vsphere = dict(event, **{"detail-type": "com.vmware.vsphere.VmPoweredOnEvent.v0"})
    vsphere["detail"] = {"Key": 8}
    envelope = decode_event(vsphere)
    assert (envelope.name, envelope.producer) == ("VmPoweredOnEvent", "vsphere-source")


def test_bare_detail_without_eventbridge_id_uses_the_vcenter_key() -> None:
    event = {"detail-type": "VmPoweredOnEvent", "source": "vc", "detail": {"Key": 42}}
    assert decode_event(event).attributes["id"] == "42"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"detail": {"Key": 1}, "source": "vc", "id": "1"}, "detail-type"),
        ({"detail": {"Key": 1}, "detail-type": "VmPoweredOnEvent", "id": "1"}, "source"),
        ({"detail": {}, "detail-type": "VmPoweredOnEvent", "source": "vc"}, "'id'"),
        ({"detail": [1, 2], "detail-type": "VmPoweredOnEvent", "source": "vc"}, "detail"),
        ({"detail": "{not json", "detail-type": "VmPoweredOnEvent", "source": "vc"}, "JSON"),
        ({"Records": "nope"}, "no 'detail'"),
        ({"Records": []}, "no 'detail'"),
        ("just text", "not valid JSON"),
        (None, "JSON object"),
        (12, "JSON object"),
        ({}, "no 'detail'"),
        ({"detail": {"specversion": "1.0"}}, "'id'"),
        ({"detail": {"specversion": "1.0", "id": "1", "source": "s", "type": ""}}, "type"),
        (
            {
                "detail": {
                    "specversion": "1.0",
                    "id": "1",
                    "source": "s",
                    "type": "com.vmware.event.router/event",
                }
            },
            "subject",
        ),
    ],
)
def test_bad_direct_invocation_raises_invalid_event(
    recorder: Recorder, event: Any, reason: str
) -> None:
    with pytest.raises(InvalidEvent) as info:
        handler(recorder.router)(event, CONTEXT)
    assert reason in str(info.value)
    assert "\n" not in str(info.value)
    assert recorder.seen == []


def test_unknown_class_name_is_tolerated_as_its_base(recorder: Recorder) -> None:
    event = {"detail": {"Key": 1}, "detail-type": "NoSuchEvent", "source": "vc", "id": "1"}
    handler(recorder.router)(event, CONTEXT)
    assert recorder.seen == [("NoSuchEvent", "1", CONTEXT)]


# -- SQS batches ----------------------------------------------------------------------------------


def test_sqs_batch_partial_failures(recorder: Recorder) -> None:
    recorder.fail_for.add("DrsVmPoweredOnEvent")
    good = sqs_record(bridge(load(ROUTER_CE)), "m-good")
    failing = sqs_record(bridge(load(DRS_CE)), "m-failing")
    garbage = sqs_record("{definitely not json", "m-garbage")
    not_vcenter = sqs_record({"detail-type": "x", "source": "y", "detail": {"a": 1}}, "m-other")
    direct_ce = sqs_record(load(ROUTER_CE), "m-ce")
    empty = sqs_record("", "m-empty")

    result = handler(recorder.router)(
        {"Records": [good, failing, garbage, not_vcenter, direct_ce, empty]}, CONTEXT
    )

    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "m-failing"},
            {"itemIdentifier": "m-garbage"},
            {"itemIdentifier": "m-other"},
            {"itemIdentifier": "m-empty"},
        ]
    }
    assert [name for name, _, _ in recorder.seen] == [
        "VmPoweredOffEvent",
        "DrsVmPoweredOnEvent",
        "VmPoweredOffEvent",
    ]


def test_sqs_batch_all_good(recorder: Recorder) -> None:
    records = [sqs_record(bridge(load(f))) for f in (ROUTER_CE, DRS_CE)]
    assert handler(recorder.router)({"Records": records}, CONTEXT) == {"batchItemFailures": []}
    assert len(recorder.seen) == 2


def test_sqs_fifo_stops_at_the_first_failure(recorder: Recorder) -> None:
    recorder.fail_for.add("DrsVmPoweredOnEvent")
    records = [
        sqs_record(bridge(load(ROUTER_CE)), "f1", fifo=True),
        sqs_record(bridge(load(DRS_CE)), "f2", fifo=True),
        sqs_record(bridge(load(ROUTER_CE)), "f3", fifo=True),
    ]
    result = handler(recorder.router)({"Records": records}, CONTEXT)
    assert result == {"batchItemFailures": [{"itemIdentifier": "f2"}, {"itemIdentifier": "f3"}]}
    assert [name for name, _, _ in recorder.seen] == ["VmPoweredOffEvent", "DrsVmPoweredOnEvent"]


def test_sqs_record_without_message_id_refuses_the_batch_before_running(
    recorder: Recorder,
) -> None:
    good = sqs_record(bridge(load(ROUTER_CE)))
    nameless = sqs_record(bridge(load(ROUTER_CE)))
    del nameless["messageId"]
    with pytest.raises(InvalidEvent, match="messageId"):
        handler(recorder.router)({"Records": [good, nameless]}, CONTEXT)
    assert recorder.seen == []


# -- moto: EventBridge rule -> SQS -> Lambda ------------------------------------------------------


@pytest.fixture
def aws() -> Iterator[Any]:
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    try:
        with moto.mock_aws():
            yield boto3
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_moto_eventbridge_rule_to_sqs_to_lambda(aws: Any, recorder: Recorder) -> None:
    region = "eu-central-1"
    events = aws.client("events", region_name=region)
    sqs = aws.client("sqs", region_name=region)
    bus = "vmware-event-router"
    events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName="veba-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    # The rule shape VEBA's processor reads its subscriptions from: detail.subject.
    events.put_rule(
        Name="veba-vm-events",
        EventBusName=bus,
        EventPattern=json.dumps(
            {"detail": {"subject": ["VmPoweredOffEvent", "DrsVmPoweredOnEvent"]}}
        ),
    )
    events.put_targets(
        Rule="veba-vm-events", EventBusName=bus, Targets=[{"Id": "sqs", "Arn": queue_arn}]
    )

    recorder.fail_for.add("DrsVmPoweredOnEvent")
    sent = [load(ROUTER_CE), load(DRS_CE), load(MAINT_DATA)]
    unmatched = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "https://vc01.example.com/sdk",
        "type": "com.vmware.event.router/event",
        "subject": "EnteredMaintenanceModeEvent",
        "datacontenttype": "application/json",
        "data": sent.pop(),
    }
    entries = [put_events_entry(ce, bus) for ce in [*sent, unmatched]]
    response = events.put_events(Entries=entries)
    assert response["FailedEntryCount"] == 0

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 2  # the rule let the two subscribed subjects through
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        for m in messages
    ]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert {b["detail-type"] for b in bodies} == {"VmPoweredOffEvent", "DrsVmPoweredOnEvent"}
    assert all(b["source"] == b["detail"]["source"] for b in bodies)

    result = handler(recorder.router)({"Records": records}, CONTEXT)

    failing_id = next(
        m["MessageId"]
        for m, b in zip(messages, bodies, strict=True)
        if b["detail-type"] == "DrsVmPoweredOnEvent"
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": failing_id}]}
    assert sorted(name for name, _, _ in recorder.seen) == [
        "DrsVmPoweredOnEvent",
        "VmPoweredOffEvent",
    ]
    # And each body, handed to the handler directly (an EventBridge -> Lambda target), works.
    recorder.fail_for.clear()
    for body in bodies:
        handler(recorder.router)(body, CONTEXT)
    assert len(recorder.seen) == 4


# -- cold import ----------------------------------------------------------------------------------

FORBIDDEN = ("httpx", "flask", "functions_framework", "uvicorn", "pyVmomi", "werkzeug", "starlette")


def test_cold_import_pulls_in_no_web_stack_or_pyvmomi() -> None:
    code = (
        "import sys, json\n"
        "import veba_sdk.adapters.aws_lambda\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules = json.loads(done.stdout)
    assert "veba_sdk.adapters.aws_lambda" in modules
    loaded = [m for m in modules if m.split(".")[0] in FORBIDDEN]
    assert loaded == []
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert "veba_sdk.adapters.aws_lambda" in imported
    assert [m for m in imported if m.split(".")[0] in FORBIDDEN] == []


# -- hostile input --------------------------------------------------------------------------------

_SCALARS: list[Any] = [None, True, False, 0, -1, 1.5, "", "x", "1.0", "{", "[]", "null", "\udcff"]


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice([*_SCALARS, rng.randint(-(2**70), 2**70), "é" * rng.randint(0, 5)])
    if roll < 0.7:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = [
        "detail",
        "detail-type",
        "source",
        "id",
        "specversion",
        "type",
        "subject",
        "data",
        "Records",
        "body",
        "messageId",
        "eventSource",
        "data_base64",
        "time",
        "Key",
        "x",
    ]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _mutate(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """Delete, replace or retype one random spot of a valid event (recursively)."""
    if isinstance(value, dict) and value and depth < 4:
        value = dict(value)
        key = rng.choice(list(value))
        action = rng.random()
        if action < 0.3:
            del value[key]
        elif action < 0.6:
            value[key] = _random_json(rng)
        else:
            value[key] = _mutate(rng, value[key], depth + 1)
        return value
    if isinstance(value, list) and value and depth < 4:
        value = list(value)
        index = rng.randrange(len(value))
        value[index] = _mutate(rng, value[index], depth + 1)
        return value
    if isinstance(value, str) and value and rng.random() < 0.5:
        cut = rng.randrange(len(value))
        return value[:cut]
    return _random_json(rng)


def _hostile_events(rng: random.Random, count: int) -> Iterator[Any]:
    valid = [bridge(load(ROUTER_CE)), bridge(load(DRS_CE)), load(ROUTER_CE)]
    bare = load(MAINT_DATA)
    valid.append(
        {"detail-type": "EnteredMaintenanceModeEvent", "source": "vc", "id": "1", "detail": bare}
    )
    for index in range(count):
        kind = index % 5
        if kind == 0:
            yield _random_json(rng)
        elif kind in (1, 2):
            yield _mutate(rng, copy.deepcopy(rng.choice(valid)))
        elif kind == 3:
            records = [sqs_record(rng.choice(valid), f"m{i}") for i in range(rng.randint(1, 4))]
            yield {"Records": [_mutate(rng, r) if rng.random() < 0.5 else r for r in records]}
        else:
            body = json.dumps(rng.choice(valid))
            yield {"Records": [sqs_record(body[: rng.randrange(len(body) + 1)], "cut")]}


def test_fuzz_hostile_events_raise_invalid_event_or_report_failures(recorder: Recorder) -> None:
    rng = random.Random(20240611)
    lambda_handler = handler(recorder.router)
    count = 12_000
    outcomes = {"batch": 0, "handled": 0}
    reasons: list[str] = []
    started = time.perf_counter()
    for event in _hostile_events(rng, count):
        try:
            result = lambda_handler(event, CONTEXT)
        except InvalidEvent as exc:
            reasons.append(str(exc))
            continue
        if isinstance(result, dict) and "batchItemFailures" in result:
            ids = {r.get("messageId") for r in event["Records"] if isinstance(r, dict)}
            assert all(f["itemIdentifier"] in ids for f in result["batchItemFailures"])
            outcomes["batch"] += 1
        else:
            outcomes["handled"] += 1
    assert sum(outcomes.values()) + len(reasons) == count
    assert len(reasons) > count // 4
    assert not [r for r in reasons if "\n" in r or not r]
    assert outcomes["batch"] > count // 10
    assert time.perf_counter() - started < 30
