"""The aws_event_bridge processor against moto's server mode on 127.0.0.1.

A bus with two rules: the RouterConfig's rule (its pattern selects events) to the queue
``matched``, and a catch-all rule to the queue ``everything``, so an event the processor
should not have sent would show there. A proxy in front of moto drops chosen entries and
reports them failed (``FailedEntryCount``), as a throttled EventBridge does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from processor_standins import ACCOUNT, REGION, EventBridgeStack

from veba_sdk._errors import ConfigError
from veba_sdk.source import DeliveryError, cloudevent_attributes, processor_target
from veba_sdk.source.eventbridge import EventBridgeTarget, eventbridge_event

pytestmark = pytest.mark.slow

PATTERN = {
    "detail-type": [{"prefix": "Enter"}, {"prefix": "Exit"}, {"prefix": "com.example."}],
    "detail": {"data": {"Host": {"Name": [{"prefix": "esx"}]}}},
}
SECRET_KEY = "config-secret-key-value"


@pytest.fixture(scope="module")
def stack() -> Iterator[EventBridgeStack]:
    s = EventBridgeStack(PATTERN)
    yield s
    s.close()


@pytest.fixture
def aws(stack: EventBridgeStack) -> EventBridgeStack:
    """The module's stack with empty queues and a proxy that fails nothing."""
    stack.drain("matched")
    stack.drain("everything")
    stack.proxy.fail = lambda entry: False
    with stack.proxy.lock:
        stack.proxy.put_calls.clear()
        stack.proxy.failed_entries.clear()
        stack.proxy.authorizations.clear()
    return stack


def target(aws: EventBridgeStack, **options: Any) -> EventBridgeTarget:
    return EventBridgeTarget(
        event_bus=aws.bus,
        region=REGION,
        rule_arn=aws.rule_arn,
        access_key="AKIATESTTESTTEST",
        secret_key=SECRET_KEY,
        endpoint_url=aws.proxy.url,
        **options,
    )


def event(name: str, key: int, host: str = "esx01", **kw: Any) -> tuple[dict[str, Any], Any]:
    attributes = cloudevent_attributes(
        producer=kw.pop("producer", "router"),
        name=name,
        category="eventex" if "." in name else "event",
        key=key,
        created="2024-03-01T10:00:00.5Z",
        source="https://127.0.0.1:8989/sdk",
        api_version="8.0.3.0",
    )
    return attributes, {"Key": key, "Host": {"Name": host, "Host": {"Type": "HostSystem"}}}


def keys(events: list[dict[str, Any]]) -> list[int]:
    return [int(e["detail"]["data"]["Key"]) for e in events]


def test_matching_events_arrive_with_source_detail_type_and_detail(aws: EventBridgeStack) -> None:
    items = [
        event("EnteredMaintenanceModeEvent", 1),
        event("VmPoweredOnEvent", 2),  # detail-type not in the pattern
        event("ExitMaintenanceModeEvent", 3),
        event("EnteredMaintenanceModeEvent", 4, host="db01"),  # host not in the pattern
        event("com.example.marker", 5),
    ]
    with target(aws) as t:
        assert t.pattern.matches(eventbridge_event(*items[0], account=ACCOUNT, region=REGION))
        t.deliver_batch(items)
        stats = t.stats.invocations()
    matched = aws.drain("matched")
    assert keys(matched) == [1, 3, 5]
    for sent, (attributes, data) in zip(matched, [items[0], items[2], items[4]], strict=True):
        assert sent["source"] == "https://127.0.0.1:8989/sdk"
        assert sent["detail-type"] == attributes["subject"]
        assert sent["detail"] == {**attributes, "data": data}
    # Unmatched events were never sent: the catch-all rule saw only the matched ones.
    assert keys(aws.drain("everything")) == [1, 3, 5]
    assert [len(call) for call in aws.proxy.put_calls] == [3]
    assert stats == {
        "EnteredMaintenanceModeEvent": {"SuccessCount": 1, "FailureCount": 0},
        "ExitMaintenanceModeEvent": {"SuccessCount": 1, "FailureCount": 0},
        "com.example.marker": {"SuccessCount": 1, "FailureCount": 0},
    }


def test_entries_carry_bus_and_the_vcenter_time(aws: EventBridgeStack) -> None:
    with target(aws) as t:
        t(*event("EnteredMaintenanceModeEvent", 1))
    (entry,) = aws.proxy.put_calls[0]
    assert entry["EventBusName"] == aws.bus
    assert entry["Time"] == 1709287200.5  # the vCenter time, as epoch seconds on the wire
    assert json.loads(entry["Detail"])["subject"] == "EnteredMaintenanceModeEvent"


def test_batches_of_at_most_ten(aws: EventBridgeStack) -> None:
    with target(aws) as t:
        t.deliver_batch([event("EnteredMaintenanceModeEvent", k) for k in range(23)])
    assert [len(call) for call in aws.proxy.put_calls] == [10, 10, 3]
    assert keys(aws.drain("matched")) == list(range(23))


def test_batch_size_one(aws: EventBridgeStack) -> None:
    with target(aws, batch_size=1) as t:
        t.deliver_batch([event("EnteredMaintenanceModeEvent", k) for k in range(3)])
    assert [len(call) for call in aws.proxy.put_calls] == [1, 1, 1]


def test_failed_entries_are_sent_again_and_only_they(
    aws: EventBridgeStack, caplog: pytest.LogCaptureFixture
) -> None:
    failing = {2, 5}
    aws.proxy.fail = lambda entry: json.loads(entry["Detail"])["data"]["Key"] in failing
    items = [event("EnteredMaintenanceModeEvent", k) for k in range(8)]
    with target(aws) as t, caplog.at_level(logging.WARNING, "veba_sdk.source"):
        with pytest.raises(DeliveryError, match="2 of 8 entries failed") as raised:
            t.deliver_batch(items)
        assert raised.value.failed_count == 2
        failing.clear()  # EventBridge recovers; the source retries the same batch
        t.deliver_batch(items)
        stats = t.stats.invocations()["EnteredMaintenanceModeEvent"]
    assert [len(call) for call in aws.proxy.put_calls] == [8, 2]
    assert [json.loads(e["Detail"])["data"]["Key"] for e in aws.proxy.put_calls[1]] == [2, 5]
    assert sorted(keys(aws.drain("matched"))) == list(range(8))
    assert stats == {"SuccessCount": 8, "FailureCount": 2}
    assert "FailedEntryCount 2" in caplog.text
    assert SECRET_KEY not in caplog.text


def test_vsphere_source_shape_uses_the_name_in_its_type(aws: EventBridgeStack) -> None:
    with target(aws) as t:
        t(*event("com.example.vsphere", 9, producer="vsphere-source"))
    (sent,) = aws.drain("matched")
    assert sent["detail-type"] == "com.example.vsphere"
    assert sent["detail"]["type"] == "com.vmware.vsphere.com.example.vsphere.v0"


def test_unknown_rule_and_rule_without_pattern(aws: EventBridgeStack) -> None:
    with pytest.raises(ConfigError, match=r"ruleARN: no rule .*:rule/veba-\w+/nope on event bus"):
        EventBridgeTarget(
            event_bus=aws.bus,
            region=REGION,
            rule_arn=aws.rule_arn.rsplit("/", 1)[0] + "/nope",
            endpoint_url=aws.endpoint,
            access_key="AKIATESTTESTTEST",
            secret_key=SECRET_KEY,
        )
    # Scheduled rules (no pattern) live on the default bus.
    arn = aws.events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")["RuleArn"]
    with pytest.raises(ConfigError, match="has no event pattern"):
        EventBridgeTarget(
            event_bus="default",
            region=REGION,
            rule_arn=arn,
            endpoint_url=aws.endpoint,
            access_key="AKIATESTTESTTEST",
            secret_key=SECRET_KEY,
        )


def write_config(path: Path, bus: str, rule_arn: str, auth: str) -> Path:
    path.write_text(
        f"""apiVersion: event-router.vmware.com/v1alpha1
kind: RouterConfig
metadata: {{name: test}}
eventProvider:
  type: vcenter
  name: vc
  vcenter:
    address: https://127.0.0.1:1/sdk
    insecureSSL: true
    checkpoint: false
    auth: {{type: basic_auth, basicAuth: {{username: u, password: p}}}}
eventProcessor:
  type: aws_event_bridge
  name: aws
  awsEventBridge:
    eventBus: {bus}
    region: {REGION}
    ruleARN: {rule_arn}
    auth:
{auth}
metricsProvider:
  type: default
  name: metrics
  default: {{bindAddress: "127.0.0.1:0"}}
"""
    )
    return path


@pytest.mark.parametrize(
    ("auth", "key_id"),
    [
        (
            "      type: aws_access_key\n      awsAccessKeyAuth:\n"
            f"        accessKey: AKIACONFIGKEY\n        secretKey: {SECRET_KEY}",
            "AKIACONFIGKEY",
        ),
        ("      type: aws_iam_role", "AKIAENVIRONMENT"),  # the default chain: environment
    ],
)
def test_credentials_from_the_config_or_the_default_chain(
    aws: EventBridgeStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    auth: str,
    key_id: str,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.proxy.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "environment-secret")
    deliver = processor_target(write_config(tmp_path / "c.yaml", aws.bus, aws.rule_arn, auth))
    assert isinstance(deliver, EventBridgeTarget)
    assert SECRET_KEY not in repr(deliver)
    deliver(*event("EnteredMaintenanceModeEvent", 1))
    deliver.close()
    assert keys(aws.drain("matched")) == [1]
    seen = [h for h in aws.proxy.authorizations if "Credential=" in h]
    assert seen
    assert all(f"Credential={key_id}/" in h for h in seen)
