"""Horizon and type routes in the manifests: what each platform can deliver, subscribed exactly.

* Knative: Triggers on the CloudEvent ``type``, one per Horizon producer for Horizon routes;
  every Horizon and webhook event reaches the function once when routed, never otherwise.
* End to end: the Trigger made for a Horizon route selects the very CloudEvent the test kit
  makes for that Horizon event, from the event router and from the HorizonSource, binary and
  structured, and the router then runs the handler.
* OpenFaaS and EventBridge: what they cannot deliver is named with why, the rest still
  subscribed; EventBridge's pattern selects webhook events by ``detail.type`` in moto, which
  also refuses the router's subject-less Horizon entries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from knative_rules import trigger_matches, webhook_errors
from manifest_corpus import (
    HORIZON_PRODUCERS,
    ROUTERS,
    WEBHOOK_TYPES,
    envelopes,
    other_envelopes,
    routed_here,
    webhook_cloudevent,
)
from test_sam import SAM_SCHEMA, _matched_ids

from veba_sdk import Router
from veba_sdk.events import HorizonEvent, decode_http
from veba_sdk.manifests import (
    ManifestError,
    event_pattern,
    generate,
    knative_manifests,
    openfaas_stack,
    rule_arn_subjects,
    rule_arn_types,
    sam_template,
    unsubscribed_routes,
)
from veba_sdk.testing import Mode, Producer, make_horizon_event, to_cloudevent, to_eventbridge

SPECS = Path(__file__).parents[1] / "specs"
TRIGGER_CRD = yaml.safe_load((SPECS / "knative" / "eventing-trigger-crd.yaml").read_text())
TRIGGER_SCHEMA = TRIGGER_CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
STACK_SCHEMA = json.loads((SPECS / "openfaas" / "stack-yml.DERIVED.schema.json").read_text())
KINDS_ROUTERS = ("horizon-mixed", "type-mixed", "overlapping-kinds")
VCENTER_PRODUCERS: tuple[Producer, ...] = ("router", "vsphere-source")


def _triggers(router: Router, producer: str) -> list[dict[str, Any]]:
    docs = knative_manifests(router, name="fn", image="img", producer=producer)
    for doc in docs[1:]:
        jsonschema.Draft7Validator(TRIGGER_SCHEMA).validate(doc)
        assert webhook_errors(doc) == [], (doc["metadata"]["name"], webhook_errors(doc))
    return docs[1:]


def _noop(event: object) -> None:
    """A route target."""


# -- Knative ----------------------------------------------------------------------------------


@pytest.mark.parametrize("producer", VCENTER_PRODUCERS)
@pytest.mark.parametrize("label", sorted(ROUTERS))
def test_triggers_deliver_every_event_kind_exactly_once(label: str, producer: Producer) -> None:
    """vCenter, Horizon (both Horizon producers) and webhook events: one Trigger for each
    routed event, none for the rest."""
    router = ROUTERS[label]()
    triggers = _triggers(router, producer)
    wrong = []
    for envelope in [*envelopes(producer), *other_envelopes()]:
        hits = [t["metadata"]["name"] for t in triggers if trigger_matches(t, envelope.attributes)]
        if len(hits) != int(routed_here(router, envelope)):
            wrong.append(f"{envelope.attributes['type']} {envelope.name}: {hits}")
    assert wrong == [], f"{label}/{producer}: {wrong[:8]} ({len(wrong)} wrong)"


def test_an_exact_horizon_route_is_one_legacy_trigger_per_horizon_producer() -> None:
    router = Router()
    router.on("horizon.VLSI_USERLOGGEDIN_REST")(_noop)
    for producer in VCENTER_PRODUCERS:
        triggers = _triggers(router, producer)
        assert [t["spec"]["filter"] for t in triggers] == [
            {"attributes": {"type": "com.vmware.event.router/horizon.vlsi_userloggedin_rest.v0"}},
            {"attributes": {"type": "com.vmware.horizon.vlsi_userloggedin_rest.v0"}},
        ]
        assert [t["metadata"]["annotations"] for t in triggers] == [
            {
                "veba-sdk/subscription": "horizon.VLSI_USERLOGGEDIN_REST",
                "veba-sdk/horizon-producer": horizon_producer,
            }
            for horizon_producer in HORIZON_PRODUCERS
        ]
        assert [t["metadata"]["name"] for t in triggers] == [
            "fn-horizon-vlsi-userloggedin-rest-router",
            "fn-horizon-vlsi-userloggedin-rest-horizon-source",
        ]


def test_globs_are_prefix_filters() -> None:
    router = Router()
    router.on("horizon.BROKER_*")(_noop)
    router.on_type("com.example.*", "org.acme.order.created")(_noop)
    filters = {
        t["metadata"]["name"]: t["spec"].get("filters") or t["spec"]["filter"]
        for t in _triggers(router, "router")
    }
    assert filters == {
        "fn-horizon-broker-router": [
            {"prefix": {"type": "com.vmware.event.router/horizon.broker_"}},
            {"suffix": {"type": ".v0"}},
        ],
        "fn-horizon-broker-horizon-source": [
            {"prefix": {"type": "com.vmware.horizon.broker_"}},
            {"suffix": {"type": ".v0"}},
        ],
        "fn-com-example": [{"prefix": {"type": "com.example."}}],
        "fn-org-acme-order-created": {"attributes": {"type": "org.acme.order.created"}},
    }


def test_a_type_route_overlapping_other_routes_excludes_their_events() -> None:
    router = ROUTERS["overlapping-kinds"]()
    (broad,) = [
        t
        for t in _triggers(router, "vsphere-source")
        if t["metadata"]["annotations"]["veba-sdk/subscription"] == "com.vmware.*"
    ]
    filters = broad["spec"]["filters"]
    assert filters[0] == {"prefix": {"type": "com.vmware."}}
    # the "*" Trigger's vCenter events and both Horizon producers' events go elsewhere
    assert [next(iter(item)) for item in filters[1:]] == ["not", "not", "not"]


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.parametrize("horizon_producer", HORIZON_PRODUCERS)
def test_the_horizon_trigger_selects_the_kits_cloudevent_and_the_handler_runs(
    horizon_producer: Producer, mode: Mode
) -> None:
    router = Router()
    seen: list[HorizonEvent] = []
    router.on("horizon.VLSI_USERLOGGEDIN_REST")(seen.append)
    router.on("horizon.BROKER_*")(seen.append)
    for event_type in ("VLSI_USERLOGGEDIN_REST", "BROKER_USERLOGGEDOUT", "ADMIN_USERLOGGEDIN"):
        event = make_horizon_event(event_type, user_id="S-1-5-21-1")
        headers, body = to_cloudevent(event, horizon_producer, mode)
        envelope = decode_http(headers, body)
        for producer in VCENTER_PRODUCERS:
            hits = [
                t for t in _triggers(router, producer) if trigger_matches(t, envelope.attributes)
            ]
            if event_type.startswith("ADMIN"):
                assert hits == []
                continue
            (trigger,) = hits
            annotations = trigger["metadata"]["annotations"]
            assert annotations["veba-sdk/horizon-producer"] == horizon_producer
            if event_type.startswith("VLSI"):
                assert trigger["spec"]["filter"]["attributes"] == {
                    "type": envelope.attributes["type"]
                }
        seen.clear()
        router.dispatch(envelope)
        assert [e.id for e in seen] == ([] if event_type.startswith("ADMIN") else [event.id])


def test_a_webhook_trigger_selects_the_webhook_cloudevent() -> None:
    router = Router()
    router.on_type("com.example.build.*")(_noop)
    triggers = _triggers(router, "vsphere-source")
    for index, ce_type in enumerate(WEBHOOK_TYPES):
        envelope = decode_http(*webhook_cloudevent(ce_type, index))
        hits = [t for t in triggers if trigger_matches(t, envelope.attributes)]
        assert len(hits) == int(ce_type.startswith("com.example.build.")), ce_type


def test_knative_leaves_nothing_out() -> None:
    for label in KINDS_ROUTERS:
        assert unsubscribed_routes(ROUTERS[label](), "knative") == {}
    only_horizon = Router()
    only_horizon.on("horizon.*")(_noop)
    assert len(_triggers(only_horizon, "router")) == len(HORIZON_PRODUCERS)


# -- OpenFaaS ---------------------------------------------------------------------------------


def test_openfaas_subscribes_the_vcenter_topics_and_names_what_it_cannot() -> None:
    router = ROUTERS["horizon-mixed"]()
    stack = openfaas_stack(router, name="fn", image="img")
    jsonschema.Draft7Validator(STACK_SCHEMA).validate(stack)
    assert stack["functions"]["fn"]["annotations"]["topic"] == (
        "DrsVmPoweredOnEvent,VmPoweredOnEvent,VmRestartedOnAlternateHostEvent"
    )
    left_out = unsubscribed_routes(router, "openfaas")
    assert list(left_out) == ["horizon.VLSI_USERLOGGEDIN_REST", "horizon.BROKER_*"]
    assert all("no CloudEvent subject" in why for why in left_out.values())
    typed = Router()
    typed.on("VmPoweredOnEvent", exact=True)(_noop)
    typed.on_type("com.example.*")(_noop)
    assert "not types" in unsubscribed_routes(typed, "openfaas")["com.example.*"]
    assert openfaas_stack(typed, name="fn", image="img")["functions"]["fn"]["annotations"] == {
        "topic": "VmPoweredOnEvent"
    }


def test_openfaas_refuses_a_router_with_nothing_it_can_deliver() -> None:
    router = Router()
    router.on("horizon.VLSI_*")(_noop)
    router.on_type("com.example.*")(_noop)
    with pytest.raises(ManifestError, match="no route of this router can be subscribed") as info:
        openfaas_stack(router, name="fn", image="img")
    assert "'horizon.VLSI_*'" in str(info.value)
    assert "'com.example.*'" in str(info.value)
    assert "\n" not in str(info.value)


def test_openfaas_subscribes_webhook_subjects_given_as_extra_topics() -> None:
    router = Router()
    router.on("VmPoweredOnEvent", exact=True)(_noop)
    router.on_type("com.example.*")(_noop)
    stack = openfaas_stack(
        router, name="fn", image="img", extra_topics=["build-finished", "deploy-started"]
    )
    jsonschema.Draft7Validator(STACK_SCHEMA).validate(stack)
    assert stack["functions"]["fn"]["annotations"]["topic"] == (
        "VmPoweredOnEvent,build-finished,deploy-started"
    )
    only_typed = Router()
    only_typed.on_type("com.example.*")(_noop)
    files = generate(only_typed, name="fn", image="img", target="openfaas", topics=["build"])
    assert yaml.safe_load(files["stack.yml"])["functions"]["fn"]["annotations"] == {
        "topic": "build"
    }
    for bad in ("", " build", "a,b"):
        with pytest.raises(ManifestError, match="without commas or surrounding spaces"):
            openfaas_stack(router, name="fn", image="img", extra_topics=[bad])
    with pytest.raises(ManifestError, match="topics are OpenFaaS subscriptions"):
        generate(router, name="fn", image="img", target="knative", topics=["build"])


# -- EventBridge ------------------------------------------------------------------------------


def _entry(cloudevent: dict[str, Any]) -> dict[str, Any]:
    """The router's PutEvents entry: DetailType is the subject, whatever it is."""
    return {
        "Source": cloudevent["source"],
        "DetailType": cloudevent.get("subject", ""),
        "Detail": json.dumps(cloudevent),
    }


def test_sam_selects_type_routes_by_detail_type_and_leaves_horizon_out() -> None:
    router = ROUTERS["type-mixed"]()
    template = sam_template(router, name="fn")
    jsonschema.Draft4Validator(SAM_SCHEMA).validate(template)
    assert event_pattern(router) == {
        "$or": [
            {"detail-type": [{"prefix": "com.vmware.vc.HA."}]},
            {"detail": {"type": ["com.vmware.event.router/eventex", {"prefix": "com.example."}]}},
        ]
    }
    assert list(unsubscribed_routes(router, "lambda")) == ["horizon.VLSI_*"]
    assert rule_arn_types(router) == ["com.example.*", "com.vmware.event.router/eventex"]
    assert rule_arn_subjects(router) == ([], ["com.vmware.vc.HA.*"])
    only_horizon = Router()
    only_horizon.on("horizon.*")(_noop)
    with pytest.raises(ManifestError, match="EventBridge requires: the entry is refused"):
        event_pattern(only_horizon)


def test_the_pattern_in_eventbridge_takes_exactly_the_routed_webhook_and_vcenter_events() -> None:
    router = ROUTERS["type-mixed"]()
    entries, expected = [], set()
    for envelope in envelopes("router")[::7]:
        cloudevent = to_eventbridge(envelope.event)["detail"]
        entries.append(_entry(cloudevent))
        if routed_here(router, envelope):
            expected.add(cloudevent["id"])
    for index, ce_type in enumerate(WEBHOOK_TYPES):
        headers, body = webhook_cloudevent(ce_type, index)
        envelope = decode_http(headers, body)
        cloudevent = {**envelope.attributes, "data": json.loads(body)}
        entries.append(_entry(cloudevent))
        if routed_here(router, envelope):
            expected.add(cloudevent["id"])
    assert any(e.startswith("webhook-") for e in expected)
    assert _matched_ids(event_pattern(router), entries) == expected


def test_eventbridge_refuses_the_routers_horizon_entry() -> None:
    """Why Horizon routes are left out: the router's entry has an empty DetailType."""
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    headers, body = to_cloudevent(make_horizon_event("VLSI_USERLOGGEDIN_REST"), "router")
    envelope = decode_http(headers, body)
    assert "subject" not in envelope.attributes
    cloudevent = {**envelope.attributes, "data": json.loads(body)}
    with moto.mock_aws():
        events = boto3.client("events", region_name="us-west-1")
        response = events.put_events(Entries=[_entry(cloudevent)])
    assert response["FailedEntryCount"] == 1
    assert response["Entries"][0]["ErrorCode"] == "InvalidArgument"


# -- functions-framework and the CLI ---------------------------------------------------------


def test_deploy_script_names_every_route() -> None:
    files = generate(ROUTERS["type-mixed"](), name="fn", image="unused", target="gcf")
    assert (
        "# Subscribes to: com.vmware.vc.HA.*, horizon.VLSI_*, com.example.*, "
        "com.vmware.event.router/eventex\n" in files["deploy.sh"]
    )


def test_veba_manifests_says_what_it_leaves_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from veba_sdk.cli import main

    module = tmp_path / "kinds_handlers.py"
    module.write_text(
        "from veba_sdk import Router\n"
        "router = Router()\n"
        "@router.on('VmPoweredOnEvent', exact=True)\n"
        "@router.on('horizon.VLSI_USERLOGGEDIN_REST')\n"
        "@router.on_type('com.example.*')\n"
        "def handle(event): ...\n"
    )
    for target, left_out in (
        ("knative", []),
        ("openfaas", ["com.example.*", "horizon.VLSI_USERLOGGEDIN_REST"]),  # registration order
        ("lambda", ["horizon.VLSI_USERLOGGEDIN_REST"]),
        ("gcf", []),
    ):
        status = main(["manifests", f"{module}:router", "--target", target])
        out, err = capsys.readouterr()
        assert status == 0, err
        said = [line for line in err.splitlines() if "not subscribed" in line]
        assert [line.split("'")[1] for line in said] == left_out, target
        if target == "knative":
            assert "com.vmware.horizon.vlsi_userloggedin_rest.v0" in out
            assert "com.vmware.event.router/horizon.vlsi_userloggedin_rest.v0" in out
            assert "type: com.example." in out
            assert "a Trigger for each Horizon producer" in err
        if target == "lambda":
            assert "detail.type (com.example.*)" in err
    status = main(
        ["manifests", f"{module}:router", "--target", "openfaas", "--topic", "build-finished"]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "topic: VmPoweredOnEvent,build-finished" in out
    said = [line for line in err.splitlines() if "not subscribed" in line]
    assert [line.split("'")[1] for line in said] == ["horizon.VLSI_USERLOGGEDIN_REST"]
    assert main(["manifests", f"{module}:router", "--target", "knative", "--topic", "x"]) == 2
    assert "--topic: OpenFaaS only" in capsys.readouterr().err
