"""Turn a pyvmomi event into what VEBA's producers send: a name, a category, JSON data.

The JSON is the legacy govmomi shape (``encoding/json`` of govmomi structs, see DESIGN.md
section 1): every property of the pyvmomi type, base classes first, named with its first
letter upper-cased; managed object references as ``{"Type": ..., "Value": ...}``; unset
values as Go's zero values (``""`` for strings, ``0`` for numbers, ``null`` for structures,
references, times, optional booleans and lists); times in RFC 3339 UTC with ``Z``.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from veba_sdk._extras import needs_extra
from veba_sdk.wire import CATEGORY_FOR_CLASS, format_time

with needs_extra("source", "veba_sdk.source"):
    from pyVmomi import VmomiSupport, vim

_ManagedObject: Any = VmomiSupport.ManagedObject
_DataObject: Any = VmomiSupport.DataObject

__all__ = ["event_category", "event_class_name", "event_name", "rfc3339", "to_govmomi_json"]

# vmodl.DynamicData's own properties have no counterpart in govmomi's JSON.
_SKIPPED = frozenset({"dynamicType", "dynamicProperty"})


def rfc3339(value: dt.datetime) -> str:
    """RFC 3339 in UTC with ``Z``, trailing fractional zeros trimmed (Go): the wire's time."""
    return format_time(value)


def event_class_name(event: Any) -> str:
    """The vSphere class name of an event (``EnteredMaintenanceModeEvent``)."""
    return str(event._wsdlName)


def event_category(event: Any) -> str:
    """``eventex``, ``extendedevent`` or ``event``, as VEBA's producers label events."""
    for class_name, category in CATEGORY_FOR_CLASS.items():
        if isinstance(event, getattr(vim.event, class_name)):
            return category
    return "event"


def event_name(event: Any) -> str:
    """The class name, or for EventEx/ExtendedEvent its ``eventTypeId``."""
    if event_category(event) != "event":
        type_id = getattr(event, "eventTypeId", None)
        if type_id:
            return str(type_id)
    return event_class_name(event)


def _zero(kind: Any) -> Any:
    """Go's zero value in JSON for an unset property of pyvmomi type ``kind``."""
    if isinstance(kind, type):
        if issubclass(kind, bool):
            return None  # optional booleans are *bool in govmomi
        if issubclass(kind, str):
            return ""
        if issubclass(kind, (int, float)):
            return 0
    return None


def _value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, _ManagedObject):
        return {"Type": value._wsdlName, "Value": value._moId}
    if isinstance(value, _DataObject):
        return to_govmomi_json(value)
    if isinstance(value, bool | int | float | str):
        return value  # enums are str subclasses: their value is the wire string
    if isinstance(value, dt.datetime):
        return rfc3339(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list):
        return [_value(item) for item in value] or None
    if isinstance(value, type):
        return getattr(value, "_wsdlName", value.__name__)
    return str(value)


def to_govmomi_json(obj: Any) -> dict[str, Any]:
    """The legacy govmomi JSON mapping of a pyvmomi data object (an event or any argument)."""
    out: dict[str, Any] = {}
    for prop in obj._GetPropertyList():
        name = prop.name
        if name in _SKIPPED:
            continue
        value = getattr(obj, name, None)
        key = name[:1].upper() + name[1:]
        if value is None or (isinstance(value, list) and not value):
            out[key] = _zero(prop.type) if value is None else None
        else:
            out[key] = _value(value)
    return out
