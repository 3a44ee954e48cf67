"""Routers of every route kind and an event corpus of all 443 classes plus type ids, Horizon
events from both Horizon producers and webhook CloudEvents."""

from __future__ import annotations

import json
from collections.abc import Callable

from veba_sdk import Router
from veba_sdk.events import Envelope, decode_http, event_class_names
from veba_sdk.testing import Producer, make_event, make_horizon_event, to_cloudevent

# EventEx/ExtendedEvent ids beside the catalogue (vSphere 8 ids and two odd shapes that
# exercise class-name globs matching type ids).
TYPE_IDS = (
    ("EventEx", "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent"),
    ("EventEx", "com.vmware.vc.HA.DasHostFailedEvent"),
    ("EventEx", "esx.problem.net.vmnic.linkstate.down"),
    ("EventEx", "com.vmware.sso.LoginFailure"),
    ("EventEx", "com.vmware.cis.tagging.attach"),
    ("EventEx", "VmCustom.thingEvent"),
    ("ExtendedEvent", "com.vmware.vcIntegrity.ScanStart"),
    ("ExtendedEvent", "com.vmware.vc.HA.ExtendedThing"),
)


# Horizon event types (a few of the ~1,000 Horizon audit types) and webhook CloudEvent types.
HORIZON_TYPES = (
    "VLSI_USERLOGGEDIN_REST",
    "VLSI_USERLOGIN_REST_FAILED",
    "BROKER_USERLOGGEDIN",
    "BROKER_USERLOGGEDOUT",
    "ADMIN_USERLOGGEDIN",
)
HORIZON_PRODUCERS: tuple[Producer, ...] = ("router", "horizon-source")
WEBHOOK_TYPES = (
    "com.example.build.finished",
    "com.example.deploy.started",
    "com.vmware.custom.alert",
    "org.acme.order.created",
)


def _handler(event: object) -> None:
    """A route target; the manifests only read the patterns."""


def _router(*patterns: object, default: bool = False) -> Router:
    router = Router()
    router.on(*patterns)(_handler)  # type: ignore[arg-type]
    if default:
        router.default(_handler)
    return router


def _routers() -> dict[str, Callable[[], Router]]:
    from veba_sdk.events import EventEx, HostEvent

    return {
        "exact": lambda: _router("EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent"),
        "class": lambda: _router(HostEvent),
        "glob": lambda: _router("Vm*Event"),
        "suffix-glob": lambda: _router("*Event"),
        "typeid": lambda: _router("com.vmware.vc.HA.*", "com.vmware.sso.LoginFailure"),
        "typeid-overlap": lambda: _router(
            "com.vmware.vc.*", "com.vmware.vc.HA.DasHostFailedEvent", "esx.problem.*"
        ),
        "eventex-class": lambda: _router(EventEx, "com.vmware.vc.HA.*", "VmPoweredOnEvent"),
        "mixed": lambda: _router(
            "DrsVmPoweredOnEvent",
            "Vm*Event",
            HostEvent,
            "com.vmware.vc.HA.*",
            "UserLoginSessionEvent",
        ),
        "contains-glob": lambda: _router("*Failed*"),
        "catch-all": lambda: _router("VmPoweredOnEvent", default=True),
        "star": lambda: _router("*"),
        "horizon-mixed": lambda: _router(
            "VmPoweredOnEvent", "horizon.VLSI_USERLOGGEDIN_REST", "horizon.BROKER_*"
        ),
        "type-mixed": lambda: _typed(
            _router("com.vmware.vc.HA.*", "horizon.VLSI_*"),
            "com.example.*",
            "com.vmware.event.router/eventex",
        ),
        "overlapping-kinds": lambda: _typed(
            _router("*", "horizon.*"),
            "com.vmware.*",
            "com.example.build.finished",
        ),
    }


def _typed(router: Router, *types: str) -> Router:
    router.on_type(*types)(_handler)
    return router


ROUTERS = _routers()


def _corpus() -> list[tuple[str, str, str]]:
    """``(class name, event name override, category)``: all 443 classes and the type ids."""
    items = [(name, "", "") for name in event_class_names()]
    items += [(cls, type_id, "") for cls, type_id in TYPE_IDS]
    return items


_envelopes: dict[str, list[Envelope]] = {}


def envelopes(producer: Producer) -> list[Envelope]:
    """Every corpus event as the producer sends it, decoded (cached per producer)."""
    cached = _envelopes.get(producer)
    if cached is None:
        cached = []
        for class_name, type_id, _ in _corpus():
            event = (
                make_event(class_name, event_type_id=type_id) if type_id else make_event(class_name)
            )
            headers, body = to_cloudevent(event, producer, "binary", "json")
            cached.append(decode_http(headers, body))
        _envelopes[producer] = cached
    return cached


def webhook_cloudevent(ce_type: str, index: int = 0) -> tuple[dict[str, str], bytes]:
    """A CloudEvent as VEBA's webhook provider forwards it: whatever its sender posted."""
    headers = {
        "ce-specversion": "1.0",
        "ce-id": f"webhook-{index}",
        "ce-source": "https://ci.example.com",
        "ce-type": ce_type,
        "ce-subject": f"subject-{index}",
        "content-type": "application/json",
    }
    return headers, json.dumps({"n": index}).encode()


_others: list[Envelope] = []


def other_envelopes() -> list[Envelope]:
    """Every Horizon type from both Horizon producers, and the webhook events, decoded."""
    if not _others:
        for event_type in HORIZON_TYPES:
            event = make_horizon_event(event_type)
            for producer in HORIZON_PRODUCERS:
                _others.append(decode_http(*to_cloudevent(event, producer)))
        for index, ce_type in enumerate(WEBHOOK_TYPES):
            _others.append(decode_http(*webhook_cloudevent(ce_type, index)))
    return _others


def routed_here(router: Router, envelope: Envelope) -> bool:
    """Whether the router would run a handler for the event (``where`` filters aside)."""
    return bool(
        router.handlers_for(
            envelope.name,
            envelope.category,
            type(envelope.event).__name__,
            envelope.attributes["type"],
        )
    )
