"""Knative manifests: CRD schemas, webhook rules, and exact Trigger selection on all 443 classes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from knative_rules import trigger_matches, webhook_errors
from manifest_corpus import ROUTERS, envelopes, routed_here

from veba_sdk import Router
from veba_sdk.config import load_config, load_router_config
from veba_sdk.manifests import (
    DEFAULT_DELIVERY,
    Delivery,
    ManifestError,
    choose_producer,
    generate,
    knative_manifests,
)
from veba_sdk.manifests.knative import trigger_names
from veba_sdk.testing import Producer
from veba_sdk.wire import CATEGORIES

SPECS = Path(__file__).parents[1] / "specs" / "knative"
CONFIGS = Path(__file__).parents[1] / "fixtures" / "router-configs"
PRODUCERS: tuple[Producer, ...] = ("router", "vsphere-source")


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
    routed: tuple[str, Router], producer: Producer
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
    routed: tuple[str, Router], producer: Producer
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
    triggers = knative_manifests(ROUTERS["catch-all"](), name="fn", image="img")[1:]
    assert len(triggers) == 1
    assert "filter" not in triggers[0]["spec"]
    assert "filters" not in triggers[0]["spec"]


def test_star_is_one_trigger_for_every_vcenter_event() -> None:
    """``"*"`` selects vCenter events only (a default handler sees everything)."""
    (trigger,) = knative_manifests(ROUTERS["star"](), name="fn", image="img")[1:]
    assert trigger["spec"]["filters"] == [
        {"any": [{"exact": {"type": f"com.vmware.event.router/{c}"}} for c in CATEGORIES]}
    ]
    # The VSphereSource's types, whether or not the source's version sends eventclass.
    (trigger,) = knative_manifests(
        ROUTERS["star"](), name="fn", image="img", producer="vsphere-source"
    )[1:]
    assert trigger["spec"]["filters"] == [
        {"prefix": {"type": "com.vmware.vsphere."}},
        {"suffix": {"type": ".v0"}},
    ]


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


# -- delivery ---------------------------------------------------------------------------------


def test_every_trigger_retries_as_vebas_broker_does() -> None:
    docs = knative_manifests(ROUTERS["mixed"](), name="fn", image="img")
    for trigger in docs[1:]:
        _validate(trigger)
        assert trigger["spec"]["delivery"] == {
            "retry": 2,
            "backoffPolicy": "linear",
            "backoffDelay": "PT1S",
        }
    assert Delivery() == DEFAULT_DELIVERY


@pytest.mark.parametrize(
    ("delivery", "expected"),
    [
        (
            Delivery(retry=5, backoff_policy="exponential", backoff_delay="PT0.5S"),
            {"retry": 5, "backoffPolicy": "exponential", "backoffDelay": "PT0.5S"},
        ),
        (
            Delivery(retry=0, backoff_delay="PT2M", dead_letter_sink="http://dlq.example/x"),
            {
                "retry": 0,
                "backoffPolicy": "linear",
                "backoffDelay": "PT2M",
                "deadLetterSink": {"uri": "http://dlq.example/x"},
            },
        ),
        (
            Delivery(dead_letter_sink="ksvc:dead-letters"),
            {
                "retry": 2,
                "backoffPolicy": "linear",
                "backoffDelay": "PT1S",
                "deadLetterSink": {
                    "ref": {
                        "apiVersion": "serving.knative.dev/v1",
                        "kind": "Service",
                        "name": "dead-letters",
                    }
                },
            },
        ),
        (
            Delivery(backoff_delay="P1DT2H", dead_letter_sink="broker:dlq:ops"),
            {
                "retry": 2,
                "backoffPolicy": "linear",
                "backoffDelay": "P1DT2H",
                "deadLetterSink": {
                    "ref": {
                        "apiVersion": "eventing.knative.dev/v1",
                        "kind": "Broker",
                        "name": "dlq",
                        "namespace": "ops",
                    }
                },
            },
        ),
    ],
)
def test_delivery_options_pass_the_crd_and_webhook(
    delivery: Delivery, expected: dict[str, Any]
) -> None:
    for trigger in knative_manifests(
        ROUTERS["typeid"](), name="fn", image="img", delivery=delivery
    )[1:]:
        _validate(trigger)
        assert trigger["spec"]["delivery"] == expected


def test_no_delivery_leaves_it_to_the_broker() -> None:
    for trigger in knative_manifests(ROUTERS["exact"](), name="fn", image="img", delivery=None)[1:]:
        _validate(trigger)
        assert "delivery" not in trigger["spec"]


@pytest.mark.parametrize(
    ("delivery", "message"),
    [
        (Delivery(retry=-1), "retry must be a whole number >= 0"),
        (Delivery(backoff_policy="random"), "backoff policy 'random': use linear or exponential"),
        (Delivery(backoff_delay="1s"), "'1s' is not an ISO 8601 duration"),
        (Delivery(backoff_delay="PT"), "'PT' is not an ISO 8601 duration"),
        (Delivery(dead_letter_sink="deployment:x"), "expected a URL or KIND:NAME"),
        (Delivery(dead_letter_sink="ftp://x/y"), "a URL needs http"),
        (Delivery(dead_letter_sink="ksvc:Bad_Name"), "DNS-1123"),
    ],
)
def test_bad_delivery_fails_in_one_line(delivery: Delivery, message: str) -> None:
    with pytest.raises(ManifestError, match=re.escape(message)) as info:
        knative_manifests(ROUTERS["exact"](), name="fn", image="img", delivery=delivery)
    assert "\n" not in str(info.value)


def test_the_webhook_rules_refuse_bad_delivery() -> None:
    trigger = knative_manifests(ROUTERS["exact"](), name="fn", image="img")[1]
    bad: dict[str, Any]
    for bad in (
        {"retry": -1},
        {"backoffPolicy": "random"},
        {"backoffDelay": "5s"},
        {"deadLetterSink": {}},
        {"deadLetterSink": {"uri": "relative/path"}},
    ):
        broken = {**trigger, "spec": {**trigger["spec"], "delivery": bad}}
        assert webhook_errors(broken), bad


# -- which producer, and the VSphereSource as --config -----------------------------------------

VSPHERE_SPECS = Path(__file__).parents[1] / "specs" / "vsphere-source"
# VEBA's own VSphereSource (files/configs/vsphere-source/templates/vsphere-source-template.yml)
# as ytt renders it.
VEBA_SOURCE = """
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata:
  name: vsphere-source
spec:
  sink:
    ref:
      apiVersion: eventing.knative.dev/v1
      kind: Broker
      name: default
      namespace: vmware-functions
  address: https://vcsa.example.com
  checkpointConfig:
    maxAgeSeconds: 300
    periodSeconds: 10
  skipTLSVerify: false
  secretRef:
    name: vsphere-creds
  serviceAccountName: vsphere-source-sa
  payloadEncoding: application/json
"""


def _triggers(files: dict[str, str]) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(files["triggers.yaml"]))


def test_a_vsphere_source_means_its_producer_and_its_sink_broker() -> None:
    router = ROUTERS["exact"]()
    veba = generate(router, load_config(VEBA_SOURCE), name="fn", image="img")
    triggers = _triggers(veba)
    assert {t["spec"]["broker"] for t in triggers} == {"default"}
    assert {t["metadata"]["namespace"] for t in triggers} == {"vmware-functions"}
    assert triggers[0]["spec"]["filter"] == {
        "attributes": {"type": "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"}
    }
    for trigger in triggers:
        _validate(trigger)
    # The upstream sample names no namespace at all: kubectl's, taken to be "default".
    sample = load_config(VSPHERE_SPECS / "samples_tag-new-vms_source.yaml")
    assert {
        t["metadata"]["namespace"]
        for t in _triggers(generate(router, sample, name="fn", image="img"))
    } == {"default"}
    choice = choose_producer("knative", sample)
    assert choice.producer == "vsphere-source"
    assert "default/default" in choice.reason
    assert "kubectl" in choice.reason


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ("samples_vcsim_source.yaml", "sink is Service 'sockeye', not a Broker"),
        ("README_example_vspheresource.yaml", "sink is the URI 'http://where.to.send.stuff'"),
    ],
)
def test_a_vsphere_source_without_a_broker_sink_is_refused(sample: str, message: str) -> None:
    source = load_config(VSPHERE_SPECS / sample)
    with pytest.raises(ManifestError, match=re.escape(message)):
        generate(ROUTERS["exact"](), source, name="fn", image="img")


def test_the_producer_is_derived_and_an_explicit_one_wins() -> None:
    router_config = load_router_config(CONFIGS / "dev__event-router-config-vcenter-knative.yaml")
    source = load_config(VEBA_SOURCE)
    aws = load_router_config(CONFIGS / "dev__event-router-config-vcenter-aws.yaml")
    cases = [
        (("knative", None, None), "vsphere-source", "current appliance"),
        (("knative", router_config, None), "router", "RouterConfig"),
        (("knative", source, None), "vsphere-source", "VSphereSource"),
        (("knative", router_config, "vsphere-source"), "vsphere-source", "--producer"),
        (("knative", source, "router"), "router", "--producer"),
        (("knative", None, "router"), "router", "--producer"),
        (("openfaas", None, None), "router", "OpenFaaS processor"),
        (("lambda", aws, None), "router", "EventBridge processor"),
        (("gcf", None, None), None, "no event filter"),
    ]
    for (platform, config, explicit), producer, why in cases:
        choice = choose_producer(platform, config, explicit)
        assert (choice.producer, why in choice.reason) == (producer, True), (platform, explicit)
    # Without a config, generate() derives the same: the appliance's VSphereSource.
    files = generate(ROUTERS["exact"](), name="fn", image="img", target="knative")
    assert _triggers(files)[0]["spec"]["filter"]["attributes"]["type"].startswith(
        "com.vmware.vsphere."
    )
    for platform in ("openfaas", "lambda"):
        with pytest.raises(ManifestError, match="event router only"):
            choose_producer(platform, None, "vsphere-source")
        with pytest.raises(ManifestError, match="VSphereSource sends to a Knative sink"):
            generate(ROUTERS["exact"](), source, name="fn", image="img", target=platform)
