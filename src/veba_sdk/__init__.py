"""veba-sdk: write VMware Event Broker Appliance functions once, run them everywhere.

>>> from veba_sdk import on
>>> @on("EnteredMaintenanceModeEvent")
... def mark(event, ctx): ...

The public names live here; the modules they come from are private. They are loaded on first
access, so ``import veba_sdk.events`` (or a Lambda cold start) pays only for what it uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._context import Context, Reply
    from ._errors import (
        ConfigError,
        DuplicateInProgress,
        HandlerError,
        InvalidEvent,
        MissingExtra,
        RouteError,
        VebaError,
    )
    from ._idempotency import IdempotencyStore, InMemoryIdempotencyStore, Outcome
    from ._result import DispatchResult
    from ._router import Router
    from ._routes import H, Pattern, Predicate, Route
    from .events import Envelope, decode_http, from_cloudevent, parse_event, to_dict

    #: The module-level router that :func:`on` and :func:`default` register on.
    router: Router

    def on(
        *patterns: Pattern,
        where: Predicate | None = None,
        exact: bool = False,
        uncatalogued: bool = False,
    ) -> Callable[[H], H]:
        """Register a handler on the module-level router (see :meth:`Router.on`)."""

    def on_type(*patterns: str, where: Predicate | None = None) -> Callable[[H], H]:
        """Register a type route on the module-level router (see :meth:`Router.on_type`)."""

    def default(handler: H) -> H:
        """Register a catch-all handler on the module-level router."""


_EXPORTS = {
    "Context": "._context",
    "Reply": "._context",
    "ConfigError": "._errors",
    "HandlerError": "._errors",
    "InvalidEvent": "._errors",
    "MissingExtra": "._errors",
    "RouteError": "._errors",
    "VebaError": "._errors",
    "IdempotencyStore": "._idempotency",
    "InMemoryIdempotencyStore": "._idempotency",
    "Outcome": "._idempotency",
    "DispatchResult": "._result",
    "DuplicateInProgress": "._errors",
    "Route": "._routes",
    "Router": "._router",
    "Envelope": ".events",
    "decode_http": ".events",
    "from_cloudevent": ".events",
    "parse_event": ".events",
    "to_dict": ".events",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name], __name__), name)
    elif name in ("router", "on", "on_type", "default"):
        # The module-level default router, made on first use.
        from ._router import Router

        default_router = globals().get("router") or Router()
        globals()["router"] = default_router
        value = {
            "router": default_router,
            "on": default_router.on,
            "on_type": default_router.on_type,
            "default": default_router.default,
        }[name]
    else:
        raise AttributeError(f"module 'veba_sdk' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "ConfigError",
    "Context",
    "DispatchResult",
    "DuplicateInProgress",
    "Envelope",
    "HandlerError",
    "IdempotencyStore",
    "InMemoryIdempotencyStore",
    "InvalidEvent",
    "MissingExtra",
    "Outcome",
    "Reply",
    "Route",
    "RouteError",
    "Router",
    "VebaError",
    "__version__",
    "decode_http",
    "default",
    "from_cloudevent",
    "on",
    "on_type",
    "parse_event",
    "router",
    "to_dict",
]
