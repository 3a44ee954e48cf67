"""The wire-value converters ``parse_event``'s structuring functions call, one per field kind.

Each takes a value as a producer sent it and returns the field's value, or raises :class:`Odd`
carrying what could be read of it (often ``None``): the caller then keeps the raw value in
``event.extra``. :data:`CONVERTERS` holds them by field kind (``"int"``, ``"datetime"``,
``"moref"`` ...); ``_structurers`` adds the argument types' and list kinds' as it meets them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ._catalogue import MANAGED_OBJECT_REFERENCE
from ._models import get_class

__all__ = ["CONVERTERS", "Odd", "list_of", "moref_class", "pick"]

_UTC = UTC
_new = object.__new__


class Odd(Exception):
    """A value of the wrong shape; ``value`` is what could be read of it (often ``None``)."""

    def __init__(self, value: Any = None) -> None:
        self.value = value


# --- scalar converters: return the value, or raise Odd -------------------------------------


def _int(v: Any) -> int | None:
    cls = v.__class__
    if cls is int:
        return v  # type: ignore[no-any-return]
    if cls is str:
        s = v.strip()
        if not s:
            return None
        if s.lstrip("+-").isdigit() and len(s) < 40:
            return int(s)
    elif cls is float and v.is_integer():
        return int(v)
    raise Odd


def _float(v: Any) -> float | None:
    cls = v.__class__
    if cls is float or cls is int:
        return float(v)
    if cls is str:
        s = v.strip()
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            pass
    raise Odd


def _str(v: Any) -> str:
    if isinstance(v, str):
        return str(v)
    raise Odd


def _bool(v: Any) -> bool | None:
    if v.__class__ is bool:
        return bool(v)
    if v.__class__ is str:
        s = v.strip().lower()
        if s in ("true", "1"):
            return True
        if s in ("false", "0"):
            return False
        if not s:
            return None
    raise Odd


_time_re: Any = None


def _time(v: Any) -> datetime | None:
    """RFC 3339 text to an aware UTC datetime; fractions beyond microseconds are truncated."""
    if v.__class__ is str:
        if v[-1:] == "Z" and len(v) >= 20 and v[10] == "T":
            try:
                return datetime.fromisoformat(v)
            except ValueError:
                pass
        return _time_slow(v)
    if isinstance(v, datetime):
        if v.tzinfo is None:
            return v.replace(tzinfo=_UTC)
        return v.astimezone(_UTC)
    raise Odd


def _time_slow(v: str) -> datetime | None:
    global _time_re
    s = v.strip()
    if not s:
        return None
    if _time_re is None:
        import re

        _time_re = re.compile(
            r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,12}))?"
            r"\s*(?:([Zz])|([+-])(\d\d):?(\d\d))?"
        )
    m = _time_re.fullmatch(s)
    if m is None:
        raise Odd
    year, month, day, hour, minute, second, frac, _z, sign, off_h, off_m = m.groups()
    micro = int(frac[:6].ljust(6, "0")) if frac else 0
    try:
        dt = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, _UTC
        )
        if sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            dt = dt - offset if sign == "+" else dt + offset
    except (ValueError, OverflowError):
        raise Odd from None
    return dt


def _any(v: Any) -> Any:
    # govmomi's JSON encoder wraps interface values: {"_typeName": "string", "_value": "x"}.
    if v.__class__ is dict and len(v) == 2 and "_value" in v and "_typeName" in v:
        return v["_value"]
    return v


def _mapping(v: Any) -> dict[str, Any] | None:
    if isinstance(v, dict):
        return v
    if isinstance(v, Mapping):
        return dict(v)
    if v == "":
        return None
    raise Odd


_MO_PASCAL = frozenset(("Type", "Value", "ServerGUID", "_typeName"))
_MO_CAMEL = frozenset(("type", "value", "serverGuid", "_typeName"))
_MO_ANY = {
    "Type": 0, "type": 0, "Value": 1, "value": 1,
    "ServerGUID": 2, "ServerGuid": 2, "serverGuid": 2,
}  # fmt: skip
# The MoRef class, set by moref_class before any structuring function is compiled.
_mo_cls: Any = None


def moref_class() -> Any:
    """The ``ManagedObjectReference`` model, made on first use."""
    global _mo_cls
    if _mo_cls is None:
        _mo_cls = get_class(MANAGED_OBJECT_REFERENCE)
    return _mo_cls


def _moref(v: Any) -> Any:
    if v.__class__ is dict:
        t = v.get("Type")
        val = v.get("Value")
        if t.__class__ is str and val.__class__ is str and len(v) == 2:
            mo = _new(_mo_cls)
            mo.type = t
            mo.value = val
            mo.server_guid = None
            return mo
    return _moref_any(v)


def _moref_any(v: Any) -> Any:
    if v.__class__ is not dict:
        if v == "":
            return None
        raise Odd
    k = v.keys()
    if k <= _MO_PASCAL:
        t = v.get("Type")
        val = v.get("Value")
        guid = v.get("ServerGUID")
        unknown = False
    elif k <= _MO_CAMEL:
        t = v.get("type")
        val = v.get("value")
        guid = v.get("serverGuid")
        unknown = False
    else:
        values, rest = pick(v, _MO_ANY, 3)
        t, val, guid = values
        unknown = bool(rest)
    if t.__class__ is str and val.__class__ is str and (guid is None or guid.__class__ is str):
        moref_class()
        mo = _new(_mo_cls)
        mo.type = t
        mo.value = val
        mo.server_guid = guid or None
        if unknown:
            raise Odd(mo)
        return mo
    raise Odd


def list_of(item: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The converter of a list kind: each item through ``item``, what could be read kept.

    A null or odd item makes the whole list odd (raised with the items that could be read).
    """

    def convert(v: Any) -> tuple[Any, ...] | None:
        if v.__class__ is not list and v.__class__ is not tuple:
            if v == "":
                return None
            raise Odd
        out = []
        odd = False
        for x in v:
            if x is None:
                odd = True
                continue
            try:
                y = item(x)
            except Odd as e:
                odd = True
                y = e.value
            if y is not None:
                out.append(y)
        result = tuple(out)
        if odd:
            raise Odd(result)
        return result

    return convert


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int": _int,
    "float": _float,
    "str": _str,
    "bool": _bool,
    "datetime": _time,
    "any": _any,
    "mapping": _mapping,
    "moref": _moref,
}


def pick(d: Mapping[str, Any], index: dict[str, int], n: int) -> tuple[list[Any], dict[str, Any]]:
    """Values by field position from keys of any casing; unknown keys returned apart."""
    values: list[Any] = [None] * n
    unknown: dict[str, Any] = {}
    for key, value in d.items():
        i = index.get(key)
        if i is None:
            if key != "_typeName":
                unknown[key] = value
        elif values[i] is None:
            values[i] = value
        else:
            unknown[key] = value
    return values, unknown
