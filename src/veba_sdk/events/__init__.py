"""Typed vCenter events: the 443 generated model classes, ``parse_event`` and ``to_dict``;
Horizon events (:class:`HorizonEvent`) and the EventEx/ExtendedEvent type-id catalogue.

Every class of the vSphere event catalogue is available by its wire name
(``from veba_sdk.events import HostEvent``) and in :data:`EVENT_CLASSES`; classes are created
on first access from the generated catalogue, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._envelope import Envelope, from_cloudevent
from ._models import EVENT_CLASSES, ancestors, event_class_names, get_class, is_event_class
from ._models import is_model_name as _is_model_name
from ._parser import parse_event
from .http import decode_http, decode_http_batch

if TYPE_CHECKING:
    from ._classes import *  # noqa: F403  (the 443 event classes and argument types)
    from ._classes import Event, EventEx, ExtendedEvent, ManagedObjectReference
    from ._dumper import to_dict
    from .horizon import HorizonEvent
    from .type_ids import TypeIdInfo, is_type_id, type_id_info, type_id_names

__all__ = [
    "EVENT_CLASSES",
    "Envelope",
    "Event",
    "EventEx",
    "ExtendedEvent",
    "HorizonEvent",
    "ManagedObjectReference",
    "TypeIdInfo",
    "ancestors",
    "decode_http",
    "decode_http_batch",
    "event_class_names",
    "from_cloudevent",
    "is_event_class",
    "is_type_id",
    "parse_event",
    "to_dict",
    "type_id_info",
    "type_id_names",
]

# Loaded on first access: Horizon's model, the type-id catalogue and to_dict (the dump side)
# are not on every path.
_LAZY = {
    "HorizonEvent": ".horizon",
    "to_dict": "._dumper",
    "TypeIdInfo": ".type_ids",
    "is_type_id": ".type_ids",
    "type_id_info": ".type_ids",
    "type_id_names": ".type_ids",
}


def __getattr__(name: str) -> Any:
    """Model classes by wire name, created on first access."""
    if _is_model_name(name):
        cls = get_class(name)
        globals()[name] = cls
        return cls
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    from ._catalogue import ARGUMENTS, EVENTS, MANAGED_OBJECT_REFERENCE

    return sorted({*globals(), *EVENTS, *ARGUMENTS, MANAGED_OBJECT_REFERENCE})
