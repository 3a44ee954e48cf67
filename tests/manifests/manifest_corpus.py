"""Routers of every route kind and an event corpus of all 443 classes plus type ids."""

from __future__ import annotations

from collections.abc import Callable

from veba_sdk import Router
from veba_sdk.events import Envelope, decode_http, event_class_names
from veba_sdk.testing import make_event, to_cloudevent

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
    }


ROUTERS = _routers()


def _corpus() -> list[tuple[str, str, str]]:
    """``(class name, event name override, category)``: all 443 classes and the type ids."""
    items = [(name, "", "") for name in event_class_names()]
    items += [(cls, type_id, "") for cls, type_id in TYPE_IDS]
    return items


_envelopes: dict[str, list[Envelope]] = {}


def envelopes(producer: str) -> list[Envelope]:
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


def routed_here(router: Router, envelope: Envelope) -> bool:
    """Whether the router would run a handler for the event (``where`` filters aside)."""
    return bool(
        router.handlers_for(envelope.name, envelope.category, type(envelope.event).__name__)
    )
