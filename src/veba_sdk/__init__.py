"""veba-sdk: write VMware Event Broker Appliance functions once, run them everywhere.

>>> from veba_sdk import on
>>> @on("EnteredMaintenanceModeEvent")
... def mark(event, ctx): ...

The public names live here; the modules they come from are private.
"""

from __future__ import annotations

from ._context import Context, Reply
from ._errors import HandlerError, InvalidEvent, RouteError, VebaError
from ._idempotency import IdempotencyStore, InMemoryIdempotencyStore
from ._router import DispatchResult, DuplicateInProgress, Route, Router

from .events import Envelope, decode_http, from_cloudevent, parse_event, to_dict

__version__ = "0.1.0"

#: The module-level router that :func:`on` and :func:`default` register on.
router = Router()

#: ``@on("EnteredMaintenanceModeEvent")``: register on the module-level router.
on = router.on

#: ``@default``: a catch-all handler on the module-level router.
default = router.default

__all__ = [
    "Context",
    "DispatchResult",
    "DuplicateInProgress",
    "Envelope",
    "HandlerError",
    "IdempotencyStore",
    "InMemoryIdempotencyStore",
    "InvalidEvent",
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
    "parse_event",
    "router",
    "to_dict",
]
