"""Knative manifests: CRD schemas, webhook rules, and exact Trigger selection on all 443 classes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from knative_rules import trigger_matches, webhook_errors
from manifest_corpus import ROUTERS, envelopes, routed_here

from veba_sdk import Router
from veba_sdk.config import load_router_config
from veba_sdk.manifests import ManifestError, generate, knative_manifests
from veba_sdk.manifests.knative import trigger_names

SPECS = Path(__file__).parents[1] / "specs" / "knative"
CONFIGS = Path(__file__).parents[1] / "fixtures" / "router-configs"
PRODUCERS = ("router", "vsphere-source")


def _schema(name: str) -> dict[str, Any]:
    crd = yaml.safe_load((SPECS / name).read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


SERVICE_SCHEMA = _schema("serving-service-crd.yaml")
TRIGGER_SCHEMA = _schema("eventing-trigger-crd.yaml")


def _validate(doc: dict[str, Any]) -> None:
    schema = SERVICE_SCHEMA if doc["kind"] == "Service" else TRIGGER_SCHEMA
    jsonschema.Draft7Validator(schema).validate(doc)
    assert webhook_errors(doc) == [], (doc["metadata"]["name"], webhook_errors(doc))


def test_webhook_rules_agree_with_the_recorded_cases() -> None:
    cases = json.loads((SPECS / "trigger-validation-cases.json").read_text())["cases"]
    checked = 0
    for case in cases:
        if not case["crd_schema_valid"]:
            continue  # the CRD schema itself rejects these; the webhook never sees them
        accepted = webhook_errors(case["manifest"]) == []
        assert accepted == case["expected_accepted_by_apiserver"], case["name"]
        checked += 1
    assert checked >= 25


@pytest.mark.parametrize("producer", PRODUCERS)
def test_manifests_pass_crd_schemas_and_webhook_rules(
    routed: tuple[str, Router], producer: str
) -> None:
    _, router = routed
    docs = knative_manifests(
        router, name="veba-fn", image="registry.example/x/fn:1", producer=producer
    )
    assert docs[0]["kind"] == "Service"
    names = [d["metadata"]["name"] for d in docs[1:]]
    assert len(names) == len(set(names))
    for doc in docs:
        _validate(doc)
        assert doc["metadata"]["namespace"] == "vmware-functions"
        if doc["kind"] == "Trigger":
            assert doc["spec"]["broker"] == "default"
            assert doc["spec"]["subscriber"]["ref"]["name"] == "veba-fn"


@pytest.mark.parametrize("producer", PRODUCERS)
def test_triggers_select_exactly_the_routed_events_once(
    routed: tuple[str, Router], producer: str
) -> None:
    label, router = routed
    triggers = knative_manifests(router, name="fn", image="img", producer=producer)[1:]
    wrong: list[str] = []
    for envelope in envelopes(producer):
        hits = [t for t in triggers if trigger_matches(t, envelope.attributes)]
        expected = routed_here(router, envelope)
        if len(hits) != int(expected):
            wrong.append(f"{envelope.name}: {len(hits)} trigger(s), routed={expected}")
    assert wrong == [], f"{label}: {wrong[:10]} ({len(wrong)} wrong)"


def test_each_exact_trigger_selects_only_its_event() -> None:
    router = ROUTERS["mixed"]()
    for producer in PRODUCERS:
        triggers = knative_manifests(router, name="fn", image="img", producer=producer)[1:]
        for trigger in triggers:
            label = trigger["metadata"]["annotations"]["veba-sdk/subscription"]
            selected = {
                e.name for e in envelopes(producer) if trigger_matches(trigger, e.attributes)
            }
            if "*" not in label:
                assert selected == {label}, (producer, label, selected)
            else:
                assert selected, label


def test_exact_names_use_the_legacy_attribute_filter() -> None:
    router = ROUTERS["exact"]()
    router_format = knative_manifests(router, name="fn", image="img")
    assert router_format[1]["spec"]["filter"] == {
        "attributes": {
            "type": "com.vmware.event.router/event",
            "subject": "EnteredMaintenanceModeEvent",
        }
    }
    source = knative_manifests(router, name="fn", image="img", producer="vsphere-source")
    assert source[1]["spec"]["filter"] == {
        "attributes": {"type": "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"}
    }


def test_type_id_globs_use_prefix_filters() -> None:
    triggers = knative_manifests(ROUTERS["typeid"](), name="fn", image="img")[1:]
    by_label = {t["metadata"]["annotations"]["veba-sdk/subscription"]: t for t in triggers}
    assert by_label["com.vmware.vc.HA.*"]["spec"]["filters"] == [
        {"prefix": {"subject": "com.vmware.vc.HA."}}
    ]
    assert by_label["com.vmware.sso.LoginFailure"]["spec"]["filter"] == {
        "attributes": {"subject": "com.vmware.sso.LoginFailure"}
    }


def test_catch_all_is_one_trigger_without_filter() -> None:
    for label in ("catch-all", "star"):
        triggers = knative_manifests(ROUTERS[label](), name="fn", image="img")[1:]
        assert len(triggers) == 1
        assert "filter" not in triggers[0]["spec"]
        assert "filters" not in triggers[0]["spec"]


def test_trigger_names_are_dns_labels_unique_and_deterministic() -> None:
    long_label = "com.vmware.vc." + "VeryLong" * 10 + ".*"
    labels = ["*Event", "Event", long_label, "EnteredMaintenanceModeEvent"]
    names = trigger_names("a-rather-long-service-name", labels)
    assert names == trigger_names("a-rather-long-service-name", labels)
    assert len(set(names)) == len(names)
    for name in names:
        assert len(name) <= 63
        assert name == name.lower()
        assert name[0].isalnum()
        assert name[-1].isalnum()
    assert names[3] == "a-rather-long-service-name-enteredmaintenancemodeevent"


def test_output_is_deterministic_and_follows_the_router_config() -> None:
    config = load_router_config(CONFIGS / "dev__event-router-config-vcenter-knative.yaml")
    first = generate(ROUTERS["mixed"](), config, name="fn", image="img")
    second = generate(ROUTERS["mixed"](), config, name="fn", image="img")
    assert first == second
    assert set(first) == {"service.yaml", "triggers.yaml"}
    triggers = list(yaml.safe_load_all(first["triggers.yaml"]))
    # The config's destination is Broker "rabbit" in "default": the router sends there.
    assert {t["spec"]["broker"] for t in triggers} == {"rabbit"}
    assert {t["metadata"]["namespace"] for t in triggers} == {"default"}
    source = generate(ROUTERS["mixed"](), config, name="fn", image="img", producer="vsphere-source")
    assert {t["spec"]["broker"] for t in yaml.safe_load_all(source["triggers.yaml"])} == {"default"}


def test_invalid_inputs_fail_with_one_line() -> None:
    with pytest.raises(ManifestError, match="DNS-1123"):
        knative_manifests(ROUTERS["exact"](), name="Bad_Name", image="img")
    with pytest.raises(ManifestError, match="no routes"):
        knative_manifests(Router(), name="fn", image="img")
    with pytest.raises(ManifestError, match="reserved"):
        knative_manifests(ROUTERS["exact"](), name="fn", image="img", env={"PORT": "1"})
    with pytest.raises(ManifestError, match="producer"):
        knative_manifests(ROUTERS["exact"](), name="fn", image="img", producer="kafka")
