"""``to_dict``: an event model back to the JSON mapping its producer sends.

The dump side of ``parse_event``: field names and kinds come from the catalogue, times are
written by :func:`veba_sdk.wire.format_time`, and what ``event.extra`` kept goes back as it came.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..wire import format_time
from ._catalogue import ARGUMENTS, EVENTS, Field
from ._models import all_fields

if TYPE_CHECKING:
    from ._classes import Event

__all__ = ["LEGACY_API", "to_dict"]


def _dump_value(value: Any, kind: str, camel: bool) -> Any:
    if value is None:
        return None
    if kind.startswith("list:"):
        item = kind[5:]
        return [_dump_value(v, item, camel) for v in value]
    if kind == "datetime" and isinstance(value, datetime):
        return format_time(value)
    if kind == "moref" and hasattr(value, "value"):
        if camel:
            mo = {"type": value.type, "value": value.value}
            if value.server_guid is not None:
                mo["serverGuid"] = value.server_guid
        else:
            mo = {"Type": value.type, "Value": value.value}
            if value.server_guid is not None:
                mo["ServerGUID"] = value.server_guid
        return mo
    if kind in ARGUMENTS and hasattr(value, "__veba_fields__"):
        return _dump_object(value, all_fields(kind), camel, None)
    return value


# The PascalCase producers (event router, VSphereSource) were built with govmomi against API
# 8.0.3 at the newest: fields added later (``Tgw``, ``AuditId`` in 9.1) are absent from their
# JSON, so to_dict(style="pascal") writes them only when they hold a value.
LEGACY_API = (8, 0, 3)
_newer: dict[str, bool] = {}


def _newer_than_legacy(since: str) -> bool:
    newer = _newer.get(since)
    if newer is None:
        parts = tuple(int(p) for p in since.split(".") if p.isdigit())
        newer = _newer[since] = parts > LEGACY_API
    return newer


def _dump_object(
    obj: Any, fields: tuple[Field, ...], camel: bool, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        value = getattr(obj, f[0], None)
        if camel:
            if value is None or (f[4] and value in ("", ())):
                continue
            out[f[2]] = _dump_value(value, f[3], True)
        else:
            if value is None and _newer_than_legacy(f[5]):
                continue
            out[f[1]] = _dump_value(value, f[3], False)
    if extra:
        # A raw value kept under the other casing's name goes back under this one's.
        other = {f[1]: f[2] for f in fields} if camel else {f[2]: f[1] for f in fields}
        for key, value in extra.items():
            out[other.get(key, key)] = value
    return out


def to_dict(event: Event, style: str = "pascal") -> dict[str, Any]:
    """The event as the producer's JSON mapping.

    ``style="pascal"`` gives legacy govmomi's shape (event router, VSphereSource): every
    field present, ``null`` for ``None``. ``style="camel"`` gives govmomi >= 0.31's shape:
    lowerCamel keys, ``None`` left out, and empty strings and lists left out of optional
    fields. Times are RFC 3339 in UTC with trailing zeros of the fraction trimmed. Keys kept
    in ``event.extra`` (unknown fields, and raw values that could not be read) are written
    back as received, so a parsed payload round-trips.
    """
    if style not in ("pascal", "camel"):
        raise ValueError(f"style must be 'pascal' or 'camel', not {style!r}")
    name = type(event).__name__
    if name not in EVENTS:
        raise TypeError(f"to_dict expects a veba_sdk.events model, not {name}")
    return _dump_object(event, all_fields(name), style == "camel", event.extra)
