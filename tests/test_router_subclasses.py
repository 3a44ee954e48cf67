"""Name routes cover subclasses (vCenter's DRS events), exact=True does not, and manifests
subscribe every concrete name a route covers."""

from __future__ import annotations

import pytest
from payloads import load_payload

from veba_sdk import RouteError, Router
from veba_sdk.events import VmPoweredOnEvent, decode_http, from_cloudevent
from veba_sdk.manifests.knative import knative_manifests
from veba_sdk.manifests.openfaas import topics
from veba_sdk.testing import Producer, make_event, to_cloudevent

DRS = load_payload("DrsVmPoweredOnEvent__v0.7")
POWERED_ON_FAMILY = ["DrsVmPoweredOnEvent", "VmPoweredOnEvent", "VmRestartedOnAlternateHostEvent"]


def drs_envelope(producer: Producer) -> object:
    if producer == "router":
        attributes = {
            "specversion": "1.0",
            "id": "1",
            "source": "https://vc01.local/sdk",
            "type": "com.vmware.event.router/event",
            "subject": "DrsVmPoweredOnEvent",
        }
    else:
        attributes = {
            "specversion": "1.0",
            "id": "1",
            "source": "https://vc01.local/sdk",
            "type": "com.vmware.vsphere.DrsVmPoweredOnEvent.v0",
            "eventclass": "event",
        }
    return from_cloudevent(attributes, DRS)


@pytest.mark.parametrize("producer", ["router", "vsphere-source"])
def test_a_drs_power_on_reaches_the_vm_powered_on_handler(producer: Producer) -> None:
    router = Router()
    by_name: list[str] = []
    by_class: list[str] = []
    exact: list[str] = []
    router.on("VmPoweredOnEvent")(lambda event, ctx: by_name.append(ctx.name))
    router.on(VmPoweredOnEvent)(lambda event, ctx: by_class.append(ctx.name))
    router.on("VmPoweredOnEvent", exact=True)(lambda event, ctx: exact.append(ctx.name))
    result = router.dispatch(drs_envelope(producer))
    assert result.matched
    assert len(result.ran) == 2
    assert by_name == by_class == ["DrsVmPoweredOnEvent"]
    assert exact == []
    router.dispatch(decode_http(*to_cloudevent(make_event("VmPoweredOnEvent"), producer)))
    assert by_name == by_class == ["DrsVmPoweredOnEvent", "VmPoweredOnEvent"]
    assert exact == ["VmPoweredOnEvent"]
    # The event is the subclass, typed as such, and an instance of the routed class.
    seen: list[object] = []
    only = Router()
    only.on("VmPoweredOnEvent")(seen.append)
    only.dispatch(drs_envelope(producer))
    assert type(seen[0]).__name__ == "DrsVmPoweredOnEvent"
    assert isinstance(seen[0], VmPoweredOnEvent)


def test_route_kinds() -> None:
    router = Router()
    router.on("VmPoweredOnEvent", "class:HostEvent")(lambda event: None)
    router.on(VmPoweredOnEvent, "EnteredMaintenanceModeEvent", exact=True)(lambda event: None)
    assert [(r.pattern, r.kind) for r in router.routes] == [
        ("VmPoweredOnEvent", "class"),
        ("HostEvent", "class"),
        ("VmPoweredOnEvent", "exact"),
        ("EnteredMaintenanceModeEvent", "exact"),
    ]
    with pytest.raises(RouteError, match="did you mean 'VmPoweredOnEvent'"):
        router.on("VmPowerdOnEvent", exact=True)(lambda event: None)


def test_subscriptions_cover_every_concrete_subclass() -> None:
    router = Router()
    router.on("VmPoweredOnEvent")(lambda event: None)
    assert router.subscribed_names() == (POWERED_ON_FAMILY, [], False)
    assert topics(router) == POWERED_ON_FAMILY
    exact = Router()
    exact.on("VmPoweredOnEvent", exact=True)(lambda event: None)
    assert exact.subscribed_names() == (["VmPoweredOnEvent"], [], False)
    assert topics(exact) == ["VmPoweredOnEvent"]


@pytest.mark.parametrize("producer", ["router", "vsphere-source"])
def test_knative_triggers_subscribe_the_subclasses(producer: Producer) -> None:
    router = Router()
    router.on("VmPoweredOnEvent")(lambda event: None)
    documents = knative_manifests(router, name="fn", image="img", producer=producer)
    filters = [d["spec"]["filter"]["attributes"] for d in documents if d["kind"] == "Trigger"]
    if producer == "router":
        assert sorted(f["subject"] for f in filters) == POWERED_ON_FAMILY
    else:
        assert sorted(f["type"] for f in filters) == [
            f"com.vmware.vsphere.{name}.v0" for name in POWERED_ON_FAMILY
        ]


def test_manifests_name_the_routes_they_cannot_subscribe() -> None:
    from veba_sdk.manifests._selectors import (
        ManifestError,
        selectors_for,
        subscribable,
        unsubscribed_routes,
    )

    router = Router()
    router.on("VmPoweredOnEvent")(lambda event: None)
    router.on("horizon.VLSI_*")(lambda event: None)
    router.on_type("com.example.*", "com.example.*")(lambda event: None)
    # Knative Triggers select both by their CloudEvent type; OpenFaaS topics cannot.
    assert unsubscribed_routes(router, "knative") == {}
    assert list(unsubscribed_routes(router, "openfaas")) == ["horizon.VLSI_*", "com.example.*"]
    assert list(unsubscribed_routes(router, "lambda")) == ["horizon.VLSI_*"]
    assert [s.name for s in selectors_for(router) if s.kind == "vcenter"] == POWERED_ON_FAMILY
    only_others = Router()
    only_others.on_type("com.example.*")(lambda event: None)
    with pytest.raises(ManifestError, match=r"'com\.example\.\*': OpenFaaS topics are"):
        subscribable(only_others, "openfaas")
