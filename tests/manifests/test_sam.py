"""SAM template: schema-valid, and its pattern in moto's EventBridge selects exactly the routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from manifest_corpus import ROUTERS, envelopes, routed_here

from veba_sdk import Router
from veba_sdk.config import load_router_config
from veba_sdk.manifests import (
    ManifestError,
    event_pattern,
    generate,
    rule_arn_subjects,
    sam_template,
)
from veba_sdk.testing import to_eventbridge

SPECS = Path(__file__).parents[1] / "specs" / "aws-sam"
CONFIGS = Path(__file__).parents[1] / "fixtures" / "router-configs"
SAM_SCHEMA = json.loads((SPECS / "sam.schema.json").read_text())


def test_template_validates_against_the_sam_schema(routed: tuple[str, Router]) -> None:
    _, router = routed
    template = sam_template(router, name="veba-fn", event_bus="vmware-events")
    jsonschema.Draft4Validator(SAM_SCHEMA).validate(template)
    (function,) = template["Resources"].values()
    assert function["Type"] == "AWS::Serverless::Function"
    event = function["Properties"]["Events"]["VebaEvents"]
    assert event["Type"] == "EventBridgeRule"
    assert event["Properties"]["EventBusName"] == {"Ref": "EventBusName"}
    assert template["Parameters"]["EventBusName"]["Type"] == "String"
    assert template["Parameters"]["EventBusName"]["Default"] == "vmware-events"
    assert template["Transform"] == "AWS::Serverless-2016-10-31"


def _matched_ids(
    pattern: dict[str, Any], entries: list[dict[str, Any]], bus: str = "default"
) -> set[str]:
    """Put every entry on a moto event bus whose rule targets a log group; the ids delivered.

    (A CloudWatch Logs target rather than SQS: moto's SQS receive is quadratic in the queue.)
    """
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        events = boto3.client("events", region_name="us-west-1")
        logs = boto3.client("logs", region_name="us-west-1")
        logs.create_log_group(logGroupName="/veba")
        group_arn = "arn:aws:logs:us-west-1:123456789012:log-group:/veba"
        if bus != "default":
            events.create_event_bus(Name=bus)
        events.put_rule(
            Name="veba", EventPattern=json.dumps(pattern), State="ENABLED", EventBusName=bus
        )
        events.put_targets(Rule="veba", EventBusName=bus, Targets=[{"Id": "log", "Arn": group_arn}])
        for start in range(0, len(entries), 10):
            batch = [{**entry, "EventBusName": bus} for entry in entries[start : start + 10]]
            response = events.put_events(Entries=batch)
            assert response["FailedEntryCount"] == 0
        seen: list[str] = []
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName="/veba")
        for page in pages:
            seen.extend(json.loads(e["message"])["detail"]["id"] for e in page["events"])
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    return set(seen)


def test_pattern_selects_exactly_the_routed_events_in_eventbridge(
    routed: tuple[str, Router],
) -> None:
    label, router = routed
    entries: list[dict[str, Any]] = []
    expected: set[str] = set()
    for envelope in envelopes("router"):
        bridge = to_eventbridge(envelope.event)
        entries.append(
            {
                "Source": bridge["source"],
                "DetailType": bridge["detail-type"],
                "Detail": json.dumps(bridge["detail"]),
            }
        )
        if routed_here(router, envelope):
            expected.add(bridge["detail"]["id"])
    matched = _matched_ids(event_pattern(router), entries)
    assert matched == expected, f"{label}: {len(matched ^ expected)} events differ"


def test_pattern_shapes() -> None:
    assert event_pattern(ROUTERS["exact"]()) == {
        "detail-type": ["EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent"]
    }
    assert event_pattern(ROUTERS["typeid"]()) == {
        "detail-type": ["com.vmware.sso.LoginFailure", {"prefix": "com.vmware.vc.HA."}]
    }
    assert event_pattern(ROUTERS["star"]()) == {
        "detail": {
            "type": [
                "com.vmware.event.router/event",
                "com.vmware.event.router/eventex",
                "com.vmware.event.router/extendedevent",
            ]
        }
    }
    assert event_pattern(ROUTERS["catch-all"]()) == {"detail-type": [{"exists": True}]}


def test_generate_from_an_eventbridge_router_config() -> None:
    config = load_router_config(CONFIGS / "dev__event-router-config-vcenter-aws.yaml")
    files = generate(ROUTERS["mixed"](), config, name="veba-fn", image="unused")
    assert list(files) == ["template.yaml"]
    template = yaml.safe_load(files["template.yaml"])
    jsonschema.Draft4Validator(SAM_SCHEMA).validate(template)
    assert files == generate(ROUTERS["mixed"](), config, name="veba-fn", image="unused")


def _bus_of(files: dict[str, str]) -> tuple[Any, Any]:
    """The rule's ``EventBusName`` and the default of the parameter it refers to."""
    template = yaml.safe_load(files["template.yaml"])
    jsonschema.Draft4Validator(SAM_SCHEMA).validate(template)
    (function,) = template["Resources"].values()
    rule_bus = function["Properties"]["Events"]["VebaEvents"]["Properties"]["EventBusName"]
    return rule_bus, template["Parameters"][rule_bus["Ref"]]["Default"]


def test_the_bus_is_a_parameter_from_the_config_or_the_option() -> None:
    router = ROUTERS["exact"]()
    ref = {"Ref": "EventBusName"}
    # Without a RouterConfig: a parameter whose default is 'default', never a hidden choice.
    assert _bus_of(generate(router, name="fn", image="x", target="lambda")) == (ref, "default")
    named = generate(router, name="fn", image="x", target="lambda", event_bus="vmware-events")
    assert _bus_of(named) == (ref, "vmware-events")
    document = yaml.safe_load((CONFIGS / "dev__event-router-config-vcenter-aws.yaml").read_text())
    document["eventProcessor"]["awsEventBridge"]["eventBus"] = "veba-bus"
    config = load_router_config(document)
    assert _bus_of(generate(router, config, name="fn", image="x")) == (ref, "veba-bus")
    assert _bus_of(generate(router, config, name="fn", image="x", event_bus="veba-bus"))[1] == (
        "veba-bus"
    )
    with pytest.raises(ManifestError, match="not the RouterConfig's eventBus 'veba-bus'"):
        generate(router, config, name="fn", image="x", event_bus="other")


def test_the_rule_on_the_named_bus_gets_what_the_router_puts_there() -> None:
    """The router's PutEvents entry (Source, DetailType = subject, Detail = the CloudEvent, on
    eventBus) reaches the template's rule on that bus."""
    router = ROUTERS["exact"]()
    bus = "vmware-events"
    entries = []
    for envelope in envelopes("router"):
        if envelope.name in ("EnteredMaintenanceModeEvent", "VmPoweredOnEvent"):
            cloudevent = to_eventbridge(envelope.event)["detail"]  # the structured CloudEvent
            entries.append(
                {
                    "Source": cloudevent["source"],
                    "DetailType": cloudevent["subject"],
                    "Detail": json.dumps(cloudevent),
                }
            )
    template = sam_template(router, name="fn", event_bus=bus)
    (function,) = template["Resources"].values()
    pattern = function["Properties"]["Events"]["VebaEvents"]["Properties"]["Pattern"]
    matched = _matched_ids(pattern, entries, bus=template["Parameters"]["EventBusName"]["Default"])
    assert len(entries) == 2
    expected = {json.loads(e["Detail"])["id"] for e in entries if e["DetailType"].startswith("Ent")}
    assert matched == expected


def test_globs_eventbridge_cannot_express_are_refused() -> None:
    router = Router()
    router.on("com.vmware.vc.HA.Das?ostFailedEvent")(lambda event: None)
    with pytest.raises(ManifestError, match="EventBridge"):
        event_pattern(router)


def test_what_the_rule_arn_rule_must_list() -> None:
    """The router forwards exact detail.subject strings only: names to list, and the routes
    whose events must each be listed in full."""
    assert rule_arn_subjects(ROUTERS["exact"]()) == (
        ["EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent"],
        [],
    )
    names, patterns = rule_arn_subjects(ROUTERS["typeid"]())
    assert names == ["com.vmware.sso.LoginFailure"]
    assert patterns == ["com.vmware.vc.HA.*"]
    # Every name listed is one the template's own pattern selects.
    pattern = event_pattern(ROUTERS["exact"]())
    assert set(names) <= set(event_pattern(ROUTERS["typeid"]())["detail-type"][:1])
    assert pattern == {"detail-type": rule_arn_subjects(ROUTERS["exact"]())[0]}
